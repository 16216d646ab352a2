// A rank that throws, exits, returns early or hangs makes the other ranks fail with an error naming it, and
// launchThreads rejects instead of hanging (the vitest timeout is the "no hang" bound).
import { describe, expect, it } from 'vitest';
import { launchThreads, ThreadsLaunchError } from './index.js';
import type { FaultArgs } from '../test/workers/faulty.js';

const WORKER = new URL('../test/workers/faulty.ts', import.meta.url);

async function failure(w: number, args: FaultArgs, timeoutMs = 30_000): Promise<ThreadsLaunchError> {
  const err = await launchThreads(WORKER, w, args, { timeoutMs, graceMs: 2000 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ThreadsLaunchError);
  return err as ThreadsLaunchError;
}

describe('faults in a threads world', () => {
  it('a rank that throws: launchThreads reports it first, with its message, and every other rank names it', async () => {
    const err = await failure(3, { badRank: 1, mode: 'throw' });
    expect(err.firstRank).toBe(1);
    expect(err.failures[0]!.message).toBe('planted failure in rank 1');
    expect(err.message).toMatch(/^launchThreads: rank 1 failed: planted failure in rank 1/);
    const others = err.failures.filter((f) => f.rank !== 1);
    expect(others.map((f) => f.rank).sort()).toEqual([0, 2]);
    // (Under load a peer may still be finishing the first barrier when rank 1 fails.)
    for (const f of others) expect(f.message).toMatch(/threads group: rank 1 failed while rank [02] was in (allGather|barrier)/);
  });

  it('a rank that calls process.exit: reported as an exit with its code, the others name it', async () => {
    const err = await failure(2, { badRank: 1, mode: 'exit' });
    expect(err.firstRank).toBe(1);
    expect(err.failures[0]!.message).toMatch(/exited with code 3 before returning a result/);
    expect(err.failures.find((f) => f.rank === 0)!.message).toMatch(/rank 1 failed while rank 0 was in (allGather|barrier)/);
  });

  it('a rank that returns without joining: the others fail naming it', async () => {
    const err = await failure(2, { badRank: 0, mode: 'return-early' });
    expect(err.failures.map((f) => f.rank)).toEqual([1]);
    expect(err.failures[0]!.message).toMatch(/rank 0 finished without joining allGather/);
  });

  it('a rank that hangs: its peer times out naming it, and the hung rank is terminated', async () => {
    // (On a loaded machine rank 1 may start late enough for rank 0 to time out already in the first barrier.)
    const err = await failure(2, { badRank: 1, mode: 'hang' }, 1500);
    expect(err.firstRank).toBe(0);
    expect(err.failures[0]!.message).toMatch(/timed out after 1500 ms: rank 0 in (allGather|barrier) waiting to receive from rank 1/);
    expect(err.failures[1]!).toMatchObject({ rank: 1 });
    expect(err.failures[1]!.message).toMatch(/terminated 2000 ms after rank 0 failed/);
  });

  it('rejects a module path that is not a URL', async () => {
    await expect(launchThreads('./worker.ts', 2)).rejects.toThrow(/workerModuleUrl must be a file: URL/);
  });
});

// A rank that exits, is killed, throws or hangs: the other ranks exit promptly (no hang) with an error naming it.
// mpirun stops the survivors when a rank dies; they report what they were waiting in and which local peer is gone.
// A hung rank is found by the collective timeout: the survivors ask every peer which operation it last started.
import { beforeAll, describe, expect, it } from 'vitest';
import { requireMpi, runMpi } from './testing.js';
import type { MpiFaultArgs } from '../test/workers/mpi-faulty.js';

const WORKER = new URL('../test/workers/mpi-faulty.ts', import.meta.url);

beforeAll(() => requireMpi());

async function fault(mode: MpiFaultArgs['mode'], timeoutMs = 60_000) {
  // The harness' own limit (60 s) is the "no hang" bound; the collective timeout is far longer unless given.
  const run = await runMpi<string>(3, WORKER, { badRank: 1, mode } satisfies MpiFaultArgs, { env: { DUET_MPI_TIMEOUT_MS: String(timeoutMs) }, timeoutMs: 60_000 });
  expect(run.code, run.stderr).not.toBe(0);
  expect(run.results.filter(Boolean), 'no rank finishes normally').toEqual([]);
  return run.stderr;
}

describe('faults in an mpi world (mpirun -n 3, rank 1 fails)', () => {
  for (const mode of ['exit', 'kill', 'throw'] as const) {
    it(`a rank that ${mode === 'kill' ? 'is killed (SIGKILL)' : mode === 'exit' ? 'calls process.exit(3)' : 'throws'}: ranks 0 and 2 stop while waiting, naming it`, async () => {
      const stderr = await fault(mode);
      for (const r of [0, 2]) expect(stderr).toMatch(new RegExp(`mpi group: rank ${r} stopped by SIGTERM while in (barrier #0|allGather #1); rank 1 \\(pid \\d+ on [^)]+\\) has exited`));
      // mpirun's own report names the failed rank too.
      if (mode === 'kill') expect(stderr).toMatch(/process rank 1 with PID \d+ on node \S+ exited on signal 9/);
      else expect(stderr).toMatch(/The first process to do so was:\s+Process name: \[\[\d+,\d+\],1\]\s+Exit code:\s+(3|1)/);
      if (mode === 'throw') expect(stderr).toMatch(/planted failure in rank 1/);
    });
  }

  it('a rank that hangs (alive, not calling collectives): the others time out naming it and the job ends', async () => {
    const stderr = await fault('hang', 3000);
    const timedOut = (r: number) => new RegExp(`FAULT rank=${r} CollectiveError blamedRank=1: mpi group: timed out after 3000 ms: rank ${r} waited in allGather #1; rank 1 has not joined it \\(its last call: barrier #0\\)`);
    // Ranks 0 and 2 time out at about the same moment; the first to exit makes mpirun stop the other, which then
    // reports the stop instead if its own timeout had not fired yet.
    expect(timedOut(0).test(stderr) || timedOut(2).test(stderr), stderr).toBe(true);
    for (const r of [0, 2]) expect(timedOut(r).test(stderr) || new RegExp(`mpi group: rank ${r} stopped by SIGTERM while in (barrier #0|allGather #1)`).test(stderr), stderr).toBe(true);
  });
});

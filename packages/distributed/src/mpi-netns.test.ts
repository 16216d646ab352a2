// Multi-machine on one machine: two network namespaces joined by a veth pair, one MPI rank in each, mpirun across
// them without ssh (see src/testing/netns.ts). The collectives must equal their closed forms with every byte between
// the ranks crossing the veth over TCP. Needs root and iproute2 (CI has both); fails clearly otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMpiScript, type MpiScriptOut } from '../test/mpi-check.js';
import { requireMpi, runMpi } from './testing.js';
import { createNetnsPair, netnsLauncher, requireNetnsRoot, wireTxBytes, type NetnsPair } from './testing.js';

const WORKER = new URL('../test/workers/mpi-script.ts', import.meta.url);
const FAULTY = new URL('../test/workers/mpi-faulty.ts', import.meta.url);
let pair: NetnsPair | undefined;

beforeAll(() => {
  requireMpi();
  requireNetnsRoot();
  pair = createNetnsPair({ rateMbit: 200 });
  process.once('exit', () => pair?.cleanup()); // also when the run is cut short
});
afterAll(() => pair?.cleanup());

describe('mpi group across two network namespaces (veth, TCP)', () => {
  it('mpirun -n 2, one rank per namespace: collectives equal their closed forms, and the traffic crossed the veth', async () => {
    const p = pair!;
    const before = wireTxBytes(p);
    const run = await runMpi<MpiScriptOut>(2, WORKER, null, { launcher: netnsLauncher(p, 2) });
    expect(run.code, run.stderr).toBe(0);
    checkMpiScript(run.results, 2);
    // Rank 0 ran in namespace A, rank 1 in B: each sees only its own veth end (and lo).
    expect(run.results[0]!.netIfaces).toEqual([p.dev[0], 'lo'].sort());
    expect(run.results[1]!.netIfaces).toEqual([p.dev[1], 'lo'].sort());
    // The 2^20-float all-reduce alone needs each rank's 4 MiB vector to reach the other side in some form.
    const after = wireTxBytes(p);
    const crossed = after[0] - before[0] + (after[1] - before[1]);
    expect(crossed).toBeGreaterThan(4 * 2 ** 20);
  });

  it('mpirun -n 4, two ranks per namespace (shared memory inside one, TCP across): collectives equal their closed forms', async () => {
    const p = pair!;
    const run = await runMpi<MpiScriptOut>(4, WORKER, null, { launcher: netnsLauncher(p, 4, { shm: true }) });
    expect(run.code, run.stderr).toBe(0);
    checkMpiScript(run.results, 4);
    expect(run.results.map((r) => r.netIfaces.find((n) => n !== 'lo'))).toEqual([p.dev[0], p.dev[0], p.dev[1], p.dev[1]]);
  });

  it('a rank killed in the other namespace: the job ends promptly, naming it (mpirun report and the survivor)', async () => {
    const p = pair!;
    const run = await runMpi<string>(2, FAULTY, { badRank: 1, mode: 'kill' }, { launcher: netnsLauncher(p, 2), timeoutMs: 60_000 });
    expect(run.code, run.stderr).not.toBe(0);
    expect(run.results.filter(Boolean)).toEqual([]);
    expect(run.stderr).toMatch(/process rank 1 with PID \d+ on node \S+ exited on signal 9/);
    expect(run.stderr).toMatch(/mpi group: rank 0 stopped by SIGTERM while in (barrier #0|allGather #1)/);
  });
});

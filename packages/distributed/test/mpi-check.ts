// Closed-form checks of test/workers/mpi-script.ts' results, shared by the mpirun and two-namespace tests.
import { expect } from 'vitest';
import { LEN, expected, type ScriptResult } from './script.js';

export type MpiScriptOut = {
  script: ScriptResult;
  late: number[];
  ticksWhileWaiting: number | null;
  concurrent: { gathered: number[][]; sum: number[]; bcast: number[]; ring: number[]; barrier: number };
  largeOk: boolean;
  argErrors: string[];
  sparse: number[][];
  emptyRing: number;
  bytesSent: number;
  netIfaces: string[];
};

function evenCounts(len: number, w: number): number[] {
  return Array.from({ length: w }, (_, i) => Math.floor((len * (i + 1)) / w) - Math.floor((len * i) / w));
}

export function checkMpiScript(results: MpiScriptOut[], w: number): void {
  expect(results).toHaveLength(w);
  const ranks = Array.from({ length: w }, (_, q) => q);
  results.forEach((res, r) => {
    const s = res.script;
    const exp = expected(w, r);
    expect(s.gathered).toEqual(exp.gathered);
    expect(s.sum).toEqual(exp.sum);
    s.mean.forEach((v, i) => expect(v).toBeCloseTo(exp.mean[i]!, 3));
    expect(s.scattered).toEqual(exp.scattered);
    expect(s.broadcast).toEqual(exp.broadcast);
    expect(s.ring).toEqual(exp.ring);
    expect(s.big).toEqual(exp.big);
    const blocks = ranks.map((q) => q + 1);
    expect(s.gatherBytes).toBe(4 * (blocks.reduce((a, b) => a + b, 0) - blocks[(r + 1) % w]!));
    const c = evenCounts(LEN, w);
    expect(s.reduceBytes).toBe(4 * (LEN - c[r]! + LEN - c[(r + 1) % w]!));

    expect(res.late).toEqual([(w * (w + 1)) / 2]);
    // The event loop ran while this rank's all-reduce waited ~400 ms for rank 0 (MPI runs on its own thread).
    if (r !== 0) expect(res.ticksWhileWaiting!).toBeGreaterThan(5);
    expect(res.concurrent.gathered).toEqual(ranks.map((q) => Array.from({ length: 2 * q + 1 }, (_, i) => 100 * q + i)));
    expect(res.concurrent.sum).toEqual(Array.from({ length: 11 }, (_, i) => ranks.reduce((a, q) => a + 100 * q + i, 0)));
    expect(res.concurrent.bcast).toEqual([0, 1, 2]);
    expect(res.concurrent.ring).toEqual(Array.from({ length: ((r - 1 + w) % w) + 1 }, (_, i) => 100 * ((r - 1 + w) % w) + i));
    expect(res.largeOk).toBe(true);
    expect(res.argErrors).toEqual([`TypeError: allReduce: expected a Float32Array, got an array`, `Error: sendRecv to: expected a rank in [0, ${w}), got ${w}`]);
    expect(res.sparse).toEqual(ranks.map((q) => (q % 2 ? [] : [q, q])));
    expect(res.emptyRing).toBe(0);
  });
}

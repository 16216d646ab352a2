// The in-process ProcessGroup: collectives deliver the right data and count ring-algorithm bytes.
import { describe, expect, it } from 'vitest';
import { createSimulatedGroups } from './index.js';

const f32 = (...v: number[]) => Float32Array.from(v);

describe('createSimulatedGroups', () => {
  it('allGather returns every rank’s buffer (copies) and each rank sends W−1 blocks', async () => {
    const gs = createSimulatedGroups(3);
    const inputs = gs.map((g) => f32(g.rank, g.rank + 10));
    const out = await Promise.all(gs.map((g, r) => g.allGather(inputs[r]!)));
    for (const o of out) expect(o.map((a) => Array.from(a))).toEqual([[0, 10], [1, 11], [2, 12]]);
    out[0]![1]![0] = 99; // no aliasing between ranks
    expect(out[1]![1]![0]).toBe(1);
    expect(gs.map((g) => g.bytesSent)).toEqual([16, 16, 16]);
  });
  it('allReduce sums (or averages) and sends 2·(W−1)/W of the buffer per rank', async () => {
    const gs = createSimulatedGroups(4);
    const out = await Promise.all(gs.map((g) => g.allReduce(f32(1, 2, 3, 4, 5, 6, 7, 8).map((x) => x * (g.rank + 1)))));
    for (const o of out) expect(Array.from(o)).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
    expect(gs.map((g) => g.bytesSent)).toEqual([48, 48, 48, 48]); // 2·3·(8/4)·4 bytes
    const mean = await Promise.all(gs.map((g) => g.allReduce(f32(g.rank, 4), 'mean')));
    for (const o of mean) expect(Array.from(o)).toEqual([1.5, 4]);
  });
  it('reduceScatter gives each rank its reduced slice and sends every other chunk once', async () => {
    const gs = createSimulatedGroups(2);
    const out = await Promise.all(gs.map((g) => g.reduceScatter!(f32(1, 2, 3, 4, 5), [2, 3])));
    expect(out.map((o) => Array.from(o))).toEqual([[2, 4], [6, 8, 10]]);
    expect(gs.map((g) => g.bytesSent)).toEqual([12, 8]);
    await expect(gs[0]!.reduceScatter!(f32(1), [1, 1])).rejects.toThrow(/counts must have 2 entries summing to 1/);
  });
  it('broadcast, sendRecv around a ring and barrier', async () => {
    const gs = createSimulatedGroups(3);
    const b = await Promise.all(gs.map((g) => g.broadcast(g.rank === 2 ? f32(7, 8) : f32(0, 0), 2)));
    for (const o of b) expect(Array.from(o)).toEqual([7, 8]);
    const ring = await Promise.all(gs.map((g) => g.sendRecv(f32(g.rank), (g.rank + 1) % 3, (g.rank + 2) % 3)));
    expect(ring.map((o) => o[0])).toEqual([2, 0, 1]);
    await Promise.all(gs.map((g) => g.barrier()));
    await expect(gs[0]!.sendRecv(f32(1), 3, 0)).rejects.toThrow(/expected a rank in \[0, 3\)/);
  });
  it('mismatched collectives across ranks are an error, not a hang', async () => {
    const [a, b] = createSimulatedGroups(2);
    const r = await Promise.allSettled([a!.allGather(f32(1)), b!.allReduce(f32(1))]);
    expect(r[1]!.status).toBe('rejected');
    expect(String((r[1] as PromiseRejectedResult).reason)).toMatch(/called allReduce while other ranks called allGather/);
  });
  it('rejects a bad world size', () => {
    expect(() => createSimulatedGroups(0)).toThrow(/worldSize must be a positive integer/);
  });
});

// Collectives of the threads group against closed forms: once with every rank in this thread (fast, exercises
// the pipe protocol including chunking), once on real worker threads through launchThreads.
import { describe, expect, it } from 'vitest';
import { createThreadGroup, createThreadWorld, launchThreads } from './index.js';
import { LEN, expected, runScript, type ScriptResult } from '../test/script.js';

function evenCounts(len: number, w: number): number[] {
  return Array.from({ length: w }, (_, i) => Math.floor((len * (i + 1)) / w) - Math.floor((len * i) / w));
}

function check(results: ScriptResult[], w: number): void {
  expect(results).toHaveLength(w);
  results.forEach((res, r) => {
    const exp = expected(w, r);
    expect(res.gathered).toEqual(exp.gathered);
    expect(res.sum).toEqual(exp.sum);
    res.mean.forEach((v, i) => expect(v).toBeCloseTo(exp.mean[i]!, 3));
    expect(res.scattered).toEqual(exp.scattered);
    expect(res.broadcast).toEqual(exp.broadcast);
    expect(res.ring).toEqual(exp.ring);
    expect(res.big).toEqual(exp.big);
    // Ring all-gather: every block but the right neighbour's is forwarded once.
    const blocks = Array.from({ length: w }, (_, q) => q + 1);
    expect(res.gatherBytes).toBe(4 * (blocks.reduce((a, b) => a + b, 0) - blocks[(r + 1) % w]!));
    // Ring all-reduce: reduce-scatter sends every chunk but its own, all-gather every chunk but the right neighbour's.
    const c = evenCounts(LEN, w);
    expect(res.reduceBytes).toBe(w === 1 ? 0 : 4 * (LEN - c[r]! + LEN - c[(r + 1) % w]!));
  });
}

describe('threads group collectives (ranks in one thread)', () => {
  for (const w of [1, 2, 3, 4]) {
    it(`worldSize ${w}: allGather (ragged), allReduce sum/mean, reduceScatter, broadcast, ring sendRecv, barrier, chunked messages`, async () => {
      const world = createThreadWorld(w, { pipeBytes: 256, timeoutMs: 10_000 }); // 5000-float messages take 79 chunks
      check(await Promise.all(Array.from({ length: w }, (_, r) => runScript(createThreadGroup(world, r)))), w);
    });
  }

  it('allReduceInPlace overwrites the caller\'s buffer with the sum (chunked); allReduce leaves its input alone', async () => {
    for (const w of [2, 3]) {
      const world = createThreadWorld(w, { pipeBytes: 256, timeoutMs: 10_000 }); // 1001 floats: 16 chunks per ring step
      const groups = Array.from({ length: w }, (_, r) => createThreadGroup(world, r) as ReturnType<typeof createThreadGroup> & { allReduceInPlace(x: Float32Array, op?: 'sum' | 'mean'): Promise<Float32Array> });
      const n = 1001;
      const mine = (r: number) => Float32Array.from({ length: n }, (_, i) => (r + 1) * 1000 + i); // Σ_r = 1000·w(w+1)/2 + w·i
      const bufs = groups.map((_, r) => mine(r));
      const out = await Promise.all(groups.map((g, r) => g.allReduceInPlace(bufs[r]!, 'sum')));
      const want = Float32Array.from({ length: n }, (_, i) => (1000 * w * (w + 1)) / 2 + w * i);
      out.forEach((o, r) => {
        expect(o).toBe(bufs[r]); // the same buffer, overwritten
        expect(o).toEqual(want);
      });
      const inputs = groups.map((_, r) => mine(r));
      const sums = await Promise.all(groups.map((g, r) => g.allReduce(inputs[r]!, 'sum')));
      sums.forEach((o, r) => {
        expect(o).toEqual(want);
        expect(inputs[r]).toEqual(mine(r));
      });
    }
  });

  it('a rank that calls a different collective fails with an error naming both operations', async () => {
    const world = createThreadWorld(2, { timeoutMs: 5_000 });
    const [g0, g1] = [createThreadGroup(world, 0), createThreadGroup(world, 1)];
    const out = await Promise.allSettled([g0.allGather(new Float32Array(3)), g1.broadcast(new Float32Array(3), 1)]);
    expect(out[0]!.status).toBe('rejected');
    expect(String((out[0] as PromiseRejectedResult).reason)).toMatch(/rank 0 is in allGather but rank 1 sent a message for broadcast/);
  });

  it('rejects bad arguments with clear messages', async () => {
    const g = createThreadGroup(createThreadWorld(2), 0);
    await expect(g.broadcast(new Float32Array(1), 2)).rejects.toThrow(/broadcast root: expected a rank in \[0, 2\), got 2/);
    await expect(g.sendRecv(new Float32Array(1), -1, 1)).rejects.toThrow(/sendRecv to/);
    await expect(g.reduceScatter!(new Float32Array(4), [1, 2], 'sum')).rejects.toThrow(/counts must be 2 non-negative integers summing to 4/);
    expect(() => createThreadWorld(0)).toThrow(/worldSize must be a positive integer, got 0/);
    expect(() => createThreadGroup(createThreadWorld(2), 2)).toThrow(/rank must be in \[0, 2\), got 2/);
  });
});

describe('threads group collectives on worker threads (launchThreads)', () => {
  for (const w of [2, 3]) {
    it(`worldSize ${w}: the same script on ${w} worker threads matches the closed forms`, async () => {
      const results = await launchThreads<ScriptResult>(new URL('../test/workers/script.ts', import.meta.url), w, undefined, { pipeBytes: 1024, timeoutMs: 30_000 });
      check(results, w);
    });
  }
});

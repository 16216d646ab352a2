// The DDP building blocks in isolation: bucket planning, bucketed SUM all-reduce and rank-0 broadcast over a
// simulated group (closed-form expectations), the deferred backward against tf.grads, and launch-mode checks.
import { describe, it, expect, beforeAll } from 'vitest';
import { initBackend, tf } from '@duet/runtime';
import { createSimulatedGroups } from '@duet/losses';
import { allReduceSum, broadcastVariables, planBuckets } from './buckets.js';
import { recordForward } from './deferred-backward.js';
import { checkResumeWorld } from './data-parallel.js';
import { resolveConfig } from '../config.js';
import { train } from '../train.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('buckets', () => {
  it('groups consecutive tensors up to the byte cap; a tensor larger than the cap gets its own bucket', () => {
    expect(planBuckets([10, 10, 10, 100, 5], 80)).toEqual([[0, 1], [2], [3], [4]]);
    expect(planBuckets([1, 2, 3])).toEqual([[0, 1, 2]]);
    expect(() => planBuckets([1], 0)).toThrow(/bucketBytes must be > 0/);
  });

  it('allReduceSum: every rank gets the element-wise sum, across bucket boundaries; a missing gradient counts as zeros', async () => {
    const groups = createSimulatedGroups(3);
    const shapes = [[2, 3], [4], [5]];
    const out = await Promise.all(groups.map((g) => {
      const r = g.rank;
      const grads = shapes.map((s, i) => (r === 1 && i === 1 ? undefined : tf.fill(s, (r + 1) * 10 ** i)));
      return allReduceSum(g, grads, shapes, 24); // 24 bytes: buckets [0], [1], [2]
    }));
    for (const ts of out) {
      expect(ts.map((t) => t.shape)).toEqual(shapes);
      expect([...ts[0]!.dataSync()]).toEqual(new Array(6).fill(1 + 2 + 3));
      expect([...ts[1]!.dataSync()]).toEqual(new Array(4).fill(10 + 30)); // rank 1 had no gradient
      expect([...ts[2]!.dataSync()]).toEqual(new Array(5).fill(100 * 6));
      tf.dispose(ts);
    }
  });

  it('broadcastVariables: every rank ends with the root\'s values; a model mismatch is named', async () => {
    const groups = createSimulatedGroups(2);
    const vars = groups.map((g) => [tf.variable(tf.fill([3], g.rank + 1)), tf.variable(tf.fill([2, 2], -(g.rank + 1)))]);
    await Promise.all(groups.map((g, r) => broadcastVariables(g, vars[r]!, 0, 16)));
    for (const vs of vars) {
      expect([...vs[0]!.dataSync()]).toEqual([1, 1, 1]);
      expect([...vs[1]!.dataSync()]).toEqual([-1, -1, -1, -1]);
    }
    const g2 = createSimulatedGroups(2);
    const bad = [[tf.variable(tf.zeros([3]))], [tf.variable(tf.zeros([4]))]];
    const res = await Promise.allSettled(g2.map((g, r) => broadcastVariables(g, bad[r]!)));
    expect(res[1]).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ message: expect.stringMatching(/rank 0 sent 3 values, rank 1 expected 4/) }) });
    tf.dispose([...vars.flat(), ...bad.flat()]);
  });
});

describe('recordForward (deferred backward)', () => {
  it('gives the gradients of tf.grads for sum(f(x)·dy) after an async gap, and frees the tape', async () => {
    const w = tf.variable(tf.tensor2d([[0.5, -1, 2], [1.5, 0.25, -0.75]]));
    const b = tf.variable(tf.tensor1d([0.1, -0.2, 0.3]));
    const x = tf.tensor2d([[1, 2], [3, -1], [0.5, 0.5], [-2, 1]]);
    const f = () => tf.tanh(tf.add(tf.matMul(x, w), b)); // [4, 3]
    const dy = tf.tensor2d([[1, 0, -1], [0.5, 2, 0], [0, 0, 1], [-1, 1, 1]]);
    const expected = tf.grads((wv: tf.Tensor, bv: tf.Tensor) => tf.sum(tf.mul(tf.tanh(tf.add(tf.matMul(x, wv), bv)), dy)))([w, b]);
    const before = tf.memory().numTensors;
    const rec = recordForward(f, [w, b]);
    expect(() => recordForward(f, [w])).toThrow(/still open/);
    await new Promise((r) => setTimeout(r, 5)); // the collectives' await
    const grads = rec.backward(dy);
    grads.forEach((g, i) => expect(Array.from(g!.dataSync())).toEqual(Array.from(expected[i]!.dataSync()).map((v) => expect.closeTo(v, 6))));
    tf.dispose(grads as tf.Tensor[]);
    expect(tf.memory().numTensors).toBe(before); // output and saved activations released
    expect(() => rec.backward(dy)).toThrow(/called twice/);
    const again = recordForward(f, [w, b]); // a new recording works once the last one is done
    again.release();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, b, x, dy, ...expected]);
  });
});

describe('launching', () => {
  it('under a launcher\'s rank variables, --workers is refused (each launched process is one rank)', async () => {
    const env = { RANK: '0', WORLD_SIZE: '2' };
    Object.assign(process.env, env);
    try {
      await expect(train(resolveConfig({ workers: 2, data: 'shapes', evalData: 'none', steps: 1 }))).rejects.toThrow(/started by torchrun as rank 0 of 2; each launched process is one rank/);
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
    }
  });

  it('a checkpoint\'s rank count must match', () => {
    expect(() => checkResumeWorld({ worldSize: 4, ranks: [] }, 2, 'ck')).toThrow(/written by 4 ranks but this run has 2.*--workers 4/);
    expect(() => checkResumeWorld({ version: 1 }, 2, 'ck')).toThrow(/written by 1 rank but this run has 2/);
    expect(() => checkResumeWorld({ worldSize: 2, ranks: [] }, 2, 'ck')).not.toThrow();
  });
});

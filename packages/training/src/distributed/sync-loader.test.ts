// syncLoader: every rank takes the same number of batches (ranks' shards can differ by one batch at an epoch's
// end), a stop asked by one rank stops all after the same step, and position() is the position after the batch
// handed out, although the next batch is already fetched (its votes ride on the step's gradient all-reduce).
import { describe, expect, it, beforeAll } from 'vitest';
import { tf, initBackend } from '@duet/runtime';
import { createSimulatedGroups } from '@duet/losses';
import { createDataParallel } from './data-parallel.js';
import { toMicroBatches, type BatchSource, type LoaderBatch } from '../loop.js';
import { LinearDualEncoder } from '../test-model.js';

/** A source of `n` one-sample batches whose position is the index of the next batch. */
function source(n: number, rank: number): BatchSource & { taken: () => number } {
  let i = 0;
  return {
    position: () => ({ rank, next: i }),
    taken: () => i,
    async *[Symbol.asyncIterator]() {
      while (i < n) {
        const k = i++;
        yield {
          pixelValues: Float32Array.from({ length: 4 }, (_, j) => (k + 1) * (j + 1 + rank) * 0.1), pixelShape: [1, 1, 2, 2],
          inputIds: Int32Array.of(k % 3, (k + rank) % 3), attentionMask: Int32Array.of(1, 1), textShape: [1, 2],
        } satisfies LoaderBatch;
      }
    },
  };
}

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('syncLoader', () => {
  for (const withSteps of [false, true]) {
    it(`ranks with 4 and 3 batches both take 3; positions follow the handed-out batch (${withSteps ? 'votes carried by the gradient all-reduce' : 'votes as their own collective'})`, async () => {
      const groups = createSimulatedGroups(2);
      const model = new LinearDualEncoder('siglip', 4, 3, 2); // the ring loss has no 2-float all-reduce of its own
      const votes = [0, 0]; // all-reduces of just the two vote floats
      groups.forEach((g, r) => {
        const allReduce = g.allReduce.bind(g);
        g.allReduce = (x, op) => ((votes[r]! += x.length === 2 ? 1 : 0), allReduce(x, op));
      });
      const run = async (r: number) => {
        const dp = createDataParallel(groups[r]!, { deferredBackward: false }); // both ranks share this thread's tape
        const src = source(r === 0 ? 4 : 3, r);
        const loader = dp.syncLoader(src);
        const seen: unknown[] = [];
        for await (const b of loader) {
          if (withSteps) {
            const micro = toMicroBatches(b, 1);
            const { grads } = await dp.computeGradients(model, micro);
            for (const g of grads.values()) if (!(g instanceof Float32Array)) g.dispose();
            micro.forEach((m) => tf.dispose([m.pixelValues, m.inputIds, m.attentionMask!]));
          }
          seen.push(loader.position());
        }
        return { seen, stop: dp.stopRequested };
      };
      const [a, b] = await Promise.all([run(0), run(1)]);
      expect(a.seen).toEqual([{ rank: 0, next: 1 }, { rank: 0, next: 2 }, { rank: 0, next: 3 }]);
      expect(b.seen).toEqual([{ rank: 1, next: 1 }, { rank: 1, next: 2 }, { rank: 1, next: 3 }]);
      expect(a.stop || b.stop).toBe(false);
      // the votes before the first batch take a collective of their own; later ones ride on each step's gradient all-reduce
      expect(votes).toEqual(withSteps ? [1, 1] : [4, 4]);
    });
  }

  it('a stop asked by one rank during step 2 ends every rank after step 2 (votes carried)', async () => {
    const groups = createSimulatedGroups(2);
    const model = new LinearDualEncoder('siglip', 4, 3, 2);
    let step = [0, 0];
    const run = async (r: number) => {
      const dp = createDataParallel(groups[r]!, { deferredBackward: false, shouldStop: () => r === 1 && step[1]! >= 2 });
      const loader = dp.syncLoader(source(10, r));
      for await (const b of loader) {
        step[r]! += 1;
        const micro = toMicroBatches(b, 1, false);
        const { grads } = await dp.computeGradients(model, micro);
        for (const g of grads.values()) if (!(g instanceof Float32Array)) g.dispose();
        micro.forEach((m) => tf.dispose([m.pixelValues, m.inputIds]));
      }
      return { steps: step[r], stop: dp.stopRequested, position: loader.position() };
    };
    const [a, b] = await Promise.all([run(0), run(1)]);
    expect([a.steps, b.steps]).toEqual([2, 2]);
    expect(a.stop && b.stop).toBe(true);
    expect(a.position).toEqual({ rank: 0, next: 2 }); // resuming continues with batch 2, not the prefetched 3
    expect(b.position).toEqual({ rank: 1, next: 2 });
    step = [0, 0];
  });
});

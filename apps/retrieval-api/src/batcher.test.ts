import { describe, expect, it } from 'vitest';
import { MicroBatcher, QueueFullError } from './batcher.js';

function recorder(fail = false) {
  const calls: number[][] = [];
  const run = async (items: number[]): Promise<number[]> => {
    calls.push(items);
    await new Promise((r) => setTimeout(r, 1));
    if (fail) throw new Error('boom');
    return items.map((x) => x * 10);
  };
  return { calls, run };
}

describe('MicroBatcher', () => {
  it('merges concurrent requests into one call and gives each its own rows back', async () => {
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { waitMs: 5, maxBatch: 64 });
    const out = await Promise.all([b.submit([1, 2]), b.submit([3]), b.submit([4, 5, 6])]);
    expect(calls).toEqual([[1, 2, 3, 4, 5, 6]]);
    expect(out).toEqual([[10, 20], [30], [40, 50, 60]]);
  });

  it('never exceeds maxBatch rows per call (a larger single request runs alone) and runs one call at a time', async () => {
    const { calls, run } = recorder();
    const seen: [number, number][] = [];
    const b = new MicroBatcher(run, { waitMs: 5, maxBatch: 4, onBatch: (rows, reqs) => seen.push([rows, reqs]) });
    const out = await Promise.all([b.submit([1, 2, 3]), b.submit([4, 5]), b.submit([6]), b.submit([7, 8, 9, 10, 11])]);
    expect(out).toEqual([[10, 20, 30], [40, 50], [60], [70, 80, 90, 100, 110]]);
    expect(calls).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9, 10, 11]]);
    expect(seen).toEqual([[3, 1], [3, 2], [5, 1]]);
  });

  it('rejects every request of a failed call, and keeps serving afterwards', async () => {
    const bad = new MicroBatcher(recorder(true).run, { waitMs: 1, maxBatch: 8 });
    const r = await Promise.allSettled([bad.submit([1]), bad.submit([2])]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { waitMs: 1, maxBatch: 8 });
    expect(await b.submit([])).toEqual([]);
    expect(await b.submit([7])).toEqual([70]);
    expect(calls).toEqual([[7]]);
  });

  it('bounds the rows waiting: past maxQueue submit rejects at once, an empty queue still takes a large request', async () => {
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { waitMs: 5, maxBatch: 4, maxQueue: 3 });
    const first = b.submit([1, 2]); // queued (2 rows)
    const second = b.submit([3]); // queued (3 rows)
    await expect(b.submit([4])).rejects.toBeInstanceOf(QueueFullError);
    expect(b.pending).toBe(3);
    expect(await Promise.all([first, second])).toEqual([[10, 20], [30]]);
    expect(b.pending).toBe(0);
    expect(await b.submit([5, 6, 7, 8, 9])).toEqual([50, 60, 70, 80, 90]);
    expect(calls).toEqual([[1, 2, 3], [5, 6, 7, 8, 9]]);
  });
});

import { describe, expect, it } from 'vitest';
import { ExactIndex } from './exact-index.js';
import { jsScoreKernel, type ScoreKernel } from './score-kernel.js';

/** Unit basis vector e_i in R^d. */
function basis(i: number, d: number, scale = 1): Float32Array {
  const v = new Float32Array(d);
  v[i] = scale;
  return v;
}

function concat(vs: Float32Array[]): Float32Array {
  const out = new Float32Array(vs.reduce((a, v) => a + v.length, 0));
  let o = 0;
  for (const v of vs) {
    out.set(v, o);
    o += v.length;
  }
  return out;
}

/** A kernel with tiny blocks, so block boundaries and the merge across blocks are exercised. */
const tinyBlocks: ScoreKernel = { ...jsScoreKernel, name: 'js-3', blockRows: 3 };

describe.each([jsScoreKernel, tinyBlocks])('ExactIndex (%s kernel)', (kernel) => {
  it('finds basis vectors by cosine, scaled rows normalised on add', async () => {
    const d = 8;
    const idx = new ExactIndex<{ n: number }>(d, { kernel });
    idx.add(Array.from({ length: d }, (_, i) => `e${i}`), concat(Array.from({ length: d }, (_, i) => basis(i, d, i + 1))), Array.from({ length: d }, (_, i) => ({ n: i })));
    const hits = await idx.search(concat([basis(5, d, 3), basis(2, d)]), 1);
    expect(hits[0]![0]).toEqual({ id: 'e5', score: 1, metadata: { n: 5 } });
    expect(hits[1]![0]!.id).toBe('e2');
  });

  it('breaks score ties by insertion order and ranks by cosine (closed form)', async () => {
    const d = 4;
    const idx = new ExactIndex(d, { kernel });
    // cos(q, v) with q = e0: rows 'a','c','e' score 1, 'b' scores cos 45° = 0.7071, 'd' scores 0.
    const v45 = new Float32Array([1, 1, 0, 0]);
    idx.add(['a', 'b', 'c', 'd', 'e'], concat([basis(0, d), v45, basis(0, d, 2), basis(1, d), basis(0, d, 5)]));
    const [hits] = await idx.search(basis(0, d), 5);
    expect(hits!.map((h) => h.id)).toEqual(['a', 'c', 'e', 'b', 'd']);
    expect(hits![3]!.score).toBeCloseTo(Math.SQRT1_2, 6);
    expect(hits![4]!.score).toBe(0);
  });

  it('batches of queries (4-way register blocking + remainder) agree with single queries', async () => {
    const d = 6;
    const idx = new ExactIndex(d, { kernel });
    idx.add(Array.from({ length: d }, (_, i) => `e${i}`), concat(Array.from({ length: d }, (_, i) => basis(i, d))));
    const queries = concat([0, 1, 2, 3, 4, 5, 0].map((i) => basis(i, d)));
    const hits = await idx.search(queries, 1);
    expect(hits.map((h) => h[0]!.id)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e0']);
  });

  it('removes items keeping order, and reports bad k and bad vectors clearly', async () => {
    const d = 3;
    const idx = new ExactIndex(d, { kernel });
    idx.add(['x', 'y', 'z'], concat([basis(0, d), basis(1, d), basis(0, d)]));
    expect(idx.remove(['x', 'nope'])).toBe(1);
    expect(idx.size).toBe(2);
    const [hits] = await idx.search(basis(0, d), 2);
    expect(hits!.map((h) => h.id)).toEqual(['z', 'y']);
    await expect(idx.search(basis(0, d), 0)).rejects.toThrow(/k: expected a positive integer, got 0/);
    await expect(idx.search(basis(0, d), 3)).rejects.toThrow(/k: 3 is larger than the index \(2 items\)/);
    expect(() => idx.add(['w'], new Float32Array(2))).toThrow(/expected 1 x 3 = 3 values, got 2/);
    expect(() => idx.add(['y'], basis(2, d))).toThrow(/"y" is already in the index/);
    await expect(new ExactIndex(3).search(basis(0, 3), 1)).rejects.toThrow(/index is empty/);
  });

  it('serialises and restores vectors, ids and metadata', async () => {
    const d = 4;
    const idx = new ExactIndex<{ caption: string }>(d, { kernel });
    idx.add(['p', 'q'], concat([basis(1, d), basis(3, d)]), [{ caption: 'one' }, undefined]);
    const back = ExactIndex.deserialize<{ caption: string }>(idx.serialize());
    expect(back.size).toBe(2);
    const hits = await back.search(concat([basis(1, d), basis(3, d)]), 1);
    expect(hits[0]![0]).toEqual({ id: 'p', score: 1, metadata: { caption: 'one' } });
    expect(hits[1]![0]).toEqual({ id: 'q', score: 1 });
  });
});

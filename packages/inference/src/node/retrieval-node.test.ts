import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExactIndex } from '../retrieval/exact-index.js';
import { Collection } from './collection.js';
import { HnswIndex } from './hnsw-index.js';
import { createOrtScoreKernel } from './ort-score-kernel.js';
import { Int8ExactSearch } from './int8-exact-search.js';
import { randomVectors } from '../test-util/random-vectors.js';

const tmp = mkdtempSync(join(tmpdir(), 'duet-coll-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ids = (n: number, p = 'v') => Array.from({ length: n }, (_, i) => `${p}${i}`);

describe('retrieval (Node)', () => {
  const d = 32;
  const n = 3000;
  const data = randomVectors(n, d, 7);
  const queries = randomVectors(20, d, 99);

  it('the onnxruntime GEMM kernel returns the same top-k as the JS reference kernel', async () => {
    const js = new ExactIndex(d);
    const native = new ExactIndex(d, { kernel: await createOrtScoreKernel({ blockRows: 1000 }) });
    js.add(ids(n), data);
    native.add(ids(n), data);
    const a = await js.search(queries, 10);
    const b = await native.search(queries, 10);
    a.forEach((hits, qi) => {
      expect(b[qi]!.map((h) => h.id)).toEqual(hits.map((h) => h.id));
      hits.forEach((h, j) => expect(b[qi]![j]!.score).toBeCloseTo(h.score, 5));
    });
  });

  it('the int8 pre-pass search returns exactly the float32 reference top-k (ids, scores, ties), and tracks index changes', async () => {
    const js = new ExactIndex(d);
    // Duplicated rows create exact score ties: the lower index must win, as in the reference.
    const dup = new Float32Array((n + 50) * d);
    dup.set(data);
    dup.set(data.subarray(0, 50 * d), n * d);
    js.add(ids(n + 50), dup);
    const fast = await Int8ExactSearch.create(js, { blockRows: 700, parallel: 3 });
    for (const k of [1, 10, 64]) {
      const a = await js.searchRaw(queries, k);
      const b = await fast.searchRaw(queries, k);
      expect(Array.from(b.indices)).toEqual(Array.from(a.indices));
      expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
    }
    // Queries equal to a duplicated row: the original (lower index) ranks first, then its copy.
    const [hits] = await fast.search(data.subarray(3 * d, 4 * d), 2);
    expect(hits!.map((h) => h.id)).toEqual(['v3', `v${n + 3}`]);
    js.remove(['v3']);
    const [after] = await fast.search(data.subarray(3 * d, 4 * d), 1);
    expect(after![0]!.id).toBe(`v${n + 3}`);
    expect(fast.lastCandidates).toBeLessThan(n);
  });

  it('the int8 search equals the reference on unnormalised rows of very different norms, with 7-bit (non-VNNI-safe) query codes', async () => {
    // 40 groups of 30 near-duplicate rows (scores closer than the int8 resolution, so the bound decides), groups
    // scaled by 1e-3 .. 1e3, and a zero row: the bound must hold for any norm, not only unit vectors.
    const m = 1200;
    const base = randomVectors(40, d, 11);
    const noise = randomVectors(m, d, 12);
    const rows = new Float32Array(m * d);
    for (let r = 0; r < m; r++) {
      const g = r % 40;
      const f = 10 ** (((g * 7) % 13) / 2 - 3);
      for (let j = 0; j < d; j++) rows[r * d + j] = f * (base[g * d + j]! + 1e-3 * noise[r * d + j]!);
    }
    rows.fill(0, 5 * d, 6 * d);
    const ref = new ExactIndex(d, { normalize: false });
    ref.add(ids(m), rows);
    const q = randomVectors(9, d, 5);
    q.set(base.subarray(0, 3 * d)); // queries aimed at groups: their top-k are all near-ties
    for (const queryMax of [63, 127]) {
      const fast = await Int8ExactSearch.create(ref, { engine: 'onnxruntime', blockRows: 257, queryMax, threads: 1 });
      for (const k of [1, 7, m]) {
        const a = await ref.searchRaw(q, k);
        const b = await fast.searchRaw(q, k);
        expect(Array.from(b.indices)).toEqual(Array.from(a.indices));
        expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
      }
    }
    await expect(Int8ExactSearch.create(ref, { engine: 'onnxruntime', queryMax: 200 })).rejects.toThrow(/queryMax/);
  });

  it('HNSW recall@10 against exact search is high, and removed ids disappear', async () => {
    const exact = new ExactIndex(d);
    const hnsw = new HnswIndex(d, { expansionSearch: 256 });
    exact.add(ids(n), data);
    hnsw.add(ids(n), data);
    const e = await exact.search(queries, 10);
    const h = await hnsw.search(queries, 10);
    let found = 0;
    e.forEach((hits, qi) => {
      const got = new Set(h[qi]!.map((x) => x.id));
      found += hits.filter((x) => got.has(x.id)).length;
    });
    expect(found / (10 * 20)).toBeGreaterThanOrEqual(0.95);
    // A new search expansion reloads the same graph (no rebuild): same size, same answers for stored rows.
    hnsw.setExpansionSearch(512);
    expect(hnsw.options.expansionSearch).toBe(512);
    expect(hnsw.index.size()).toBe(n);
    const self = await hnsw.search(data.subarray(17 * d, 18 * d), 1);
    expect(self[0]![0]!.id).toBe('v17');
    expect(() => hnsw.setExpansionSearch(0)).toThrow(/expansionSearch/);
    const top = e[0]![0]!.id;
    expect(hnsw.remove([top])).toBe(1);
    const again = await hnsw.search(queries.subarray(0, d), 10);
    expect(again[0]!.map((x) => x.id)).not.toContain(top);
    await expect(hnsw.search(queries, n + 1)).rejects.toThrow(/larger than the index/);
  });

  it('a collection saves atomically (replacing the old one) and reloads with ids, metadata and both indexes', async () => {
    const dir = join(tmp, 'coll');
    const c = new Collection<{ caption: string }>(d, { hnsw: true });
    c.add(ids(200), data.subarray(0, 200 * d), ids(200).map((id) => ({ caption: `caption ${id}` })));
    await c.save(dir);
    c.remove(['v0', 'v1']);
    c.add(['new'], data.subarray(300 * d, 301 * d), [{ caption: 'new one' }]);
    await c.save(dir);
    expect(readdirSync(tmp)).toEqual(['coll']); // no temp/old folders left behind
    const back = await Collection.load<{ caption: string }>(dir);
    expect(back.size).toBe(199);
    const q = data.subarray(300 * d, 301 * d);
    const [exactHits] = await back.search(q, 1);
    const [approxHits] = await back.search(q, 1, { approximate: true });
    expect(exactHits![0]).toMatchObject({ id: 'new', metadata: { caption: 'new one' } });
    expect(exactHits![0]!.score).toBeCloseTo(1, 5);
    expect(approxHits![0]!.id).toBe('new');
    expect(back.exact.has('v0')).toBe(false);
    await expect(Collection.load(join(tmp, 'missing'))).rejects.toThrow(/not a saved collection/);
  });
});

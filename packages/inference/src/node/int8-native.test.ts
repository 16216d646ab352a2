import { describe, expect, it } from 'vitest';
import { ExactIndex } from '../retrieval/exact-index.js';
import { Int8ExactSearch } from './int8-exact-search.js';
import { loadScanNative, type ScanIsa } from './scan-native.js';
import { randomVectors } from '../test-util/random-vectors.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `r${i}`);

/** Rows in groups of near-duplicates (scores closer than the int8 resolution, so the bound decides) and exact copies (ties). */
function hardRows(n: number, d: number, seed: number, spreadNorms: boolean): Float32Array {
  const groups = 37;
  const base = randomVectors(groups, d, seed);
  const noise = randomVectors(n, d, seed + 1);
  const rows = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    const g = r % groups;
    const f = spreadNorms ? 10 ** (((g * 7) % 13) / 2 - 3) : 1;
    for (let j = 0; j < d; j++) rows[r * d + j] = f * (base[g * d + j]! + 1e-3 * noise[r * d + j]!);
  }
  // Exact copies of earlier rows (ties: the lower index must rank first) and a zero row.
  for (let r = 0; r < 40 && 2 * r + 1 < n; r += 3) rows.copyWithin((n - 1 - r) * d, r * d, (r + 1) * d);
  rows.fill(0, 5 * d, 6 * d);
  return rows;
}

async function expectSameAsReference(ref: ExactIndex, fast: Int8ExactSearch, queries: Float32Array, ks: number[]): Promise<void> {
  for (const k of ks) {
    const a = await ref.searchRaw(queries, k);
    const b = await fast.searchRaw(queries, k);
    expect(Array.from(b.indices)).toEqual(Array.from(a.indices));
    expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
  }
}

const native = await loadScanNative();
const isas: ScanIsa[] = native?.isas() ?? [];

describe('native int8 scan (Int8ExactSearch engine "native")', () => {
  it('is built and loads (the package install builds it; a missing addon is built on first use)', () => {
    expect(native).toBeDefined();
    expect(isas).toContain('portable');
  });

  for (const isa of isas) {
    describe(isa, () => {
      // n spans several 1008-row chunks and ends mid-tile; d = 70 is not a multiple of 4 or 64 (padded stride).
      it('equals the float32 reference on near-duplicates, ties and norms 1e-3..1e3, for every k and query-block shape', async () => {
        const n = 2531;
        const d = 70;
        const ref = new ExactIndex(d, { normalize: false });
        ref.add(ids(n), hardRows(n, d, 21, true));
        const rows = ref.vectors;
        // 70 queries: two query blocks for AVX-512 (64 + 6), three for AVX2 (32 + 32 + 6); the first ones aim at groups.
        const q = randomVectors(70, d, 5);
        q.set(rows.subarray(0, 3 * d));
        q.set(rows.subarray(10 * d, 11 * d), 3 * d);
        for (const threads of [1, 3]) {
          const fast = await Int8ExactSearch.create(ref, { engine: 'native', isa, parallel: threads });
          expect(fast.engine).toBe('native');
          expect(fast.isa).toBe(isa);
          await expectSameAsReference(ref, fast, q, [1, 10, n]);
          // 1-4 queries (the dimension-parallel kernel) and counts that leave a query block partly filled.
          for (const m of [1, 2, 3, 4, 5, 17, 33, 49]) await expectSameAsReference(ref, fast, q.subarray(0, m * d), [1, 7]);
        }
      });

      it('integer-valued rows and queries (int8 codes exact, bound ~0): exact dot products decide, many tied scores', async () => {
        // Every row and query has a +-127 entry, so its int8 scale is exactly 1 and the codes are the values: the
        // error bound is only the float32 slack, and any error in an integer dot product changes the answer.
        const n = 2100;
        const d = 67;
        const u = randomVectors(n + 40, d, 41);
        const ints = u.map((v, i) => (i % d === (Math.floor(i / d) * 5) % d ? (v < 0 ? -127 : 127) : Math.round(v * 6)));
        const ref = new ExactIndex(d, { normalize: false });
        ref.add(ids(n), ints.subarray(0, n * d));
        const q = ints.subarray(n * d);
        const fast = await Int8ExactSearch.create(ref, { engine: 'native', isa, parallel: 2 });
        await expectSameAsReference(ref, fast, q, [1, 10, 100]);
        await expectSameAsReference(ref, fast, q.subarray(0, 3 * d), [1, 10, 100]);
        const a = await ref.searchRaw(q, 100);
        const distinct = new Set(a.scores);
        expect(distinct.size).toBeLessThan(a.scores.length); // ties are present and must break by index
      });

      it('scores that differ in float64 but round to the same float32 tie, and the lower index ranks first', async () => {
        // x = [1, t] . y = [1, 1] = 1 + t rounds to 1 in float32 for t < 2^-25: the reference sees ties (all 1),
        // while any float64 estimate ranks the later rows higher.
        const t = [0, 1e-9, 2e-9, 3e-9, 0.5];
        const ref = new ExactIndex(2, { normalize: false });
        ref.add(ids(t.length), Float32Array.from(t.flatMap((x) => [1, x])));
        const fast = await Int8ExactSearch.create(ref, { engine: 'native', isa });
        const r = await fast.searchRaw(new Float32Array([1, 1]), 3);
        expect(Array.from(r.indices)).toEqual([4, 0, 1]);
        expect(Array.from(r.scores)).toEqual([1.5, 1, 1]);
        await expectSameAsReference(ref, fast, new Float32Array([1, 1, 1, -1]), [1, 2, 4, 5]);
      });

      it('normalised index: duplicate rows tie and the lower index ranks first; index changes are tracked', async () => {
        const d = 13; // stride padded to 16
        const n = 1500;
        const data = randomVectors(n, d, 7);
        const ref = new ExactIndex(d);
        ref.add(ids(n), data);
        ref.add(['dup3'], data.subarray(3 * d, 4 * d));
        const fast = await Int8ExactSearch.create(ref, { engine: 'native', isa, parallel: 2 });
        const [hits] = await fast.search(data.subarray(3 * d, 4 * d), 2);
        expect(hits!.map((h) => h.id)).toEqual(['r3', 'dup3']);
        expect(hits![0]!.score).toBe(hits![1]!.score);
        await expectSameAsReference(ref, fast, randomVectors(9, d, 8), [1, 3, n + 1]);
        ref.remove(['r3']);
        const [after] = await fast.search(data.subarray(3 * d, 4 * d), 1);
        expect(after![0]!.id).toBe('dup3');
        await expectSameAsReference(ref, fast, randomVectors(4, d, 9), [5]);
      });
    });
  }

  it('a single row, k = 1, and dim 1 (stride 4)', async () => {
    const ref = new ExactIndex(1, { normalize: false });
    ref.add(['a'], new Float32Array([2]));
    const fast = await Int8ExactSearch.create(ref, { engine: 'native', isa: 'portable' });
    const r = await fast.searchRaw(new Float32Array([-3, 0.5]), 1);
    expect(Array.from(r.indices)).toEqual([0, 0]);
    expect(Array.from(r.scores)).toEqual([-6, 1]);
    ref.add(['b', 'c'], new Float32Array([2, -1]));
    const r2 = await fast.searchRaw(new Float32Array([1]), 3);
    expect(Array.from(r2.indices)).toEqual([0, 1, 2]); // a and b tie at 2: insertion order
    expect(Array.from(r2.scores)).toEqual([2, 2, -1]);
  });

  it('the onnxruntime engine and the native engine agree; bad options and k are clear errors', async () => {
    const d = 24;
    const n = 800;
    const ref = new ExactIndex(d);
    ref.add(ids(n), randomVectors(n, d, 31));
    const q = randomVectors(6, d, 32);
    const viaOrt = await Int8ExactSearch.create(ref, { engine: 'onnxruntime' });
    const viaNative = await Int8ExactSearch.create(ref, { engine: 'native' });
    expect(viaOrt.engine).toBe('onnxruntime');
    expect(viaOrt.isa).toBe('mlas');
    const a = await viaOrt.searchRaw(q, 10);
    const b = await viaNative.searchRaw(q, 10);
    expect(Array.from(b.indices)).toEqual(Array.from(a.indices));
    expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
    await expect(Int8ExactSearch.create(ref, { engine: 'gpu' as never })).rejects.toThrow(/engine/);
    await expect(Int8ExactSearch.create(ref, { engine: 'native', isa: 'neon' as never })).rejects.toThrow(/isa: expected one of/);
    await expect(viaNative.searchRaw(q, 0)).rejects.toThrow(/k: expected a positive integer/);
    await expect(viaNative.searchRaw(q, n + 1)).rejects.toThrow(/larger than the index/);
    await expect(viaNative.searchRaw(q.subarray(0, 5), 1)).rejects.toThrow(/multiple of dim 24/);
  });
});

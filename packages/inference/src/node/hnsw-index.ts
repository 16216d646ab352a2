// HnswIndex: approximate top-k via usearch (HNSW), with string ids and metadata beside it. Inner-product metric
// on L2-normalised vectors (= cosine); scores returned as similarities (1 - usearch distance).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import usearch from 'usearch';

type UsearchIndex = InstanceType<typeof usearch.Index>;
import { checkK, checkNewItems, type SearchHit } from '../retrieval/exact-index.js';
import { InferenceError } from '../runtime/errors.js';
import { l2NormalizeRows } from '../runtime/normalize.js';

export interface HnswOptions {
  normalize?: boolean;
  /** Graph degree M (default 32). */
  connectivity?: number;
  /** Candidate list size while building (default 128). */
  expansionAdd?: number;
  /** Candidate list size while searching (default 128; raise for recall). */
  expansionSearch?: number;
  /** Threads for batch add/search (default 0 = usearch picks). */
  threads?: number;
}

export class HnswIndex<M = unknown> {
  readonly dim: number;
  readonly normalize: boolean;
  readonly options: Required<HnswOptions>;
  index: UsearchIndex;
  private nextKey = 0n;
  private keyOf = new Map<string, bigint>();
  private items = new Map<bigint, { id: string; metadata?: M }>();

  constructor(dim: number, opts: HnswOptions = {}) {
    if (!Number.isInteger(dim) || dim <= 0) throw new InferenceError(`dim: expected a positive integer, got ${dim}`);
    this.dim = dim;
    this.normalize = opts.normalize ?? true;
    this.options = {
      normalize: this.normalize,
      connectivity: opts.connectivity ?? 32,
      expansionAdd: opts.expansionAdd ?? 128,
      expansionSearch: opts.expansionSearch ?? 128,
      threads: opts.threads ?? 0,
    };
    this.index = this.makeIndex();
  }

  private makeIndex(): UsearchIndex {
    return new usearch.Index({
      dimensions: this.dim, metric: usearch.MetricKind.IP, quantization: usearch.ScalarKind.F32,
      connectivity: this.options.connectivity, expansion_add: this.options.expansionAdd, expansion_search: this.options.expansionSearch, multi: false,
    });
  }

  get size(): number {
    return this.keyOf.size;
  }

  has(id: string): boolean {
    return this.keyOf.has(id);
  }

  add(ids: string[], vectors: Float32Array, metadata?: (M | undefined)[]): void {
    const n = ids.length;
    checkNewItems(ids, vectors, this.dim, metadata, (id) => this.keyOf.has(id));
    if (n === 0) return;
    const v = this.normalize ? l2NormalizeRows(Float32Array.from(vectors), this.dim) : vectors;
    const keys = new BigUint64Array(n);
    for (let i = 0; i < n; i++) keys[i] = this.nextKey++;
    const rows = Array.from({ length: n }, (_, i) => v.subarray(i * this.dim, (i + 1) * this.dim));
    this.index.add(keys, n === 1 ? rows[0]! : rows, this.options.threads);
    ids.forEach((id, i) => {
      this.keyOf.set(id, keys[i]!);
      this.items.set(keys[i]!, metadata?.[i] === undefined ? { id } : { id, metadata: metadata[i] });
    });
  }

  remove(ids: string[]): number {
    let removed = 0;
    for (const id of ids) {
      const key = this.keyOf.get(id);
      if (key === undefined) continue;
      this.index.remove(key);
      this.keyOf.delete(id);
      this.items.delete(key);
      removed++;
    }
    return removed;
  }

  /**
   * Changes the search expansion (recall vs speed) of a built index. usearch's JS binding has no setter, so the
   * graph is saved to a temporary file and reloaded under the new configuration (no rebuild).
   */
  setExpansionSearch(expansion: number): void {
    if (!Number.isInteger(expansion) || expansion <= 0) throw new InferenceError(`expansionSearch: expected a positive integer, got ${expansion}`);
    if (expansion === this.options.expansionSearch) return;
    const dir = mkdtempSync(join(tmpdir(), 'duet-hnsw-'));
    try {
      const path = join(dir, 'index.usearch');
      this.index.save(path);
      this.options.expansionSearch = expansion;
      const index = this.makeIndex();
      index.load(path);
      this.index = index;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async search(queries: Float32Array, k: number): Promise<SearchHit<M>[][]> {
    const q = queries.length / this.dim;
    if (!Number.isInteger(q) || q === 0) throw new InferenceError(`queries: expected a non-empty multiple of dim ${this.dim} values, got ${queries.length}`);
    checkK(k, this.size);
    const qs = this.normalize ? l2NormalizeRows(Float32Array.from(queries), this.dim) : queries;
    const rows = Array.from({ length: q }, (_, i) => qs.subarray(i * this.dim, (i + 1) * this.dim));
    const res = this.index.search(rows, k, this.options.threads);
    const out: SearchHit<M>[][] = [];
    for (let i = 0; i < q; i++) {
      const m = 'counts' in res ? res.get(i) : res;
      const hits: SearchHit<M>[] = [];
      for (let j = 0; j < m.keys.length; j++) {
        const item = this.items.get(m.keys[j]!);
        if (!item) continue;
        const hit: SearchHit<M> = { id: item.id, score: 1 - m.distances[j]! };
        if (item.metadata !== undefined) hit.metadata = item.metadata;
        hits.push(hit);
      }
      out.push(hits);
    }
    return out;
  }

  /** Sidecar state for persistence (ids, keys, metadata, options). */
  state(): { dim: number; options: Required<HnswOptions>; nextKey: string; items: [string, string, M | null][] } {
    return {
      dim: this.dim, options: this.options, nextKey: String(this.nextKey),
      items: [...this.items.entries()].map(([k, v]) => [String(k), v.id, v.metadata ?? null]),
    };
  }

  static fromState<M>(state: ReturnType<HnswIndex<M>['state']>, indexPath: string): HnswIndex<M> {
    const h = new HnswIndex<M>(state.dim, state.options);
    h.index.load(indexPath);
    h.nextKey = BigInt(state.nextKey);
    for (const [k, id, m] of state.items) {
      const key = BigInt(k);
      h.keyOf.set(id, key);
      h.items.set(key, m === null ? { id } : { id, metadata: m });
    }
    if (h.index.size() !== h.keyOf.size) throw new InferenceError(`${indexPath}: usearch index holds ${h.index.size()} vectors but the sidecar lists ${h.keyOf.size} items`);
    return h;
  }
}

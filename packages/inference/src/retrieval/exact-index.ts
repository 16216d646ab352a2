// ExactIndex: the reference retrieval index. Vectors in one growing row-major Float32Array; search scans it in
// blocks (scores by a ScoreKernel, streaming top-k per query; ties broken by the lower row index = insertion order).
import { readSafetensors, toTypedArray, writeSafetensors, fromFloat32 } from '@duet/model-format';
import { InferenceError } from '../runtime/errors.js';
import { l2NormalizeRows } from '../runtime/normalize.js';
import { jsScoreKernel, type ScoreKernel } from './score-kernel.js';
import { TopK } from './topk.js';

export interface SearchHit<M = unknown> {
  id: string;
  score: number;
  metadata?: M;
}

export interface IndexOptions {
  /** L2-normalise vectors on add and queries on search, so scores are cosine similarities (default true). */
  normalize?: boolean;
  kernel?: ScoreKernel;
}

/** Checks k against the collection: 1 <= k <= size. */
export function checkK(k: number, size: number): void {
  if (!Number.isInteger(k) || k <= 0) throw new InferenceError(`k: expected a positive integer, got ${k}`);
  if (size === 0) throw new InferenceError('search: the index is empty');
  if (k > size) throw new InferenceError(`k: ${k} is larger than the index (${size} items)`);
}

export function checkVectors(vectors: Float32Array, count: number, dim: number, what: string): void {
  if (!(vectors instanceof Float32Array)) throw new InferenceError(`${what}: expected a Float32Array`);
  if (vectors.length !== count * dim) throw new InferenceError(`${what}: expected ${count} x ${dim} = ${count * dim} values, got ${vectors.length}`);
}

/** Validates an add() call: vectors [n, dim], one metadata entry per id, ids non-empty, new and distinct. */
export function checkNewItems(ids: string[], vectors: Float32Array, dim: number, metadata: unknown[] | undefined, exists: (id: string) => boolean): void {
  const n = ids.length;
  checkVectors(vectors, n, dim, 'vectors');
  if (metadata && metadata.length !== n) throw new InferenceError(`metadata: expected ${n} entries (one per id), got ${metadata.length}`);
  const seen = new Set<string>();
  for (const id of ids) {
    if (typeof id !== 'string' || id === '') throw new InferenceError(`ids: expected non-empty strings, got ${JSON.stringify(id)}`);
    if (exists(id) || seen.has(id)) throw new InferenceError(`ids: "${id}" is already in the index`);
    seen.add(id);
  }
}

export class ExactIndex<M = unknown> {
  readonly dim: number;
  readonly normalize: boolean;
  kernel: ScoreKernel;
  private data: Float32Array;
  private ids: string[] = [];
  private meta: (M | undefined)[] = [];
  private rowOf = new Map<string, number>();
  private changes = 0;

  constructor(dim: number, opts: IndexOptions = {}) {
    if (!Number.isInteger(dim) || dim <= 0) throw new InferenceError(`dim: expected a positive integer, got ${dim}`);
    this.dim = dim;
    this.normalize = opts.normalize ?? true;
    this.kernel = opts.kernel ?? jsScoreKernel;
    this.data = new Float32Array(dim * 16);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Increases on every add/remove (lets derived structures, e.g. an int8 copy, know when to rebuild). */
  get version(): number {
    return this.changes;
  }

  /** The stored vectors [size, dim] (a view; do not modify). */
  get vectors(): Float32Array {
    return this.data.subarray(0, this.size * this.dim);
  }

  has(id: string): boolean {
    return this.rowOf.has(id);
  }

  idAt(row: number): string {
    return this.ids[row]!;
  }

  get(id: string): { vector: Float32Array; metadata?: M } | undefined {
    const r = this.rowOf.get(id);
    if (r === undefined) return undefined;
    return { vector: this.data.slice(r * this.dim, (r + 1) * this.dim), metadata: this.meta[r] };
  }

  /** Adds vectors [n, dim] under new ids (an existing id is an error: remove it first). */
  add(ids: string[], vectors: Float32Array, metadata?: (M | undefined)[]): void {
    const n = ids.length;
    checkNewItems(ids, vectors, this.dim, metadata, (id) => this.rowOf.has(id));
    const need = (this.size + n) * this.dim;
    if (need > this.data.length) {
      const grown = new Float32Array(Math.max(need, this.data.length * 2));
      grown.set(this.vectors);
      this.data = grown;
    }
    const start = this.size * this.dim;
    this.data.set(vectors, start);
    if (this.normalize) l2NormalizeRows(this.data.subarray(start, start + n * this.dim), this.dim);
    this.changes++;
    ids.forEach((id, i) => {
      this.rowOf.set(id, this.size);
      this.ids.push(id);
      this.meta.push(metadata?.[i]);
    });
  }

  /** Removes ids (unknown ids are ignored); remaining rows keep their relative order. Returns how many were removed. */
  remove(ids: string[]): number {
    const drop = new Set(ids.filter((id) => this.rowOf.has(id)));
    if (!drop.size) return 0;
    const d = this.dim;
    let w = 0;
    const ids2: string[] = [];
    const meta2: (M | undefined)[] = [];
    for (let r = 0; r < this.ids.length; r++) {
      if (drop.has(this.ids[r]!)) continue;
      if (w !== r) this.data.copyWithin(w * d, r * d, (r + 1) * d);
      ids2.push(this.ids[r]!);
      meta2.push(this.meta[r]);
      w++;
    }
    this.changes++;
    this.ids = ids2;
    this.meta = meta2;
    this.rowOf = new Map(ids2.map((id, i) => [id, i]));
    return drop.size;
  }

  /** Top-k rows per query: indices/scores [q, k], best first. */
  async searchRaw(queries: Float32Array, k: number): Promise<{ indices: Int32Array; scores: Float32Array; q: number }> {
    const q = queries.length / this.dim;
    if (!Number.isInteger(q) || q === 0) throw new InferenceError(`queries: expected a non-empty multiple of dim ${this.dim} values, got ${queries.length}`);
    checkK(k, this.size);
    const qs = this.normalize ? l2NormalizeRows(Float32Array.from(queries), this.dim) : queries;
    const tops = Array.from({ length: q }, () => new TopK(k));
    const thresholds = new Float32Array(q).fill(-Infinity);
    const block = Math.max(1, this.kernel.blockRows);
    const out = new Float32Array(q * Math.min(block, this.size));
    for (let start = 0; start < this.size; start += block) {
      const n = Math.min(block, this.size - start);
      await this.kernel.scores(qs, q, this.data.subarray(start * this.dim, (start + n) * this.dim), n, this.dim, out);
      // out is [n, q]; most scores fail the per-query threshold test, so the hot loop is one compare.
      for (let r = 0; r < n; r++) {
        const base = r * q;
        for (let qi = 0; qi < q; qi++) {
          const s = out[base + qi]!;
          if (s > thresholds[qi]!) {
            const t = tops[qi]!;
            t.push(s, start + r);
            thresholds[qi] = t.threshold;
          }
        }
      }
    }
    const indices = new Int32Array(q * k);
    const scores = new Float32Array(q * k);
    tops.forEach((t, qi) => {
      indices.set(t.indices, qi * k);
      scores.set(t.scores, qi * k);
    });
    return { indices, scores, q };
  }

  /** Top-k hits (id, score, metadata) per query. */
  async search(queries: Float32Array, k: number): Promise<SearchHit<M>[][]> {
    return this.hits(await this.searchRaw(queries, k), k);
  }

  /** SearchHits from raw top-k rows (e.g. from another exact search path over this index). */
  hits({ indices, scores, q }: { indices: Int32Array; scores: Float32Array; q: number }, k: number): SearchHit<M>[][] {
    return Array.from({ length: q }, (_, qi) => Array.from({ length: k }, (_, j) => {
      const r = indices[qi * k + j]!;
      const hit: SearchHit<M> = { id: this.ids[r]!, score: scores[qi * k + j]! };
      if (this.meta[r] !== undefined) hit.metadata = this.meta[r];
      return hit;
    }));
  }

  /** Safetensors bytes: the vectors plus ids/metadata (JSON) in the header metadata. */
  serialize(): Uint8Array {
    return writeSafetensors(new Map([['vectors', fromFloat32(this.vectors, [this.size, this.dim])]]), {
      duet_index: JSON.stringify({ kind: 'exact', dim: this.dim, normalize: this.normalize, ids: this.ids, metadata: this.meta }),
    });
  }

  static deserialize<M = unknown>(bytes: Uint8Array, opts: { kernel?: ScoreKernel } = {}): ExactIndex<M> {
    const st = readSafetensors(bytes);
    const info = JSON.parse(st.metadata['duet_index'] ?? 'null') as { dim: number; normalize: boolean; ids: string[]; metadata: (M | null)[] } | null;
    const vec = st.tensors.get('vectors');
    if (!info || !vec) throw new InferenceError('index file: not a Duet index (no duet_index metadata / vectors tensor)');
    const idx = new ExactIndex<M>(info.dim, { normalize: false, kernel: opts.kernel });
    idx.add(info.ids, toTypedArray(vec) as Float32Array, info.metadata.map((m) => m ?? undefined));
    (idx as { normalize: boolean }).normalize = info.normalize;
    return idx;
  }
}

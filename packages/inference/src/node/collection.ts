// Collection: a persisted retrieval store. The ExactIndex holds the vectors (the reference); an optional HNSW index
// (usearch) serves approximate search on large collections. Saved as a directory, replaced atomically.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExactIndex, type SearchHit } from '../retrieval/exact-index.js';
import type { ScoreKernel } from '../retrieval/score-kernel.js';
import { InferenceError } from '../runtime/errors.js';
import { writeDirAtomic } from './atomic-dir.js';
import { HnswIndex, type HnswOptions } from './hnsw-index.js';

const VECTORS = 'vectors.safetensors';
const HNSW = 'hnsw.usearch';
const HNSW_STATE = 'hnsw.json';

export interface CollectionOptions {
  normalize?: boolean;
  kernel?: ScoreKernel;
  /** Keep an HNSW index beside the exact one (options or true for defaults). */
  hnsw?: HnswOptions | boolean;
}

export class Collection<M = unknown> {
  readonly exact: ExactIndex<M>;
  hnsw?: HnswIndex<M>;

  constructor(readonly dim: number, opts: CollectionOptions = {}) {
    this.exact = new ExactIndex<M>(dim, { normalize: opts.normalize, kernel: opts.kernel });
    if (opts.hnsw) this.hnsw = new HnswIndex<M>(dim, { normalize: opts.normalize, ...(opts.hnsw === true ? {} : opts.hnsw) });
  }

  get size(): number {
    return this.exact.size;
  }

  add(ids: string[], vectors: Float32Array, metadata?: (M | undefined)[]): void {
    this.exact.add(ids, vectors, metadata);
    this.hnsw?.add(ids, vectors, metadata);
  }

  remove(ids: string[]): number {
    this.hnsw?.remove(ids);
    return this.exact.remove(ids);
  }

  /** Exact top-k by default; `approximate: true` uses the HNSW index. */
  search(queries: Float32Array, k: number, opts: { approximate?: boolean } = {}): Promise<SearchHit<M>[][]> {
    if (opts.approximate) {
      if (!this.hnsw) throw new InferenceError('search: approximate search needs a collection created with { hnsw }');
      return this.hnsw.search(queries, k);
    }
    return this.exact.search(queries, k);
  }

  async save(dir: string): Promise<void> {
    await writeDirAtomic(dir, async (tmp) => {
      await writeFile(join(tmp, VECTORS), this.exact.serialize());
      if (this.hnsw) {
        this.hnsw.index.save(join(tmp, HNSW));
        await writeFile(join(tmp, HNSW_STATE), JSON.stringify(this.hnsw.state()));
      }
    });
  }

  static async load<M = unknown>(dir: string, opts: { kernel?: ScoreKernel } = {}): Promise<Collection<M>> {
    const bytes = await readFile(join(dir, VECTORS)).catch((e: NodeJS.ErrnoException) => {
      throw new InferenceError(`${dir}: not a saved collection (${VECTORS}: ${e.code ?? e.message})`);
    });
    const exact = ExactIndex.deserialize<M>(bytes, opts);
    const c = new Collection<M>(exact.dim, { normalize: exact.normalize, kernel: opts.kernel });
    (c as { exact: ExactIndex<M> }).exact = exact;
    const state = await readFile(join(dir, HNSW_STATE), 'utf8').catch(() => undefined);
    if (state !== undefined) c.hnsw = HnswIndex.fromState<M>(JSON.parse(state), join(dir, HNSW));
    return c;
  }
}

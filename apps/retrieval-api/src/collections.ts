// Collections on disk: one directory per collection under dataDir (the inference package's Collection, replaced
// atomically on every change), loaded at start. Changes to a collection are serialised; a crash mid-write leaves
// the previous directory (or its `.old-*` copy during the swap) readable.
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Collection, type SearchHit } from '@duet/inference/node';
import { ApiError } from './errors.js';

export type Metadata = Record<string, unknown>;
export const COLLECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

interface Entry {
  collection: Collection<Metadata>;
  /** Tail of the serialised change chain. */
  lock: Promise<unknown>;
}

export class CollectionStore {
  private readonly entries = new Map<string, Entry>();

  constructor(readonly dir: string, readonly dim: number, private readonly log: (m: string) => void) {}

  /** Loads every saved collection; finishes interrupted swaps and drops temp leftovers. */
  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const names = await readdir(this.dir);
    for (const n of names) {
      const m = /^\.(.+)\.(tmp|old)-/.exec(n);
      if (!m) continue;
      const target = join(this.dir, m[1]!);
      const exists = await stat(target).then(() => true, () => false);
      if (m[2] === 'old' && !exists) await rename(join(this.dir, n), target);
      else await rm(join(this.dir, n), { recursive: true, force: true });
    }
    for (const n of await readdir(this.dir)) {
      if (!COLLECTION_NAME.test(n)) continue;
      try {
        const c = await Collection.load<Metadata>(join(this.dir, n));
        if (c.dim !== this.dim) {
          this.log(`collection ${n}: dim ${c.dim} does not match the model (${this.dim}); not loaded`);
          continue;
        }
        this.entries.set(n, { collection: c, lock: Promise.resolve() });
      } catch (e) {
        this.log(`collection ${n}: cannot be loaded (${(e as Error).message})`);
      }
    }
  }

  list(): { name: string; size: number; dim: number }[] {
    return [...this.entries].map(([name, e]) => ({ name, size: e.collection.size, dim: e.collection.dim })).sort((a, b) => a.name.localeCompare(b.name));
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Saves `collection` under `name` (replacing any previous one atomically) and serves it. */
  async replace(name: string, collection: Collection<Metadata>): Promise<void> {
    if (!COLLECTION_NAME.test(name)) throw new ApiError(400, 'invalid_request', `name: invalid collection name ${JSON.stringify(name)}`);
    const prev = this.entries.get(name);
    await prev?.lock.catch(() => undefined);
    await collection.save(join(this.dir, name));
    this.entries.set(name, { collection, lock: Promise.resolve() });
  }

  get(name: string): Collection<Metadata> {
    const e = this.entries.get(name);
    if (!e) throw new ApiError(404, 'collection_not_found', `collection "${name}" does not exist`);
    return e.collection;
  }

  async create(name: string): Promise<Collection<Metadata>> {
    if (!COLLECTION_NAME.test(name)) throw new ApiError(400, 'invalid_request', `name: expected 1-64 letters, digits, '-' or '_' (starting with a letter or digit), got ${JSON.stringify(name)}`);
    if (this.entries.has(name)) throw new ApiError(409, 'collection_exists', `collection "${name}" already exists`);
    const c = new Collection<Metadata>(this.dim);
    this.entries.set(name, { collection: c, lock: Promise.resolve() });
    try {
      await c.save(join(this.dir, name));
    } catch (e) {
      this.entries.delete(name);
      throw e;
    }
    return c;
  }

  async drop(name: string): Promise<void> {
    const e = this.entries.get(name);
    if (!e) throw new ApiError(404, 'collection_not_found', `collection "${name}" does not exist`);
    this.entries.delete(name);
    await e.lock.catch(() => undefined);
    await rm(join(this.dir, name), { recursive: true, force: true });
  }

  /** Runs a change on a collection then saves it; changes to one collection never interleave. On a failed save
   *  the in-memory collection is reloaded from disk, so memory and disk agree. */
  mutate<T>(name: string, change: (c: Collection<Metadata>) => T): Promise<T> {
    const e = this.entries.get(name);
    if (!e) return Promise.reject(new ApiError(404, 'collection_not_found', `collection "${name}" does not exist`));
    const run = async (): Promise<T> => {
      const out = change(e.collection);
      try {
        await e.collection.save(join(this.dir, name));
      } catch (err) {
        e.collection = await Collection.load<Metadata>(join(this.dir, name));
        throw err;
      }
      return out;
    };
    const next = e.lock.then(run, run);
    e.lock = next.catch(() => undefined);
    return next;
  }

  async search(name: string, queries: Float32Array, k: number): Promise<SearchHit<Metadata>[][]> {
    const c = this.get(name);
    const n = queries.length / c.dim;
    if (c.size === 0) return Array.from({ length: n }, () => []);
    return c.search(queries, Math.min(k, c.size));
  }
}

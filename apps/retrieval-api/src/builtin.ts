// Built-in collections a new user can search at once: `fashion-mnist-test` = the Fashion-MNIST test images
// (metadata: class name, label, index), embedded with the served model and saved like any other collection.
import { FASHION_MNIST_CLASSES, fashionMnist, readSamples } from '@duet/data';
import { Collection } from '@duet/inference/node';
import type { CollectionStore, Metadata } from './collections.js';
import type { ModelService } from './model-service.js';

export const BUILTIN_INDEXES = ['fashion-mnist-test'] as const;
export type BuiltinIndex = (typeof BUILTIN_INDEXES)[number];

export interface BuiltinOptions {
  /** Directory with the Fashion-MNIST IDX files (default: the data package's search path). */
  dir?: string;
  /** Index only the first `limit` test images. */
  limit?: number;
  log?: (m: string) => void;
}

/** Builds the collection unless a complete one (same size) is already saved; it appears only once complete. */
export async function ensureBuiltinIndex(name: BuiltinIndex, model: ModelService, store: CollectionStore, opts: BuiltinOptions = {}): Promise<void> {
  const log = opts.log ?? ((): void => undefined);
  const ds = fashionMnist({ split: 'test', dir: opts.dir, limit: opts.limit });
  const total = ds.knownSize?.() ?? 0;
  if (store.has(name) && store.get(name).size === total) return;
  const col = new Collection<Metadata>(store.dim);
  let ids: string[] = [];
  let images: Parameters<ModelService['embedImages']>[0] = [];
  let meta: Metadata[] = [];
  const flush = async (): Promise<void> => {
    if (!ids.length) return;
    const rows = await model.embedImages(images);
    const vectors = new Float32Array(rows.length * store.dim);
    rows.forEach((r, i) => vectors.set(r, i * store.dim));
    col.add(ids, vectors, meta);
    ids = [];
    images = [];
    meta = [];
    if (col.size % 2048 < 256) log(`${name}: ${col.size}/${total} images embedded`);
  };
  for await (const s of readSamples(ds)) {
    const index = col.size + ids.length;
    ids.push(`${name}-${index}`);
    images.push(s.image);
    meta.push({ label: s.label ?? null, className: s.label === undefined ? null : FASHION_MNIST_CLASSES[s.label]!, index });
    if (ids.length === 256) await flush();
  }
  await flush();
  await store.replace(name, col);
  log(`${name}: ${col.size} images indexed`);
}

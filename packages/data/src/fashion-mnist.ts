// Fashion-MNIST (IDX files, gzip or not) as an image–text dataset: captions are class names put through prompt
// templates, one template sampled per example and epoch (seeded), as zero-shot prompts are used at evaluation.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { findDatasetDir } from './find-data.js';
import { hashSeed } from './rng.js';
import type { DataRecord, Dataset } from './types.js';

/** Zalando's label order (labels 0..9). Lower-case natural names for prompts. */
export const FASHION_MNIST_CLASSES = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'] as const;

/** Prompt templates ("{}" = class name), in the style of CLIP's zero-shot prompts. */
export const FASHION_MNIST_TEMPLATES = [
  'a photo of a {}.',
  'a black and white photo of a {}.',
  'a low resolution photo of a {}.',
  'a grayscale photo of a {}.',
  'a close-up photo of a {}.',
  'a photo of the {}, a type of clothing.',
  'a product photo of a {}.',
  'a blurry photo of a {}.',
] as const;

export interface FashionMnistOptions {
  split: 'train' | 'test';
  /** Directory with the IDX files (else DUET_DATA, ../shared/datasets/fashion-mnist, /usr/share/datasets/fashion-mnist). */
  dir?: string;
  /** Templates used for captions (default FASHION_MNIST_TEMPLATES). */
  templates?: readonly string[];
  /** Seed of the per-example template choice. */
  seed?: number;
  /** Use only the first `limit` examples. */
  limit?: number;
}

const FILES = { train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'], test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'] } as const;

function readIdx(dir: string, base: string): Uint8Array {
  const gz = join(dir, `${base}.gz`);
  const path = existsSync(gz) ? gz : join(dir, base);
  const raw = readFileSync(path);
  return new Uint8Array(path.endsWith('.gz') ? gunzipSync(raw) : raw);
}

/** Parses an IDX file of unsigned bytes; returns dims and data (a view, no copy). */
export function parseIdx(bytes: Uint8Array, what: string): { dims: number[]; data: Uint8Array } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || v.getUint16(0) !== 0 || v.getUint8(2) !== 0x08) throw new Error(`${what}: not an unsigned-byte IDX file (magic ${bytes.length >= 4 ? v.getUint32(0).toString(16) : 'missing'})`);
  const nd = v.getUint8(3);
  const dims = Array.from({ length: nd }, (_, i) => v.getUint32(4 + 4 * i));
  const off = 4 + 4 * nd;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < off + size) throw new Error(`${what}: truncated IDX file, expected ${off + size} bytes, got ${bytes.length}`);
  return { dims, data: bytes.subarray(off, off + size) };
}

export function fashionMnistCaption(label: number, index: number, epoch: number, seed: number, templates: readonly string[] = FASHION_MNIST_TEMPLATES): string {
  const t = templates[hashSeed(seed, epoch, index) % templates.length]!;
  return t.replaceAll('{}', FASHION_MNIST_CLASSES[label]!);
}

export function fashionMnist(opts: FashionMnistOptions): Dataset {
  const split = opts.split;
  if (split !== 'train' && split !== 'test') throw new Error(`fashionMnist: split must be "train" or "test", got ${JSON.stringify(split)}`);
  const templates = opts.templates ?? FASHION_MNIST_TEMPLATES;
  if (!templates.length || templates.some((t) => !t.includes('{}'))) throw new Error('fashionMnist: templates must be non-empty strings containing "{}"');
  const seed = opts.seed ?? 0;
  const [imgBase, lblBase] = FILES[split];
  const dir = findDatasetDir('fashion-mnist', [[`${imgBase}.gz`, imgBase], [`${lblBase}.gz`, lblBase]], opts.dir);
  let cache: { images: Uint8Array; labels: Uint8Array; rows: number; cols: number; n: number } | undefined;

  function load() {
    if (cache) return cache;
    const img = parseIdx(readIdx(dir, imgBase), join(dir, imgBase));
    const lbl = parseIdx(readIdx(dir, lblBase), join(dir, lblBase));
    if (img.dims.length !== 3 || lbl.dims.length !== 1 || img.dims[0] !== lbl.dims[0]) throw new Error(`fashionMnist ${dir}: expected images [N,28,28] and labels [N], got ${JSON.stringify(img.dims)} and ${JSON.stringify(lbl.dims)}`);
    const n = Math.min(img.dims[0]!, opts.limit ?? Infinity);
    cache = { images: img.data, labels: lbl.data, rows: img.dims[1]!, cols: img.dims[2]!, n };
    return cache;
  }

  function record(i: number, epoch: number): DataRecord {
    const c = load();
    const px = c.rows * c.cols;
    const label = c.labels[i]!;
    return {
      key: `${split}-${String(i).padStart(5, '0')}`,
      caption: fashionMnistCaption(label, i, epoch, seed, templates),
      image: { kind: 'raw', image: { data: c.images.subarray(i * px, (i + 1) * px), width: c.cols, height: c.rows, channels: 1 } },
      label, meta: { className: FASHION_MNIST_CLASSES[label] },
      source: `${dir}/${imgBase}[${i}]`, shard: i, offset: 0,
    };
  }

  return {
    name: `fashion-mnist:${split}`,
    classNames: FASHION_MNIST_CLASSES,
    indexed: true,
    async shardCount() { return load().n; },
    shardName: (i) => `${split}[${i}]`,
    async *readShard(i, from, ctx) {
      if (from === 0 && i >= 0 && i < load().n) yield record(i, ctx.epoch);
    },
    async readRecords(i, offsets, ctx) { return offsets.map(() => record(i, ctx.epoch)); },
    knownSize: () => load().n,
  };
}

// `duet data convert`: any dataset (CSV, folder, Fashion-MNIST, shapes, shards) → WebDataset tar shards of
// `shardSize` samples. Encoded files are copied as-is (after a header check), raw pixels are PNG-encoded. Keys are
// sequential (webdataset keys must not contain dots); the original key goes into the .json. Each shard is
// written to a temp file and renamed, so a crash never leaves a half shard under its final name.
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import * as tar from 'tar-stream';
import { probeImageSource } from './decode.js';
import { openDataset, type OpenDatasetOptions } from './open-dataset.js';
import { SkipLog, errorMessage, type SkipReport } from './skip-log.js';
import type { DataRecord, Dataset } from './types.js';

export interface ConvertOptions extends OpenDatasetOptions {
  /** Samples per shard (default 1000). */
  shardSize?: number;
  /** Shard file prefix (default "data"). */
  prefix?: string;
  /** Write .tar.gz (default false). */
  gzip?: boolean;
  onProgress?: (p: { records: number; shards: number; skipped: number }) => void;
}
export interface ConvertResult { shards: string[]; pattern: string; records: number; skipped: SkipReport }

interface Entry { name: string; data: Uint8Array }

async function encode(rec: DataRecord): Promise<{ ext: string; data: Uint8Array }> {
  const src = rec.image;
  if (src.kind === 'raw') {
    const { data, width, height, channels } = src.image;
    return { ext: 'png', data: await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } }).png().toBuffer() };
  }
  const m = await probeImageSource(src); // rejects missing/corrupt files before they enter a shard
  const data = src.kind === 'bytes' ? src.bytes : new Uint8Array(await readFile(src.path));
  const ext = m.format === 'jpeg' ? 'jpg' : m.format;
  if (!['jpg', 'png', 'webp'].includes(ext)) return { ext: 'png', data: await sharp(data).png().toBuffer() };
  return { ext, data };
}

async function writeShard(path: string, entries: Entry[], gzip: boolean): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const pack = tar.pack();
  const out = createWriteStream(tmp);
  const done = gzip ? pipeline(pack, createGzip(), out) : pipeline(pack, out);
  try {
    for (const e of entries) {
      await new Promise<void>((res, rej) => pack.entry({ name: e.name, size: e.data.byteLength, mtime: new Date(0), mode: 0o644 }, Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength), (err) => (err ? rej(err) : res())));
    }
    pack.finalize();
    await done;
    await rename(tmp, path);
  } catch (e) {
    pack.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function convertToWebDataset(source: string | Dataset, outDir: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  const shardSize = opts.shardSize ?? 1000;
  if (!Number.isInteger(shardSize) || shardSize < 1) throw new Error(`convertToWebDataset: shardSize must be a positive integer, got ${shardSize}`);
  const ds = openDataset(source, opts);
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const prefix = opts.prefix ?? 'data';
  const suffix = opts.gzip ? '.tar.gz' : '.tar';
  const skips = new SkipLog();
  const ctx = { epoch: 0, skips };
  const shards: string[] = [];
  let entries: Entry[] = [];
  let inShard = 0;
  let records = 0;
  const flush = async () => {
    if (!inShard) return;
    const path = join(dir, `${prefix}-${String(shards.length).padStart(6, '0')}${suffix}`);
    await writeShard(path, entries, !!opts.gzip);
    shards.push(path);
    entries = [];
    inShard = 0;
    opts.onProgress?.({ records, shards: shards.length, skipped: skips.total });
  };
  const n = await ds.shardCount();
  for (let i = 0; i < n; i++) {
    for await (const r of ds.readShard(i, 0, ctx)) {
      let img: { ext: string; data: Uint8Array };
      try {
        img = await encode(r);
      } catch (e) {
        skips.add({ source: r.source, key: r.key, reason: /^(missing|corrupt) image:/.test(errorMessage(e)) ? errorMessage(e) : `corrupt image: ${errorMessage(e)}` });
        continue;
      }
      const key = String(records).padStart(9, '0');
      entries.push({ name: `${key}.${img.ext}`, data: img.data });
      entries.push({ name: `${key}.txt`, data: new TextEncoder().encode(r.caption) });
      entries.push({ name: `${key}.json`, data: new TextEncoder().encode(JSON.stringify({ key: r.key, caption: r.caption, ...(r.label !== undefined ? { label: r.label } : {}), ...(r.meta ? { meta: r.meta } : {}) })) });
      if (r.label !== undefined) entries.push({ name: `${key}.cls`, data: new TextEncoder().encode(String(r.label)) });
      records++;
      if (++inShard === shardSize) await flush();
    }
  }
  await flush();
  const last = String(Math.max(0, shards.length - 1)).padStart(6, '0');
  const pattern = join(dir, shards.length > 1 ? `${prefix}-{000000..${last}}${suffix}` : `${prefix}-000000${suffix}`);
  return { shards, pattern, records, skipped: skips.report() };
}

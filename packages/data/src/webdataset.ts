// WebDataset tar shards: files grouped into samples by key (path up to the first dot of the basename, as
// webdataset's base_plus_ext), consecutive entries sharing a key form one sample. Gzip detected by magic bytes.
// A broken shard ends with a reported skip; the samples read before the break are kept.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as tar from 'tar-stream';
import { expandShardList } from './brace.js';
import { errorMessage } from './skip-log.js';
import { readRecordsByScan, type DataRecord, type Dataset, type ReadContext } from './types.js';

export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp'] as const;

export interface WebDatasetOptions {
  /** Image extensions in order of preference (default jpg, jpeg, png, webp). */
  imageExtensions?: readonly string[];
  /** Caption extensions in order of preference (default txt, then json). */
  captionExtensions?: readonly string[];
  /** Field read from a .json caption file (default: first of "caption", "text", "title" present). */
  jsonCaptionKey?: string;
}

/** Splits a tar member name into webdataset's (key, extension). */
export function splitKey(name: string): { key: string; ext: string } {
  const slash = name.lastIndexOf('/');
  const dot = name.indexOf('.', slash + 1);
  if (dot < 0) return { key: name, ext: '' };
  return { key: name.slice(0, dot), ext: name.slice(dot + 1).toLowerCase() };
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

async function readEntry(stream: AsyncIterable<unknown>): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Groups of (ext → bytes) per key, in tar order, with their group index. Throws on unreadable shards. */
async function* readGroups(path: string, from: number): AsyncGenerator<{ index: number; key: string; files: Map<string, Uint8Array> }> {
  const gz = await isGzip(path);
  const src = createReadStream(path);
  const extract = tar.extract();
  const gunzip = gz ? createGunzip() : undefined;
  const fail = (e: Error) => extract.destroy(e);
  src.on('error', fail);
  if (gunzip) { gunzip.on('error', fail); src.pipe(gunzip).pipe(extract); } else src.pipe(extract);
  let index = -1;
  let key: string | undefined;
  let files = new Map<string, Uint8Array>();
  try {
    for await (const entry of extract) {
      const h = entry.header;
      if (h.type !== 'file' && h.type !== 'contiguous-file') { entry.resume(); continue; }
      const { key: k, ext } = splitKey(h.name);
      if (k !== key) {
        if (key !== undefined && index >= from) yield { index, key, files };
        index++;
        key = k;
        files = new Map();
      }
      // Skip bodies before the resume offset without buffering them.
      if (index < from || k.split('/').pop()!.startsWith('__') || ext === '') { entry.resume(); continue; }
      files.set(ext, await readEntry(entry));
    }
    if (key !== undefined && index >= from) yield { index, key, files };
  } finally {
    src.destroy();
    gunzip?.destroy();
    extract.destroy();
  }
}

export function webDataset(pattern: string | readonly string[], opts: WebDatasetOptions = {}): Dataset {
  const shards = expandShardList(pattern).map((p) => resolve(p));
  if (!shards.length) throw new Error(`webDataset: no shards in ${JSON.stringify(pattern)}`);
  const imageExts = opts.imageExtensions ?? IMAGE_EXTENSIONS;
  const captionExts = opts.captionExtensions ?? ['txt', 'json'];

  function caption(files: Map<string, Uint8Array>): { text?: string; why?: string } {
    for (const ext of captionExts) {
      const b = files.get(ext);
      if (!b) continue;
      const s = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
      if (ext !== 'json') return { text: s };
      try {
        const o = JSON.parse(s) as Record<string, unknown>;
        const k = opts.jsonCaptionKey ?? ['caption', 'text', 'title'].find((x) => typeof o?.[x] === 'string');
        if (k && typeof o[k] === 'string') return { text: o[k] };
        return { why: `missing caption: .json has no string ${opts.jsonCaptionKey ? `"${opts.jsonCaptionKey}"` : '"caption"/"text"/"title"'}` };
      } catch (e) {
        return { why: `bad caption json: ${errorMessage(e)}` };
      }
    }
    return { why: `missing caption: none of .${captionExts.join('/.')}` };
  }

  const ds: Dataset = {
    name: `webdataset:${shards.length === 1 ? shards[0] : `${shards[0]} (+${shards.length - 1})`}`,
    async shardCount() { return shards.length; },
    shardName: (i) => shards[i] ?? `#${i}`,
    async *readShard(i: number, from: number, ctx: ReadContext): AsyncGenerator<DataRecord> {
      const path = shards[i]!;
      try {
        for await (const g of readGroups(path, from)) {
          const source = `${path}#${g.key}`;
          const ext = imageExts.find((e) => g.files.has(e));
          if (!ext) { ctx.skips.add({ source, key: g.key, reason: `missing image: none of .${imageExts.join('/.')} (has ${[...g.files.keys()].join(', ') || 'nothing'})` }); continue; }
          const c = caption(g.files);
          if (c.text === undefined) { ctx.skips.add({ source, key: g.key, reason: c.why! }); continue; }
          if (!c.text.trim()) { ctx.skips.add({ source, key: g.key, reason: 'empty caption' }); continue; }
          const meta: Record<string, unknown> = {};
          const json = g.files.get('json');
          if (json && ext !== 'json') {
            try { meta['json'] = JSON.parse(Buffer.from(json).toString('utf8')); } catch { /* caption path reported it if it mattered */ }
          }
          const cls = g.files.get('cls');
          const label = cls ? Number.parseInt(Buffer.from(cls).toString('utf8'), 10) : undefined;
          yield {
            key: g.key, caption: c.text.trim(), image: { kind: 'bytes', bytes: g.files.get(ext)!, ext },
            ...(label !== undefined && Number.isFinite(label) ? { label } : {}),
            ...(Object.keys(meta).length ? { meta } : {}),
            source, shard: i, offset: g.index,
          };
        }
      } catch (e) {
        ctx.skips.add({ source: path, reason: `unreadable shard: ${errorMessage(e)}` });
      }
    },
    readRecords: (i, offsets, ctx) => readRecordsByScan(ds, i, offsets, ctx),
  };
  return ds;
}

// Test-only helpers: tiny encoded images and tar shards written into a temp directory.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import * as tar from 'tar-stream';

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `duet-data-${label}-`));
}

/** A solid-colour image encoded as png/jpg/webp. */
export async function solidImage(width: number, height: number, rgb: [number, number, number], format: 'png' | 'jpg' | 'webp' = 'png'): Promise<Buffer> {
  const s = sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } });
  return format === 'png' ? s.png().toBuffer() : format === 'jpg' ? s.jpeg({ quality: 95 }).toBuffer() : s.webp({ lossless: true }).toBuffer();
}

export async function tarBytes(entries: { name: string; data: Uint8Array | string }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((res, rej) => { pack.on('data', (c: unknown) => void chunks.push(c as Buffer)); pack.on('end', res); pack.on('error', rej); });
  for (const e of entries) pack.entry({ name: e.name }, typeof e.data === 'string' ? e.data : Buffer.from(e.data));
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Writes a shard; gzip when the name ends in .gz/.tgz. */
export async function writeTar(path: string, entries: { name: string; data: Uint8Array | string }[]): Promise<string> {
  const b = await tarBytes(entries);
  writeFileSync(path, /\.(gz|tgz)$/.test(path) ? gzipSync(b) : b);
  return path;
}

/** `n` samples `<prefix><i>.png` + `.txt` whose red channel encodes the index (decoded value = i*8 % 256). */
export async function indexedShard(path: string, prefix: string, start: number, n: number): Promise<string> {
  const entries: { name: string; data: Uint8Array | string }[] = [];
  for (let i = start; i < start + n; i++) {
    entries.push({ name: `${prefix}${String(i).padStart(4, '0')}.png`, data: await solidImage(4, 4, [(i * 8) % 256, 100, 50]) });
    entries.push({ name: `${prefix}${String(i).padStart(4, '0')}.txt`, data: `caption ${i}` });
  }
  return writeTar(path, entries);
}

// Loader throughput: WebDataset shards of JPEGs (generated here with sharp) → decode → random resized crop →
// CLIP ImageProcessor (224² output) → batches with CLIP token ids; 0 (inline), 1 and 2 worker threads.
// Compared with the encoder forward+backward throughput from bench-results/encoders.json when present.
// `npm run bench data`   Env: DUET_BENCH_SAMPLES (default 384), DUET_BENCH_SRC (JPEG side, default 320),
// DUET_BENCH_BATCH (default 32), DUET_BENCH_WORKERS (default 0,1,2).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import * as tar from 'tar-stream';
import { createLoader, createTransform, decodeImageBytes, webDataset, type RawImage } from '@duet/data';
import { ImageProcessor, TextTokenizer, defaultPreprocessorConfig, presetTokenizer } from '@duet/preprocess';
import { printTable, writeResult, type Row } from './report.ts';

const samples = Number(process.env['DUET_BENCH_SAMPLES'] ?? 384);
const src = Number(process.env['DUET_BENCH_SRC'] ?? 320);
const batchSize = Number(process.env['DUET_BENCH_BATCH'] ?? 32);
const workerCounts = (process.env['DUET_BENCH_WORKERS'] ?? '0,1,2').split(',').map(Number);
const perShard = 128;

/** A photo-like JPEG (smooth gradients + noise, so it neither compresses to nothing nor is pure noise). */
async function jpeg(i: number): Promise<Buffer> {
  const w = src, h = Math.round(src * 0.75);
  const px = Buffer.alloc(w * h * 3);
  let s = (i + 1) * 2654435761 >>> 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    const n = (s >>> 24) / 16;
    const o = (y * w + x) * 3;
    px[o] = (x * 255 / w + i * 7 + n) % 256; px[o + 1] = (y * 255 / h + n) % 256; px[o + 2] = ((x + y) * 128 / w + n) % 256;
  }
  return sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

async function writeShards(dir: string): Promise<string> {
  const n = Math.ceil(samples / perShard);
  for (let s = 0; s < n; s++) {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    const done = new Promise<void>((res) => { pack.on('data', (c: unknown) => void chunks.push(c as Buffer)); pack.on('end', res); });
    for (let i = s * perShard; i < Math.min(samples, (s + 1) * perShard); i++) {
      const key = String(i).padStart(6, '0');
      pack.entry({ name: `${key}.jpg` }, await jpeg(i));
      pack.entry({ name: `${key}.txt` }, `a synthetic photo number ${i} with a gradient`);
    }
    pack.finalize();
    await done;
    writeFileSync(join(dir, `bench-${String(s).padStart(3, '0')}.tar`), Buffer.concat(chunks));
  }
  return join(dir, `bench-{000..${String(n - 1).padStart(3, '0')}}.tar`);
}

/** Encoder fwd+bwd samples/s from bench-results/encoders.json, whatever its row layout (first matching number). */
function encoderThroughput(): { label: string; value: number }[] {
  const path = resolve(process.env['DUET_BENCH_DIR'] ?? 'bench-results', 'encoders.json');
  if (!existsSync(path)) return [];
  const out: { label: string; value: number }[] = [];
  const visit = (v: unknown, label: string) => {
    if (Array.isArray(v)) return v.forEach((x, i) => visit(x, label || String(i)));
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    const name = String(o['preset'] ?? o['model'] ?? o['name'] ?? label);
    for (const [k, x] of Object.entries(o)) {
      if (typeof x === 'number' && /(fwd.?bwd|forward.?backward|train).*(samples|img|images).*s|samples.?per.?s/i.test(k)) out.push({ label: `${name} ${k}`, value: x });
      else visit(x, name);
    }
  };
  visit(JSON.parse(readFileSync(path, 'utf8')), '');
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'duet-data-bench-'));
try {
  console.log(`writing ${samples} JPEGs (${src}×${Math.round(src * 0.75)}) into shards under ${dir} ...`);
  const pattern = await writeShards(dir);
  const config = defaultPreprocessorConfig('clip', 224);
  const imageProcessor = ImageProcessor.fromConfig(config);
  const { tokenizerJson, tokenizerConfig } = presetTokenizer('clip');
  const tokenizer = TextTokenizer.fromJSON(tokenizerJson, tokenizerConfig);
  const enc = encoderThroughput();
  const rows: Row[] = [];
  for (const workers of workerCounts) {
    const loader = createLoader(webDataset(pattern), { batchSize, seed: 0, workers, imageProcessor, tokenizer, augment: true, drop_last: true, shuffleBuffer: 256 });
    let n = 0;
    let t0 = 0;
    let first = 0;
    const start = performance.now();
    for await (const b of loader) {
      if (!t0) { t0 = performance.now(); first = t0 - start; continue; } // first batch = worker start-up + warm-up
      n += b.pixelShape[0];
      if (n % (batchSize * 4) === 0) process.stdout.write(`  workers=${workers}: ${n} samples\r`);
    }
    const secs = (performance.now() - t0) / 1000;
    rows.push({
      workers: workers === 0 ? '0 (inline)' : workers, samples: n, seconds: +secs.toFixed(2), 'samples/s': +(n / secs).toFixed(1),
      'first batch ms': Math.round(first), skipped: loader.errors().total,
      'encoder fwd+bwd samples/s': enc.length ? enc.map((e) => `${e.label}: ${e.value}`).join('; ') : null,
    });
  }
  // Where the time goes, per sample on one thread: JPEG decode (sharp) vs augment + preprocess (JS).
  const jpgs = await Promise.all(Array.from({ length: 16 }, (_, i) => jpeg(i)));
  let t = performance.now();
  const decoded: RawImage[] = [];
  for (const j of jpgs) decoded.push(await decodeImageBytes(j));
  const decodeMs = (performance.now() - t) / jpgs.length;
  const transform = await createTransform({ augment: {} }, imageProcessor);
  t = performance.now();
  for (let i = 0; i < decoded.length; i++) await transform(decoded[i]!, i);
  const transformMs = (performance.now() - t) / decoded.length;
  printTable('Per-sample cost on one thread', [{ stage: 'decode JPEG (sharp)', ms: +decodeMs.toFixed(2) }, { stage: 'RandomResizedCrop + CLIP processor 224²', ms: +transformMs.toFixed(2) }]);
  printTable(`Loader throughput: ${src}px JPEG → RandomResizedCrop → CLIP processor 224², batch ${batchSize} (cores: ${(await import('node:os')).cpus().length})`, rows);
  if (!enc.length) console.log('encoder fwd+bwd column: bench-results/encoders.json not found (run `npm run bench encoders`), shown as —');
  writeResult('data', { samples, sourceSize: [src, Math.round(src * 0.75)], batchSize, outputSize: 224, perSampleMs: { decode: decodeMs, transform: transformMs }, rows });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Throughput of @duet/preprocess: image pipeline (resize + crop + normalise to 224² from a 512² source,
// per resampling arithmetic; with training augmentation), JPEG decode, and tokenization. `npm run bench preprocess`
// Env: DUET_BENCH_SECONDS (default 2 per row).
import sharp from 'sharp';
import {
  ImageProcessor, TextTokenizer, colorJitter, defaultPreprocessorConfig, presetTokenizer, randomResizedCrop, type RawImage, type ResampleMode,
} from '@duet/preprocess';
import { decodeImage } from '@duet/preprocess/node';
import { printTable, writeResult, type Row } from './report.ts';

const seconds = Number(process.env['DUET_BENCH_SECONDS'] ?? 2);

function timeIt(fn: () => number): { perSec: number; iters: number } {
  for (let i = 0; i < 3; i++) fn(); // warm-up (JIT)
  let n = 0, items = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) { items += fn(); n++; }
  return { perSec: items / ((performance.now() - t0) / 1000), iters: n };
}

async function timeAsync(fn: () => Promise<number>): Promise<{ perSec: number; iters: number }> {
  for (let i = 0; i < 3; i++) await fn();
  let n = 0, items = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) { items += await fn(); n++; }
  return { perSec: items / ((performance.now() - t0) / 1000), iters: n };
}

/** A deterministic 512x512 RGB "photo" (smooth gradients + texture) so resampling does real work. */
function source(size = 512): RawImage {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const i = (y * size + x) * 3;
    data[i] = (x + ((y * 7) % 13)) & 255; data[i + 1] = (y * 3 + (x ^ y)) & 255; data[i + 2] = ((x * y) >> 6) & 255;
  }
  return { data, width: size, height: size, channels: 3 };
}

let s = 12345;
const rng = { next: () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) };

const img = source();
const rows: Row[] = [];
for (const family of ['clip', 'siglip'] as const) {
  for (const mode of ['torchvision', 'pil', 'float'] as ResampleMode[]) {
    const p = ImageProcessor.fromConfig(defaultPreprocessorConfig(family, 224), { resampleMode: mode });
    const r = timeIt(() => p.process([img]).shape[0]);
    rows.push({ task: `${family} process 512²→224² (${mode})`, 'items/s': r.perSec, 'ms/item': 1000 / r.perSec });
  }
}
const clipProc = ImageProcessor.fromConfig(defaultPreprocessorConfig('clip', 224));
const aug = timeIt(() => clipProc.process([randomResizedCrop(img, rng, { size: 224, scale: [0.9, 1] })]).shape[0]);
rows.push({ task: 'clip train: randomResizedCrop + process', 'items/s': aug.perSec, 'ms/item': 1000 / aug.perSec });
const augJ = timeIt(() => clipProc.process([colorJitter(randomResizedCrop(img, rng, { size: 224 }), rng, { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 })]).shape[0]);
rows.push({ task: 'clip train: + colorJitter', 'items/s': augJ.perSec, 'ms/item': 1000 / augJ.perSec });

const jpeg = await sharp(Buffer.from(img.data), { raw: { width: 512, height: 512, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
const dec = await timeAsync(async () => (await decodeImage(jpeg)).width > 0 ? 1 : 0);
rows.push({ task: 'decodeImage 512² JPEG (sharp)', 'items/s': dec.perSec, 'ms/item': 1000 / dec.perSec });

const captions = Array.from({ length: 256 }, (_, i) => `a photo of a ${['red', 'small', 'blue', 'striped'][i % 4]} ${['cat', 'ankle boot', 'dress', 'sneaker', 'bag'][i % 5]} number ${i}, taken outdoors!`);
for (const family of ['clip', 'siglip'] as const) {
  const { tokenizerJson, tokenizerConfig } = presetTokenizer(family);
  const tok = TextTokenizer.fromJSON(tokenizerJson, tokenizerConfig);
  const r = timeIt(() => tok.encode(captions).shape[0]);
  rows.push({ task: `${family} tokenize (batches of 256, L=${tok.conventions.maxLength})`, 'items/s': r.perSec, 'ms/item': 1000 / r.perSec });
}

printTable('@duet/preprocess throughput (single thread)', rows);
writeResult('preprocess', { seconds, rows });

// 'pil' arithmetic against Pillow's own Image.resize output (every filter, down- and up-scaling), generated
// by scripts/gen-pillow-resize-fixture.py.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pilResampleFilter, resizeImage } from './resample.js';

interface Fixture { pillow: string; width: number; height: number; rgb: string; cases: { resample: number; width: number; height: number; rgb: string }[] }
const fx = JSON.parse(readFileSync(new URL('./__fixtures__/pillow-resize.json', import.meta.url), 'utf8')) as Fixture;
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
const src = { data: bytes(fx.rgb), width: fx.width, height: fx.height, channels: 3 as const };

describe(`resizeImage 'pil' mode vs Pillow ${fx.pillow} Image.resize`, () => {
  it.each(fx.cases.map((c) => [pilResampleFilter(c.resample), `${fx.width}x${fx.height} -> ${c.width}x${c.height}`, c] as const))('%s %s is bit-exact', (filter, _label, c) => {
    const out = resizeImage(src, c.width, c.height, { filter, mode: 'pil' });
    const ref = bytes(c.rgb);
    let diffs = 0;
    for (let i = 0; i < ref.length; i++) if (ref[i] !== out.data[i]) diffs++;
    expect(diffs).toBe(0);
  });
});

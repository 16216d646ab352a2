import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { colorJitter } from './color-jitter.js';
import { randomResizedCrop, sampleCropBox, type RngLike } from './random-resized-crop.js';
import type { RawImage } from '../image/raw-image.js';

/** mulberry32: a tiny seeded generator standing in for @duet/runtime's Rng. */
function rng(seed: number): RngLike {
  let a = seed >>> 0;
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
const fixed = (values: number[]): RngLike => { let i = 0; return { next: () => values[i++ % values.length]! }; };

const gradient = (w: number, h: number): RawImage => {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([x % 256, y % 256, (x + y) % 256], (y * w + x) * 3);
  return { data, width: w, height: h, channels: 3 };
};

describe('randomResizedCrop', () => {
  it('samples boxes inside the image with area in the scale range and ratio in range', () => {
    const r = rng(1);
    for (let i = 0; i < 200; i++) {
      const b = sampleCropBox(300, 451, r, [0.5, 1], [3 / 4, 4 / 3]);
      expect(b.top).toBeGreaterThanOrEqual(0);
      expect(b.left).toBeGreaterThanOrEqual(0);
      expect(b.top + b.height).toBeLessThanOrEqual(300);
      expect(b.left + b.width).toBeLessThanOrEqual(451);
      const frac = (b.height * b.width) / (300 * 451);
      expect(frac).toBeGreaterThan(0.5 * 0.97);
      expect(frac).toBeLessThan(1.03);
      expect(b.width / b.height).toBeGreaterThan((3 / 4) * 0.97);
      expect(b.width / b.height).toBeLessThan((4 / 3) * 1.03);
    }
  });

  it('falls back to a centred crop clamped to the ratio range when no try fits', () => {
    // scale 1 with ratio draws at the extremes never fits a 100x400 image; fallback: h = 100, w = round(100 * 4/3) = 133.
    const b = sampleCropBox(100, 400, fixed([0.999]), [1, 1], [3 / 4, 4 / 3]);
    expect(b).toEqual({ top: 0, left: Math.floor((400 - 133) / 2), height: 100, width: 133 });
  });

  it('is deterministic for a seed and returns the requested size', () => {
    const img = gradient(64, 48);
    const a = randomResizedCrop(img, rng(7), { size: 32 });
    const b = randomResizedCrop(img, rng(7), { size: 32 });
    const c = randomResizedCrop(img, rng(8), { size: [24, 40] });
    expect([a.width, a.height, a.channels]).toEqual([32, 32, 3]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect([c.height, c.width]).toEqual([24, 40]);
    expect(() => randomResizedCrop(img, rng(1), { size: 0 })).toThrow(/size must be a positive integer/);
    expect(() => randomResizedCrop(img, rng(1), { size: 8, scale: [0.9, 1.2] })).toThrow(/scale must satisfy/);
  });
});

describe('colorJitter', () => {
  const img = gradient(16, 16);
  it('brightness factor 0 gives black, saturation factor 0 gives grey (ITU-R 601 luma)', () => {
    const black = colorJitter(img, rng(3), { brightness: [0, 0] });
    expect(black.data.every((v) => v === 0)).toBe(true);
    const g = colorJitter({ data: new Uint8Array([200, 100, 50]), width: 1, height: 1, channels: 3 }, rng(3), { saturation: [0, 0] });
    const l = Math.round((200 * 299 + 100 * 587 + 50 * 114) / 1000);
    expect(Array.from(g.data)).toEqual([l, l, l]);
  });
  it('contrast factor 0 gives the mean grey; hue shift by 1/3 turn rotates pure red to green', () => {
    const c = colorJitter({ data: new Uint8Array([0, 0, 0, 255, 255, 255]), width: 2, height: 1, channels: 3 }, rng(3), { contrast: [0, 0] });
    expect(Array.from(c.data)).toEqual([128, 128, 128, 128, 128, 128]);
    const h = colorJitter({ data: new Uint8Array([255, 0, 0]), width: 1, height: 1, channels: 3 }, rng(3), { hue: [1 / 3, 1 / 3] });
    expect(Array.from(h.data)).toEqual([0, 255, 0]);
    // Greys have no hue and stay put.
    const g = colorJitter({ data: new Uint8Array([90, 90, 90]), width: 1, height: 1, channels: 3 }, rng(3), { hue: [0.5, 0.5] });
    expect(Array.from(g.data)).toEqual([90, 90, 90]);
  });
  it('p = 0 leaves the image unchanged; same seed, same result; bad ranges rejected', () => {
    expect(Array.from(colorJitter(img, rng(1), { brightness: 0.5, p: 0 }).data)).toEqual(Array.from(img.data));
    const o = { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 };
    expect(Array.from(colorJitter(img, rng(5), o).data)).toEqual(Array.from(colorJitter(img, rng(5), o).data));
    expect(() => colorJitter(img, rng(1), { hue: 0.7 })).toThrow(/hue range/);
    expect(() => colorJitter(img, rng(1), { brightness: -1 })).toThrow(/brightness must be non-negative/);
  });
});

describe('colorJitter vs Pillow ImageEnhance (scripts/gen-pillow-enhance-fixture.py)', () => {
  interface Fx { pillow: string; width: number; height: number; rgb: string; cases: { op: string; factor: number; rgb: string }[] }
  const fx = JSON.parse(readFileSync(new URL('./__fixtures__/pillow-enhance.json', import.meta.url), 'utf8')) as Fx;
  const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
  const src: RawImage = { data: bytes(fx.rgb), width: fx.width, height: fx.height, channels: 3 };
  it.each(fx.cases.map((c) => [c.op, c.factor, c] as const))('%s %f is bit-exact', (op, factor, c) => {
    const opts = op === 'grayscale' ? { grayscaleP: 1, p: 0 } : { [op]: [factor, factor] as [number, number] };
    expect(Array.from(colorJitter(src, rng(11), opts).data)).toEqual(Array.from(bytes(c.rgb)));
  });
});

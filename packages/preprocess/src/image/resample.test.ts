import { describe, expect, it } from 'vitest';
import { computeCoefficients, pilResampleFilter, resizeImage, type ResampleFilter, type ResampleMode } from './resample.js';
import type { RawImage } from './raw-image.js';

const grey = (w: number, h: number, f: (x: number, y: number) => number): RawImage => {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = f(x, y);
  return { data, width: w, height: h, channels: 1 };
};
const FILTERS: ResampleFilter[] = ['nearest', 'box', 'bilinear', 'hamming', 'bicubic', 'lanczos'];
const MODES: ResampleMode[] = ['pil', 'torchvision', 'float'];

describe('resizeImage', () => {
  it('maps PIL resample codes to filters and rejects unknown ones', () => {
    expect([0, 1, 2, 3, 4, 5].map(pilResampleFilter)).toEqual(['nearest', 'lanczos', 'bilinear', 'bicubic', 'box', 'hamming']);
    expect(pilResampleFilter('BICUBIC')).toBe('bicubic');
    expect(() => pilResampleFilter(9)).toThrow(/unknown PIL resampling code 9/);
  });

  it('keeps a constant image constant for every filter, mode and scale', () => {
    const img = { data: new Uint8Array(37 * 23 * 3).fill(173), width: 37, height: 23, channels: 3 as const };
    for (const filter of FILTERS) for (const mode of MODES) for (const [w, h] of [[11, 7], [80, 50], [37, 9]]) {
      const out = resizeImage(img, w!, h!, { filter, mode });
      expect(out.width * out.height * 3).toBe(out.data.length);
      expect(out.data.every((v) => v === 173), `${filter}/${mode} ${w}x${h}`).toBe(true);
    }
  });

  it('is the identity at the same size', () => {
    const img = grey(9, 5, (x, y) => (x * 31 + y * 17) % 256);
    for (const filter of FILTERS) expect(Array.from(resizeImage(img, 9, 5, { filter }).data)).toEqual(Array.from(img.data));
  });

  it('box filter at an exact 2x downscale averages 2x2 blocks', () => {
    const img = grey(4, 2, (x, y) => [[10, 20, 100, 200], [30, 40, 0, 50]][y]![x]!);
    for (const mode of MODES) expect(Array.from(resizeImage(img, 2, 1, { filter: 'box', mode }).data)).toEqual([25, 88]); // 25, 87.5 -> 88
  });

  it('bilinear 2x upscale interpolates at pixel centres (closed form)', () => {
    const img = grey(2, 1, (x) => [0, 200][x]!);
    // Output centres at input coordinates 0.25, 0.75, 1.25, 1.75 (clamped at the borders).
    expect(Array.from(resizeImage(img, 4, 1, { filter: 'bilinear', mode: 'pil' }).data)).toEqual([0, 50, 150, 200]);
  });

  it('nearest picks floor((i + 0.5) * scale)', () => {
    const img = grey(6, 1, (x) => x * 10);
    expect(Array.from(resizeImage(img, 4, 1, { filter: 'nearest' }).data)).toEqual([0, 20, 30, 50]);
    expect(Array.from(resizeImage(img, 3, 1, { filter: 'nearest' }).data)).toEqual([10, 30, 50]);
  });

  it('rejects non-positive target sizes', () => {
    expect(() => resizeImage(grey(2, 2, () => 0), 0, 3)).toThrow(/positive integers, got 0x3/);
  });
});

describe('computeCoefficients', () => {
  it('normalises every row, widens support by the downscale factor', () => {
    const c = computeCoefficients(512, 224, 'bicubic');
    expect(c.ksize).toBe(Math.ceil(2 * (512 / 224)) * 2 + 1);
    for (let i = 0; i < 224; i++) {
      let s = 0;
      for (let k = 0; k < c.count[i]!; k++) s += c.weights[i * c.ksize + k]!;
      expect(s).toBeCloseTo(1, 12);
    }
  });

  it('bicubic (a = -0.5) upscale weights at offset 1/4 are the Keys values', () => {
    // 4 -> 8: output 3 is centred at input coordinate 1.75; tap j sits at j + 0.5.
    const c = computeCoefficients(4, 8, 'bicubic');
    const keys = (x: number) => { x = Math.abs(x); return x < 1 ? 1.5 * x ** 3 - 2.5 * x ** 2 + 1 : x < 2 ? -0.5 * x ** 3 + 2.5 * x ** 2 - 4 * x + 2 : 0; };
    const center = (3 + 0.5) * 0.5; // 1.75
    const w = Array.from({ length: c.count[3]! }, (_, k) => c.weights[3 * c.ksize + k]!);
    const expected = Array.from({ length: c.count[3]! }, (_, k) => keys(c.start[3]! + k + 0.5 - center));
    const total = expected.reduce((a, b) => a + b, 0);
    w.forEach((v, k) => expect(v).toBeCloseTo(expected[k]! / total, 12));
  });
});

// Separable resampling with PIL's kernels and coefficient layout (Pillow `Resample.c`), shared by Node
// and the browser. Downscaling widens each kernel by the scale factor (antialiasing), exactly as PIL and
// torchvision's `antialias=True` do; they differ only in arithmetic, which `mode` selects:
//  - 'pil':         Pillow: fixed-point weights with 22 fractional bits, round + clip to uint8 after each pass;
//  - 'torchvision': PyTorch's uint8 antialias kernel (what torchvision runs on uint8 CPU tensors): int16
//                   weights whose fractional bits are chosen per axis from the largest weight, uint8 between passes;
//  - 'float':       float accumulation over both passes, one clamp + round-half-even at the end.
import type { RawImage } from './raw-image.js';

export type ResampleFilter = 'nearest' | 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';
export type ResampleMode = 'pil' | 'torchvision' | 'float';

/** PIL `Image.Resampling` codes as stored in preprocessor_config.json `resample`. */
const PIL_CODES: Record<number, ResampleFilter> = { 0: 'nearest', 1: 'lanczos', 2: 'bilinear', 3: 'bicubic', 4: 'box', 5: 'hamming' };

export function pilResampleFilter(code: number | string): ResampleFilter {
  if (typeof code === 'string') {
    const name = code.toLowerCase().replace(/^(pil|interpolationmode)\./, '').replace('antialias', 'lanczos').replace('nearest_exact', 'nearest');
    if (['nearest', 'box', 'bilinear', 'hamming', 'bicubic', 'lanczos'].includes(name)) return name as ResampleFilter;
    throw new RangeError(`resample: unknown filter "${code}"; expected a PIL code 0-5 or one of nearest, box, bilinear, hamming, bicubic, lanczos`);
  }
  const f = PIL_CODES[code];
  if (!f) throw new RangeError(`resample: unknown PIL resampling code ${code}; expected 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming`);
  return f;
}

interface Kernel { support: number; fn: (x: number) => number }

const sinc = (x: number): number => {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
};

const KERNELS: Record<Exclude<ResampleFilter, 'nearest'>, Kernel> = {
  box: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: { support: 1, fn: (x) => { x = Math.abs(x); return x < 1 ? 1 - x : 0; } },
  hamming: {
    support: 1,
    fn: (x) => {
      x = Math.abs(x);
      if (x === 0) return 1;
      if (x >= 1) return 0;
      x *= Math.PI;
      return (Math.sin(x) / x) * (0.54 + 0.46 * Math.cos(x));
    },
  },
  // Keys cubic with a = -0.5 (PIL and torchvision's antialiased bicubic; not PyTorch's non-aa a = -0.75).
  bicubic: {
    support: 2,
    fn: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  lanczos: { support: 3, fn: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

/** Per output index: the first input index, the tap count, and `ksize` normalised weights. */
export interface Coefficients { ksize: number; start: Int32Array; count: Int32Array; weights: Float64Array }

/**
 * PIL's `precompute_coeffs`: output pixel `i` is centred at input coordinate in0 + (i + 0.5) * scale; the
 * kernel is stretched by max(scale, 1) and taps are clipped to the input (then renormalised).
 */
export function computeCoefficients(inSize: number, outSize: number, filter: Exclude<ResampleFilter, 'nearest'>, in0 = 0, in1 = inSize): Coefficients {
  const { support: baseSupport, fn } = KERNELS[filter];
  const scale = (in1 - in0) / outSize;
  const filterScale = Math.max(scale, 1);
  const support = baseSupport * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * ksize);
  const ss = 1 / filterScale;
  for (let i = 0; i < outSize; i++) {
    const center = in0 + (i + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    const n = xmax - xmin;
    let total = 0;
    for (let j = 0; j < n; j++) {
      const w = fn((j + xmin - center + 0.5) * ss);
      weights[i * ksize + j] = w;
      total += w;
    }
    if (total !== 0) for (let j = 0; j < n; j++) weights[i * ksize + j]! /= total;
    start[i] = xmin;
    count[i] = n;
  }
  return { ksize, start, count, weights };
}

const PIL_PRECISION_BITS = 32 - 8 - 2;

/** Fixed-point weights: w * 2^bits rounded half away from zero (PIL `normalize_coeffs_8bpc`, torch int16 weights). */
interface FixedWeights { kk: Float64Array; bits: number }

function fixedPoint(c: Coefficients, mode: 'pil' | 'torchvision'): FixedWeights {
  let bits = PIL_PRECISION_BITS;
  if (mode === 'torchvision') {
    // PyTorch `_compute_index_ranges_int16_weights`: as many bits as keep 2 * max weight within int16.
    let wMax = 0;
    for (let i = 0; i < c.weights.length; i++) if (c.weights[i]! > wMax) wMax = c.weights[i]!;
    for (bits = 0; bits < 22; bits++) if (Math.trunc(0.5 + wMax * 2 ** (bits + 1)) >= 2 ** 15) break;
  }
  const one = 2 ** bits;
  const kk = new Float64Array(c.weights.length);
  for (let i = 0; i < kk.length; i++) {
    const v = c.weights[i]! * one;
    kk[i] = v < 0 ? Math.trunc(v - 0.5) : Math.trunc(v + 0.5);
  }
  return { kk, bits };
}

/** (acc >> bits) clamped to [0, 255]. */
const clip8 = (acc: number, one: number): number => {
  const v = Math.floor(acc / one); // exact: one is a power of two
  return v < 0 ? 0 : v > 255 ? 255 : v;
};

/** Round half to even then clamp, as torch's `round_()` after `clamp_(0, 255)`. */
const roundClamp8 = (v: number): number => {
  if (v <= 0) return 0;
  if (v >= 255) return 255;
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
};

export interface ResizeOptions {
  filter?: ResampleFilter;
  mode?: ResampleMode;
  /** Source region [left, top, right, bottom] in pixels (PIL's `box`); default the whole image. */
  box?: [number, number, number, number];
}

/** Resizes an 8-bit image to width x height (no-op copy when the size is unchanged and no box is given). */
export function resizeImage(img: RawImage, width: number, height: number, opts: ResizeOptions = {}): RawImage {
  const filter = opts.filter ?? 'bicubic';
  const mode = opts.mode ?? 'float';
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`resize: target size must be positive integers, got ${width}x${height}`);
  }
  const box = opts.box ?? [0, 0, img.width, img.height];
  const C = img.channels;
  if (filter === 'nearest') return resizeNearest(img, width, height, box);
  const needH = width !== img.width || box[0] !== 0 || box[2] !== img.width;
  const needV = height !== img.height || box[1] !== 0 || box[3] !== img.height;
  if (!needH && !needV) return { data: new Uint8Array(img.data), width, height, channels: C };

  const ch = computeCoefficients(img.width, width, filter, box[0], box[2]);
  const cv = computeCoefficients(img.height, height, filter, box[1], box[3]);
  // Rows the vertical pass reads: only those get a horizontal pass (as PIL does).
  const yFirst = needV ? cv.start[0]! : 0;
  const yLast = needV ? cv.start[height - 1]! + cv.count[height - 1]! : img.height;
  const rows = yLast - yFirst;

  // torchvision has no tensor kernels for box/hamming/lanczos; those go through PIL arithmetic.
  const fixedMode = mode === 'pil' || (mode === 'torchvision' && (filter !== 'bilinear' && filter !== 'bicubic')) ? 'pil' : mode === 'torchvision' ? 'torchvision' : null;
  if (fixedMode) {
    let src: Uint8Array | Uint8ClampedArray = img.data;
    let srcW = img.width;
    let srcRow0 = 0;
    if (needH) {
      src = horizontalFixed(img.data, img.width, C, yFirst, rows, width, ch, fixedPoint(ch, fixedMode));
      srcW = width;
      srcRow0 = yFirst;
    }
    const out = needV ? verticalFixed(src, srcW, C, srcRow0, height, cv, fixedPoint(cv, fixedMode)) : src;
    return { data: out instanceof Uint8Array ? out : new Uint8Array(out), width, height, channels: C };
  }
  // float mode
  let tmp: Float64Array;
  let tmpW = img.width;
  let tmpRow0 = 0;
  if (needH) {
    tmp = horizontal(img.data, img.width, C, yFirst, rows, width, ch.start, ch.count, ch.ksize, ch.weights, 0);
    tmpW = width;
    tmpRow0 = yFirst;
  } else {
    tmp = Float64Array.from(img.data);
  }
  const out = new Uint8Array(width * height * C);
  if (!needV) {
    for (let i = 0; i < out.length; i++) out[i] = roundClamp8(tmp[i]!);
    return { data: out, width, height, channels: C };
  }
  const rowLen = tmpW * C;
  const acc = new Float64Array(rowLen);
  for (let y = 0; y < height; y++) {
    accumulateRows(tmp, rowLen, cv.start[y]! - tmpRow0, cv.count[y]!, cv.weights, y * cv.ksize, acc, 0);
    const o = y * rowLen;
    for (let x = 0; x < rowLen; x++) out[o + x] = roundClamp8(acc[x]!);
  }
  return { data: out, width, height, channels: C };
}

/**
 * Horizontal pass over `rows` rows starting at y0: out[r, x, c] = init + sum_k src[y0 + r, start[x] + k, c] * w[x, k].
 * Returns raw sums (callers round/clip); specialised for 3 channels, the common case.
 */
function horizontal(src: ArrayLike<number>, inW: number, C: number, y0: number, rows: number, outW: number,
  start: Int32Array, count: Int32Array, ksize: number, w: Float64Array, init: number): Float64Array {
  const out = new Float64Array(rows * outW * C);
  for (let r = 0; r < rows; r++) {
    const rowIn = (y0 + r) * inW * C;
    let o = r * outW * C;
    for (let x = 0; x < outW; x++) {
      const n = count[x]!, wOff = x * ksize;
      let p = rowIn + start[x]! * C;
      if (C === 3) {
        let a0 = init, a1 = init, a2 = init;
        for (let k = 0; k < n; k++, p += 3) {
          const wk = w[wOff + k]!;
          a0 += src[p]! * wk; a1 += src[p + 1]! * wk; a2 += src[p + 2]! * wk;
        }
        out[o++] = a0; out[o++] = a1; out[o++] = a2;
      } else {
        for (let c = 0; c < C; c++) {
          let a = init;
          for (let k = 0, q = p + c; k < n; k++, q += C) a += src[q]! * w[wOff + k]!;
          out[o++] = a;
        }
      }
    }
  }
  return out;
}

/** acc[x] = init + sum_k src[row0 + k][x] * w[wOff + k] over whole rows (cache-friendly vertical pass). */
function accumulateRows(src: ArrayLike<number>, rowLen: number, row0: number, n: number, w: Float64Array, wOff: number, acc: Float64Array, init: number): void {
  acc.fill(init);
  for (let k = 0; k < n; k++) {
    const wk = w[wOff + k]!;
    const base = (row0 + k) * rowLen;
    for (let x = 0; x < rowLen; x++) acc[x]! += src[base + x]! * wk;
  }
}

function horizontalFixed(src: ArrayLike<number>, inW: number, C: number, y0: number, rows: number, outW: number, c: Coefficients, fw: FixedWeights): Uint8Array {
  const one = 2 ** fw.bits;
  if (C !== 3) {
    const sums = horizontal(src, inW, C, y0, rows, outW, c.start, c.count, c.ksize, fw.kk, one / 2);
    const out = new Uint8Array(sums.length);
    for (let i = 0; i < sums.length; i++) out[i] = clip8(sums[i]!, one);
    return out;
  }
  // RGB fast path: accumulate and clip straight into the uint8 row.
  const { start, count, ksize } = c, w = fw.kk, half = one / 2, inv = 1 / one;
  const out = new Uint8Array(rows * outW * 3);
  for (let r = 0; r < rows; r++) {
    const rowIn = (y0 + r) * inW * 3;
    let o = r * outW * 3;
    for (let x = 0; x < outW; x++) {
      const n = count[x]!, wOff = x * ksize;
      let p = rowIn + start[x]! * 3;
      let a0 = half, a1 = half, a2 = half;
      for (let k = 0; k < n; k++, p += 3) {
        const wk = w[wOff + k]!;
        a0 += src[p]! * wk; a1 += src[p + 1]! * wk; a2 += src[p + 2]! * wk;
      }
      a0 = Math.floor(a0 * inv); a1 = Math.floor(a1 * inv); a2 = Math.floor(a2 * inv);
      out[o++] = a0 < 0 ? 0 : a0 > 255 ? 255 : a0;
      out[o++] = a1 < 0 ? 0 : a1 > 255 ? 255 : a1;
      out[o++] = a2 < 0 ? 0 : a2 > 255 ? 255 : a2;
    }
  }
  return out;
}

function verticalFixed(src: ArrayLike<number>, w: number, C: number, row0: number, outH: number, c: Coefficients, fw: FixedWeights): Uint8Array {
  const one = 2 ** fw.bits;
  const rowLen = w * C;
  const out = new Uint8Array(outH * rowLen);
  const acc = new Float64Array(rowLen);
  for (let y = 0; y < outH; y++) {
    accumulateRows(src, rowLen, c.start[y]! - row0, c.count[y]!, fw.kk, y * c.ksize, acc, one / 2);
    const o = y * rowLen;
    for (let x = 0; x < rowLen; x++) out[o + x] = clip8(acc[x]!, one);
  }
  return out;
}

/** PIL/torchvision "nearest-exact": source index floor(box0 + (i + 0.5) * scale). */
function resizeNearest(img: RawImage, width: number, height: number, box: [number, number, number, number]): RawImage {
  const C = img.channels;
  const sx = (box[2] - box[0]) / width, sy = (box[3] - box[1]) / height;
  const xs = new Int32Array(width);
  for (let x = 0; x < width; x++) xs[x] = Math.min(img.width - 1, Math.max(0, Math.floor(box[0] + (x + 0.5) * sx)));
  const out = new Uint8Array(width * height * C);
  for (let y = 0; y < height; y++) {
    const yi = Math.min(img.height - 1, Math.max(0, Math.floor(box[1] + (y + 0.5) * sy)));
    for (let x = 0; x < width; x++) {
      const si = (yi * img.width + xs[x]!) * C, di = (y * width + x) * C;
      for (let ch = 0; ch < C; ch++) out[di + ch] = img.data[si + ch]!;
    }
  }
  return { data: out, width, height, channels: C };
}

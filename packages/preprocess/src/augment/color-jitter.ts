// Colour jitter as torchvision ColorJitter applies it to PIL images in open_clip (brightness, contrast,
// saturation, hue in a random order, each factor drawn uniformly), optionally with probability p
// (open_clip's color_jitter_prob), plus random greyscale (gray_scale_prob). Brightness, contrast and
// saturation follow Pillow's ImageEnhance arithmetic; hue is rotated in float HSV (Pillow quantises hue to 8 bits).
import { assertRawImage, toRgb, type RawImage } from '../image/raw-image.js';
import type { RngLike } from './random-resized-crop.js';

export interface ColorJitterOptions {
  /** Factor range [max(0, 1 - b), 1 + b] (or an explicit [lo, hi]). */
  brightness?: number | [number, number];
  contrast?: number | [number, number];
  saturation?: number | [number, number];
  /** Hue shift range [-h, h] in turns, h <= 0.5. */
  hue?: number | [number, number];
  /** Probability of applying the jitter at all (default 1). */
  p?: number;
  /** Probability of converting to greyscale afterwards (default 0). */
  grayscaleP?: number;
}

const clamp8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : (v + 0.5) | 0);

function range(v: number | [number, number] | undefined, name: string, center: number, bound?: [number, number]): [number, number] | null {
  if (v === undefined || v === 0) return null;
  let r: [number, number];
  if (typeof v === 'number') {
    if (v < 0) throw new RangeError(`colorJitter: ${name} must be non-negative, got ${v}`);
    // torchvision: factor ranges are clipped at 0; hue ranges must already lie within [-0.5, 0.5].
    r = [center === 1 ? Math.max(0, center - v) : center - v, center + v];
  } else r = v;
  if (!(r[0] <= r[1]) || (bound && (r[0] < bound[0] || r[1] > bound[1]))) throw new RangeError(`colorJitter: ${name} range [${r.join(', ')}] is invalid${bound ? ` (allowed within [${bound.join(', ')}])` : ''}`);
  return r[0] === center && r[1] === center ? null : r;
}

/** Pillow's convert("L"): ITU-R 601-2 luma in 16-bit fixed point, rounded. */
const luma = (r: number, g: number, b: number) => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;

/** Pillow `Image.blend(degenerate, image, factor)` on 8-bit data: float32 arithmetic, truncation, clipping when extrapolating. */
const f32 = Math.fround;
function blendPil(deg: number, v: number, alpha: number): number {
  const t = f32(deg + f32(alpha * (v - deg)));
  return t <= 0 ? 0 : t >= 255 ? 255 : Math.trunc(t);
}

/** ImageEnhance with a constant degenerate image (brightness: 0, contrast: mean luma). */
function blendConst(d: Uint8Array, c: number, factor: number): void {
  const a = f32(factor);
  for (let i = 0; i < d.length; i++) d[i] = blendPil(c, d[i]!, a);
}

/** ImageEnhance.Color: blend with the image's own greyscale (saturation). */
function blendGrey(d: Uint8Array, factor: number): void {
  const a = f32(factor);
  for (let i = 0; i < d.length; i += 3) {
    const l = luma(d[i]!, d[i + 1]!, d[i + 2]!);
    d[i] = blendPil(l, d[i]!, a); d[i + 1] = blendPil(l, d[i + 1]!, a); d[i + 2] = blendPil(l, d[i + 2]!, a);
  }
}

/** RGB -> HSV, hue rotated by `shift` turns, -> RGB (torchvision `adjust_hue`), per pixel without allocation. */
function adjustHue(d: Uint8Array, shift: number): void {
  for (let i = 0; i < d.length; i += 3) {
    const r = d[i]!, g = d[i + 1]!, b = d[i + 2]!;
    const max = r > g ? (r > b ? r : b) : g > b ? g : b;
    const min = r < g ? (r < b ? r : b) : g < b ? g : b;
    const c = max - min;
    if (c === 0) continue; // grey: hue undefined, unchanged
    let h = max === r ? (g - b) / c : max === g ? (b - r) / c + 2 : (r - g) / c + 4; // in [-1, 5)
    h = h / 6 + shift;
    h = (h - Math.floor(h)) * 6; // [0, 6)
    const sector = Math.floor(h), f = h - sector;
    const p = min, q = max - c * f, t = min + c * f;
    let R: number, G: number, B: number;
    switch (sector) {
      case 0: R = max; G = t; B = p; break;
      case 1: R = q; G = max; B = p; break;
      case 2: R = p; G = max; B = t; break;
      case 3: R = p; G = q; B = max; break;
      case 4: R = t; G = p; B = max; break;
      default: R = max; G = p; B = q;
    }
    d[i] = clamp8(R); d[i + 1] = clamp8(G); d[i + 2] = clamp8(B);
  }
}

/** Returns a jittered RGB copy of `img` (3 channels); the input is not modified. */
export function colorJitter(img: RawImage, rng: RngLike, opts: ColorJitterOptions): RawImage {
  assertRawImage(img);
  const rgb = toRgb(img);
  const d = new Uint8Array(rgb.data);
  const b = range(opts.brightness, 'brightness', 1, [0, Infinity]);
  const c = range(opts.contrast, 'contrast', 1, [0, Infinity]);
  const s = range(opts.saturation, 'saturation', 1, [0, Infinity]);
  const h = range(opts.hue, 'hue', 0, [-0.5, 0.5]);
  if (rng.next() < (opts.p ?? 1)) {
    // torch.randperm(4) then one factor per op, in that order.
    const order = [0, 1, 2, 3];
    for (let i = 3; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const f = [b, c, s, h].map((r) => (r ? r[0] + (r[1] - r[0]) * rng.next() : null));
    for (const op of order) {
      const factor = f[op];
      if (factor == null) continue;
      if (op === 0) blendConst(d, 0, factor);
      else if (op === 1) {
        // ImageEnhance.Contrast: the mean of the greyscale image, rounded to an integer level.
        let sum = 0;
        for (let i = 0; i < d.length; i += 3) sum += luma(d[i]!, d[i + 1]!, d[i + 2]!);
        blendConst(d, Math.trunc(sum / (d.length / 3) + 0.5), factor);
      } else if (op === 2) blendGrey(d, factor);
      else adjustHue(d, factor);
    }
  }
  if (opts.grayscaleP && rng.next() < opts.grayscaleP) {
    for (let i = 0; i < d.length; i += 3) d[i] = d[i + 1] = d[i + 2] = luma(d[i]!, d[i + 1]!, d[i + 2]!);
  }
  return { data: d, width: rgb.width, height: rgb.height, channels: 3 };
}

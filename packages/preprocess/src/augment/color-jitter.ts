// Colour jitter as torchvision ColorJitter applies it to PIL images in open_clip (brightness, contrast,
// saturation, hue in a random order, each factor drawn uniformly), optionally with probability p
// (open_clip's color_jitter_prob), plus random greyscale (gray_scale_prob). Brightness, contrast and
// saturation follow Pillow's ImageEnhance arithmetic, hue torchvision's 8-bit HSV shift on Pillow's HSV conversion.
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

/**
 * torchvision `F_pil.adjust_hue`: Pillow's 8-bit HSV (Convert.c rgb2hsv / hsv2rgb), hue channel shifted by
 * int8(shift * 255) levels with wrap-around.
 */
const clip255 = (x: number) => (x < 0 ? 0 : x > 255 ? 255 : x);

function adjustHue(d: Uint8Array, shift: number): void {
  const dh = ((Math.trunc(shift * 255) % 256) + 256) % 256;
  if (dh === 0) return;
  const f32 = Math.fround;
  for (let i = 0; i < d.length; i += 3) {
    const r = d[i]!, g = d[i + 1]!, b = d[i + 2]!;
    const maxc = r > g ? (r > b ? r : b) : g > b ? g : b;
    const minc = r < g ? (r < b ? r : b) : g < b ? g : b;
    if (maxc === minc) continue; // s = 0: grey stays grey
    // rgb2hsv (float arithmetic as in Pillow)
    const cr = f32(maxc - minc);
    const s = f32(cr / maxc);
    const rc = f32((maxc - r) / cr), gc = f32((maxc - g) / cr), bc = f32((maxc - b) / cr);
    const h = r === maxc ? f32(bc - gc) : g === maxc ? f32(2 + rc - bc) : f32(4 + gc - rc);
    const hf = f32((h / 6 + 1) % 1);
    const uh = Math.min(255, Math.max(0, Math.trunc(hf * 255)));
    const us = Math.min(255, Math.max(0, Math.trunc(s * 255)));
    const H = (uh + dh) % 256;
    if (us === 0) { d[i] = d[i + 1] = d[i + 2] = maxc; continue; }
    // hsv2rgb
    const v = maxc;
    const sector = Math.floor((H * 6) / 255);
    const fr = f32((H * 6) / 255 - sector);
    const fs = f32(us / 255);
    const p = clip255(Math.round(v * (1 - fs)));
    const q = clip255(Math.round(v * (1 - fs * fr)));
    const t = clip255(Math.round(v * (1 - fs * (1 - fr))));
    let R: number, G: number, B: number;
    switch (sector % 6) {
      case 0: R = v; G = t; B = p; break;
      case 1: R = q; G = v; B = p; break;
      case 2: R = p; G = v; B = t; break;
      case 3: R = p; G = q; B = v; break;
      case 4: R = t; G = p; B = v; break;
      default: R = v; G = p; B = q;
    }
    d[i] = R; d[i + 1] = G; d[i + 2] = B;
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

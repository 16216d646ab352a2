// ImageProcessor: HF CLIPImageProcessor / SiglipImageProcessor semantics (convert RGB -> resize -> centre
// crop -> rescale -> normalise), producing NCHW float32 pixelValues.
import { assertRawImage, cropImage, toRgb, type RawImage } from './raw-image.js';
import { resizeImage, type ResampleMode } from './resample.js';
import { resizeOutputSize } from './output-size.js';
import { resolvePreprocessorConfig, type ImageTransformPlan, type PreprocessorConfig } from './preprocessor-config.js';

export interface PixelBatch {
  pixelValues: Float32Array;
  shape: [number, number, number, number]; // [B, C, H, W]
}

export class ImageProcessor {
  readonly config: PreprocessorConfig;
  readonly plan: ImageTransformPlan;

  private constructor(config: PreprocessorConfig, plan: ImageTransformPlan) {
    this.config = config;
    this.plan = plan;
  }

  /** `resampleMode` overrides the arithmetic (default: Pillow for `*Pil` processor types, torchvision otherwise). */
  static fromConfig(config: PreprocessorConfig, opts: { resampleMode?: ResampleMode } = {}): ImageProcessor {
    return new ImageProcessor(config, resolvePreprocessorConfig(config, opts));
  }

  /**
   * [height, width] of the output when it does not depend on the input (centre crop or a fixed
   * height/width resize); null when it does (e.g. shortest-edge resize without crop).
   */
  get outputSize(): { height: number; width: number } | null {
    if (this.plan.centerCrop) return { ...this.plan.centerCrop };
    const s = this.plan.resize?.size;
    if (s?.height && s.width && !s.shortest_edge && !s.longest_edge && !s.max_height) return { height: s.height, width: s.width };
    return null;
  }

  /** Convert, resize and crop one image (the uint8 stages, before rescale/normalise). */
  prepare(image: RawImage, name = 'image'): RawImage {
    assertRawImage(image, name);
    const p = this.plan;
    let img = p.convertRgb ? toRgb(image) : image;
    if (p.resize) {
      const [h, w] = resizeOutputSize(img.height, img.width, p.resize.size);
      if (h < 1 || w < 1) throw new RangeError(`${name}: ${img.width}x${img.height} resizes to an empty ${w}x${h} image`);
      img = resizeImage(img, w, h, { filter: p.resize.filter, mode: p.resampleMode });
    }
    if (p.centerCrop) img = centerCrop(img, p.centerCrop.height, p.centerCrop.width, p.resampleMode === 'pil' ? 'numpy' : 'torchvision');
    return img;
  }

  /** Processes a batch; all images must come out the same size (as HF requires to stack them). */
  process(images: RawImage[]): PixelBatch {
    if (!Array.isArray(images) || images.length === 0) throw new RangeError(`images: expected a non-empty array of RawImage, got ${Array.isArray(images) ? 'an empty array' : typeof images}`);
    const prepared = images.map((im, i) => this.prepare(im, `images[${i}]`));
    const { width: W, height: H, channels: C } = prepared[0]!;
    prepared.forEach((im, i) => {
      if (im.width !== W || im.height !== H || im.channels !== C) {
        throw new RangeError(`images[${i}]: processed to ${im.channels}x${im.height}x${im.width}, but images[0] gave ${C}x${H}x${W}; enable centre crop or a fixed height/width size to batch images of different shapes`);
      }
    });
    const lut = this.valueTables(C);
    const plane = H * W;
    const out = new Float32Array(images.length * C * plane);
    prepared.forEach((im, b) => {
      const base = b * C * plane;
      for (let c = 0; c < C; c++) {
        const o = base + c * plane, t = lut[c]!;
        for (let i = 0; i < plane; i++) out[o + i] = t[im.data[i * C + c]!]!;
      }
    });
    return { pixelValues: out, shape: [images.length, C, H, W] };
  }

  /**
   * Per channel, the float32 value of each uint8 level after rescale + normalise, computed with the
   * reference backend's own float32 operation order (so results match to the bit, not just closely):
   * torchvision fuses (x - mean/r) / (std/r); numpy (PIL backend) does f32(x * r), then (y - mean) / std.
   */
  private valueTables(C: number): Float32Array[] {
    const f = Math.fround;
    const r = this.plan.rescaleFactor;
    const n = this.plan.normalize;
    if (n && n.mean.length !== C && n.mean.length !== 1) throw new RangeError(`image_mean has ${n.mean.length} values but the images have ${C} channels (set do_convert_rgb to get 3)`);
    if (n && n.std.length !== C && n.std.length !== 1) throw new RangeError(`image_std has ${n.std.length} values but the images have ${C} channels`);
    const torch = this.plan.resampleMode !== 'pil';
    const tables: Float32Array[] = [];
    for (let c = 0; c < C; c++) {
      const t = new Float32Array(256);
      const m = n ? f(n.mean[n.mean.length === 1 ? 0 : c]!) : 0;
      const s = n ? f(n.std[n.std.length === 1 ? 0 : c]!) : 1;
      for (let x = 0; x < 256; x++) {
        if (n && r !== null && torch) {
          const inv = f(1 / r);
          t[x] = f(f(x - f(m * inv)) / f(s * inv));
        } else {
          const y = r === null ? x : torch ? f(x * f(r)) : f(x * r);
          t[x] = n ? f(f(y - m) / s) : y;
        }
      }
      tables.push(t);
    }
    return tables;
  }
}

/**
 * Centre crop as HF: top = floor((h - ch) / 2). A crop larger than the image zero-pads it first; the two
 * backends centre the image differently then (torchvision pads floor(diff / 2) before, numpy ceil(diff / 2)).
 */
export function centerCrop(img: RawImage, height: number, width: number, padding: 'torchvision' | 'numpy' = 'torchvision'): RawImage {
  if (img.height === height && img.width === width) return img;
  const before = (diff: number) => (padding === 'numpy' ? Math.ceil(diff / 2) : Math.floor(diff / 2));
  const top = height > img.height ? -before(height - img.height) : Math.floor((img.height - height) / 2);
  const left = width > img.width ? -before(width - img.width) : Math.floor((img.width - width) / 2);
  return cropImage(img, top, left, height, width, 0);
}

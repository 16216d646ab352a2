// Training augmentation: torchvision RandomResizedCrop as open_clip uses it (scale (0.9, 1) by default in
// Duet, ratio (3/4, 4/3), bicubic), seeded by any { next(): number } in [0, 1).
import { assertRawImage, cropImage, type RawImage } from '../image/raw-image.js';
import { resizeImage, type ResampleFilter, type ResampleMode } from '../image/resample.js';

/** Minimal random source (e.g. @duet/runtime's Rng): next() uniform in [0, 1). */
export interface RngLike {
  next(): number;
}

export interface RandomResizedCropOptions {
  /** Output size: n (square), [height, width] or { height, width }. */
  size: number | [number, number] | { height: number; width: number };
  /** Range of the crop's area as a fraction of the image. Default [0.9, 1]. */
  scale?: [number, number];
  /** Range of the crop's aspect ratio (width / height), sampled log-uniformly. Default [3/4, 4/3]. */
  ratio?: [number, number];
  filter?: ResampleFilter;
  /** Resize arithmetic; default 'pil' (open_clip transforms PIL images). */
  mode?: ResampleMode;
}

export interface CropBox { top: number; left: number; height: number; width: number }

const uniform = (rng: RngLike, lo: number, hi: number) => lo + (hi - lo) * rng.next();
/** torch.randint(lo, hi): integer in [lo, hi). */
const randint = (rng: RngLike, lo: number, hi: number) => Math.min(hi - 1, lo + Math.floor(rng.next() * (hi - lo)));
/** Python round(): half to even. */
const roundHalfEven = (x: number) => {
  const f = Math.floor(x), d = x - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
};

/** torchvision `RandomResizedCrop.get_params`: 10 tries at a random area/ratio, then a centred fallback. */
export function sampleCropBox(height: number, width: number, rng: RngLike, scale: [number, number] = [0.9, 1], ratio: [number, number] = [3 / 4, 4 / 3]): CropBox {
  if (!(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1)) throw new RangeError(`randomResizedCrop: scale must satisfy 0 < min <= max <= 1, got [${scale.join(', ')}]`);
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) throw new RangeError(`randomResizedCrop: ratio must satisfy 0 < min <= max, got [${ratio.join(', ')}]`);
  const area = height * width;
  const logLo = Math.log(ratio[0]), logHi = Math.log(ratio[1]);
  for (let i = 0; i < 10; i++) {
    const target = area * uniform(rng, scale[0], scale[1]);
    const aspect = Math.exp(uniform(rng, logLo, logHi));
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: randint(rng, 0, height - h + 1), left: randint(rng, 0, width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width, h = height;
  if (inRatio < ratio[0]) h = roundHalfEven(w / ratio[0]);
  else if (inRatio > ratio[1]) w = roundHalfEven(h * ratio[1]);
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

function outSize(size: RandomResizedCropOptions['size']): [number, number] {
  const [h, w] = typeof size === 'number' ? [size, size] : Array.isArray(size) ? size : [size?.height, size?.width];
  if (!Number.isInteger(h) || !Number.isInteger(w) || h! < 1 || w! < 1) throw new RangeError(`randomResizedCrop: size must be a positive integer, [height, width] or { height, width }, got ${JSON.stringify(size)}`);
  return [h!, w!];
}

/** Crops a random region (crop first, then resize, as torchvision does on PIL images) to `size`. */
export function randomResizedCrop(img: RawImage, rng: RngLike, opts: RandomResizedCropOptions): RawImage {
  assertRawImage(img);
  const [H, W] = outSize(opts.size);
  const box = sampleCropBox(img.height, img.width, rng, opts.scale, opts.ratio);
  const cropped = cropImage(img, box.top, box.left, box.height, box.width);
  return resizeImage(cropped, W, H, { filter: opts.filter ?? 'bicubic', mode: opts.mode ?? 'pil' });
}

// The per-sample image pipeline run in loader workers (or inline when workers = 0): optional open_clip-style
// augmentation (random resized crop, colour jitter) from @duet/preprocess, then the model's ImageProcessor.
// A loader may name another module exporting `createTransform` with the same signature (`transformModule`).
import { DataRng } from './rng.js';
import type { RawImage } from './types.js';

export interface ImageProcessorLike {
  process(images: RawImage[]): { pixelValues: Float32Array; shape: readonly number[] } | Promise<{ pixelValues: Float32Array; shape: readonly number[] }>;
}

export interface AugmentOptions {
  /** Random resized crop area range (open_clip default [0.9, 1.0]). */
  scale?: [number, number];
  /** Aspect ratio range (default [3/4, 4/3]). */
  ratio?: [number, number];
  /** Colour jitter strengths (brightness, contrast, saturation, hue) or omitted for none. */
  colorJitter?: { brightness?: number; contrast?: number; saturation?: number; hue?: number };
}

export interface TransformInit {
  /** preprocessor_config.json of the model (needed in workers, where the processor instance cannot travel). */
  preprocessorConfig?: unknown;
  /** Training augmentation, or false / undefined for none. */
  augment?: AugmentOptions | false;
}

/** Maps one decoded image to its [3, H, W] pixel values; `seed` makes augmentation a function of the sample. */
export type SampleTransform = (image: RawImage, seed: number) => Promise<Float32Array>;

interface PreprocessApi {
  ImageProcessor?: { fromConfig(c: unknown): ImageProcessorLike };
  randomResizedCrop?: (img: RawImage, rng: unknown, o: { scale: [number, number]; ratio: [number, number]; size: number | { height: number; width: number } }) => RawImage;
  colorJitter?: (img: RawImage, rng: unknown, o: NonNullable<AugmentOptions['colorJitter']>) => RawImage;
}

/** Output [H, W] of a processor, found by running it once (works for any config, no field guessing). */
export async function probeOutputSize(p: ImageProcessorLike): Promise<{ height: number; width: number }> {
  const out = await p.process([{ data: new Uint8Array(16 * 16 * 3), width: 16, height: 16, channels: 3 }]);
  const s = out.shape;
  if (s.length !== 4 || s[1] !== 3) throw new Error(`imageProcessor.process: expected shape [B, 3, H, W], got [${s.join(', ')}]`);
  return { height: s[2]!, width: s[3]! };
}

export async function createTransform(init: TransformInit, processor?: ImageProcessorLike): Promise<SampleTransform> {
  const augment = init.augment || undefined;
  let pre: PreprocessApi = {};
  if (!processor || augment) pre = (await import('@duet/preprocess')) as unknown as PreprocessApi;
  if (!processor) {
    if (!pre.ImageProcessor?.fromConfig) throw new Error('@duet/preprocess does not export ImageProcessor.fromConfig');
    if (init.preprocessorConfig === undefined) throw new Error('image transform: no imageProcessor instance and no preprocessorConfig given');
    processor = pre.ImageProcessor.fromConfig(init.preprocessorConfig);
  }
  const proc = processor;
  const size = augment ? await probeOutputSize(proc) : undefined;
  if (augment && !pre.randomResizedCrop) throw new Error('augmentation needs randomResizedCrop from @duet/preprocess');
  if (augment?.colorJitter && !pre.colorJitter) throw new Error('augment.colorJitter needs colorJitter from @duet/preprocess');
  return async (image, seed) => {
    let img = image;
    if (augment) {
      const rng = new DataRng(seed);
      img = pre.randomResizedCrop!(img, rng, { scale: augment.scale ?? [0.9, 1], ratio: augment.ratio ?? [3 / 4, 4 / 3], size: size! });
      if (augment.colorJitter) img = pre.colorJitter!(img, rng, augment.colorJitter);
    }
    const out = await proc.process([img]);
    return out.pixelValues;
  };
}

// The per-sample image pipeline run in loader workers (or inline when workers = 0): optional open_clip-style
// augmentation (random resized crop, colour jitter) from @duet/preprocess, then the model's ImageProcessor.
// A loader may name another module exporting `createTransform` with the same signature (`transformModule`).
import { ImageProcessor, colorJitter, randomResizedCrop, type PreprocessorConfig } from '@duet/preprocess';
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
  /** @duet/preprocess ColorJitterOptions (torchvision semantics), or omitted for none. */
  colorJitter?: {
    brightness?: number | [number, number]; contrast?: number | [number, number]; saturation?: number | [number, number];
    hue?: number | [number, number]; p?: number; grayscaleP?: number;
  };
}

export interface TransformInit {
  /** preprocessor_config.json of the model (needed in workers, where the processor instance cannot travel). */
  preprocessorConfig?: unknown;
  /** Training augmentation, or false / undefined for none. */
  augment?: AugmentOptions | false;
}

/** Maps one decoded image to its [3, H, W] pixel values; `seed` makes augmentation a function of the sample. */
export type SampleTransform = (image: RawImage, seed: number) => Promise<Float32Array>;

/** Output [H, W] of a processor, found by running it once (works for any config, no field guessing). */
export async function probeOutputSize(p: ImageProcessorLike): Promise<{ height: number; width: number }> {
  const out = await p.process([{ data: new Uint8Array(16 * 16 * 3), width: 16, height: 16, channels: 3 }]);
  const s = out.shape;
  if (s.length !== 4 || s[1] !== 3) throw new Error(`imageProcessor.process: expected shape [B, 3, H, W], got [${s.join(', ')}]`);
  return { height: s[2]!, width: s[3]! };
}

export async function createTransform(init: TransformInit, processor?: ImageProcessorLike): Promise<SampleTransform> {
  const augment = init.augment || undefined;
  if (!processor) {
    if (init.preprocessorConfig === undefined) throw new Error('image transform: no imageProcessor instance and no preprocessorConfig given');
    processor = ImageProcessor.fromConfig(init.preprocessorConfig as PreprocessorConfig);
  }
  const proc = processor;
  // open_clip's training transform: RandomResizedCrop straight to the model's input size, then normalise.
  const size = augment ? await probeOutputSize(proc) : undefined;
  return async (image, seed) => {
    let img = image;
    if (augment) {
      const rng = new DataRng(seed);
      img = randomResizedCrop(img, rng, { scale: augment.scale ?? [0.9, 1], ratio: augment.ratio ?? [3 / 4, 4 / 3], size: size! });
      if (augment.colorJitter) img = colorJitter(img, rng, augment.colorJitter);
    }
    const out = await proc.process([img]);
    return out.pixelValues;
  };
}

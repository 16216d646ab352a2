// Test-only stand-ins for @duet/preprocess (not exported): nearest-neighbour resize to S×S, /255, grey → RGB, and
// a whitespace tokenizer padding to 8. Used by loader tests so they exercise the pipeline, not preprocessing.
import type { ImageProcessorLike, SampleTransform, TransformInit } from '../image-transform.js';
import type { TokenizerLike } from '../loader.js';
import type { RawImage } from '../types.js';

export const STAND_IN_SIZE = 8;

function toPixels(img: RawImage, size: number): Float32Array {
  const out = new Float32Array(3 * size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / size));
      const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / size));
      for (let c = 0; c < 3; c++) {
        const v = img.data[(sy * img.width + sx) * img.channels + (img.channels === 1 ? 0 : c)]!;
        out[c * size * size + y * size + x] = v / 255;
      }
    }
  }
  return out;
}

export const standInProcessor: ImageProcessorLike & { config: { size: number } } = {
  config: { size: STAND_IN_SIZE },
  process(images) {
    const per = 3 * STAND_IN_SIZE * STAND_IN_SIZE;
    const pixelValues = new Float32Array(images.length * per);
    images.forEach((im, i) => pixelValues.set(toPixels(im, STAND_IN_SIZE), i * per));
    return { pixelValues, shape: [images.length, 3, STAND_IN_SIZE, STAND_IN_SIZE] };
  },
};

/** Worker-loadable transform module: `augment` adds a seed-dependent offset so tests can see the seed. */
export async function createTransform(init: TransformInit): Promise<SampleTransform> {
  return async (image, seed) => {
    // Failure injection for robustness tests: width 5 throws, width 7 kills the worker thread.
    if (image.width === 5) throw new Error('boom');
    if (image.width === 7) process.exit(3);
    const px = toPixels(image, STAND_IN_SIZE);
    if (init.augment) px[0] = seed / 4294967296;
    return px;
  };
}

export const standInTokenizer: TokenizerLike = {
  encode(texts, opts) {
    const L = opts?.maxLength ?? 8;
    const inputIds = new Int32Array(texts.length * L);
    const attentionMask = new Int32Array(texts.length * L);
    texts.forEach((t, i) => {
      const words = t.split(/\s+/).filter(Boolean).slice(0, L);
      words.forEach((w, j) => {
        let h = 7;
        for (const ch of w) h = (h * 31 + ch.charCodeAt(0)) % 1000;
        inputIds[i * L + j] = h + 1;
        attentionMask[i * L + j] = 1;
      });
    });
    return { inputIds, attentionMask, shape: [texts.length, L] };
  },
};

export const STAND_IN_TRANSFORM = new URL('./stand-ins.ts', import.meta.url).href;

// Parity with HF transformers' CLIPImageProcessor / SiglipImageProcessor (pixel_values.safetensors).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readSafetensors, toTypedArray } from '@duet/model-format';
import { decodeImage } from '../decode/decode-node.js';
import { ImageProcessor } from './image-processor.js';
import type { PreprocessorConfig } from './preprocessor-config.js';
import { HF_REF, readJson } from '../test-util/fixtures.js';

const configs = readJson<Record<'clip' | 'siglip', PreprocessorConfig>>('preprocess/processor_configs.json');
const { tensors } = readSafetensors(new Uint8Array(readFileSync(HF_REF + 'preprocess/pixel_values.safetensors')));

function diff(a: Float32Array, b: Float32Array): { mean: number; max: number } {
  let sum = 0, max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > max) max = d;
  }
  return { mean: sum / a.length, max };
}

describe.each(['astronaut', 'chelsea'])('%s.png', (name) => {
  describe.each(['clip', 'siglip'] as const)('%s processor', (family) => {
    const ref = tensors.get(`${name}_${family}224`)!;
    const refValues = toTypedArray(ref) as Float32Array;

    it('default (torchvision uint8 kernel, as transformers v5) reproduces HF pixel_values bit for bit', async () => {
      const img = await decodeImage(`${HF_REF}preprocess/${name}.png`);
      const out = ImageProcessor.fromConfig(configs[family]).process([img]);
      expect(out.shape).toEqual(ref.shape);
      expect(diff(out.pixelValues, refValues)).toEqual({ mean: 0, max: 0 });
    });

    it("Pillow arithmetic ('pil' mode) stays within one uint8 level (mean <= 0.01, max <= 0.1 targets)", async () => {
      const img = await decodeImage(`${HF_REF}preprocess/${name}.png`);
      const out = ImageProcessor.fromConfig(configs[family], { resampleMode: 'pil' }).process([img]);
      const d = diff(out.pixelValues, refValues);
      const oneLevel = 1 / 255 / Math.min(...(configs[family].image_std as number[]));
      expect(d.max).toBeLessThanOrEqual(oneLevel + 1e-6);
      expect(d.mean).toBeLessThan(1e-3);
    });
  });
});

it('processes a batch of both photos in one call (NCHW, image by image)', async () => {
  const imgs = await Promise.all(['astronaut', 'chelsea'].map((n) => decodeImage(`${HF_REF}preprocess/${n}.png`)));
  const out = ImageProcessor.fromConfig(configs.clip).process(imgs);
  expect(out.shape).toEqual([2, 3, 224, 224]);
  const second = out.pixelValues.subarray(3 * 224 * 224);
  expect(diff(second, toTypedArray(tensors.get('chelsea_clip224')!) as Float32Array).max).toBe(0);
});

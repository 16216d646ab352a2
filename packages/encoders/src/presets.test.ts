// Presets: every one parses, big ones match open_clip's published parameter counts (docs/model_profile.csv,
// millions rounded to 2 decimals: mparams, image_mparams, text_mparams), tiny ones run on CPU-sized inputs.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@duet/runtime';
import { DualEncoder, getPreset, listPresets, parameterCount } from './index.js';
import { randomIds, randomPixels, useBackend } from '../test/helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

// open_clip docs/model_profile.csv rows: model -> [mparams, image_mparams, text_mparams]
const PROFILE: Record<string, [number, number, number]> = {
  'ViT-B-32': [151.28, 87.85, 63.43],
  'ViT-B-16': [149.62, 86.19, 63.43],
  'ViT-B-16-SigLIP': [203.16, 92.88, 110.27],
  RN50: [102.01, 38.32, 63.69],
};

const m = (n: number) => Math.round(n / 1e4) / 100;

describe('presets', () => {
  it('lists the contract presets', () => {
    expect(listPresets()).toEqual(expect.arrayContaining(['tiny-clip', 'tiny-siglip', 'tiny-resnet', 'ViT-B-32', 'ViT-B-16', 'ViT-B-16-SigLIP', 'RN50']));
    expect(() => getPreset('ViT-Z-99')).toThrow(/unknown preset "ViT-Z-99".*tiny-clip/);
  });

  for (const [name, [total, image, text]] of Object.entries(PROFILE)) {
    it(`${name} parameter count equals open_clip's model profile (${total} M)`, () => {
      const c = parameterCount(getPreset(name));
      expect([m(c.total), m(c.vision), m(c.text)]).toEqual([total, image, text]);
    });
  }

  it('exact counts of the OpenAI checkpoints (ViT-B/32 151,277,313; RN50 102,007,137)', () => {
    expect(parameterCount(getPreset('ViT-B-32')).total).toBe(151_277_313);
    expect(parameterCount(getPreset('RN50')).total).toBe(102_007_137);
  });

  it('tiny presets use the shipped tokenizer vocabularies and ids', () => {
    const clip = getPreset('tiny-clip') as { text_config: Record<string, unknown> };
    expect(clip.text_config).toMatchObject({ vocab_size: 1805, bos_token_id: 0, eos_token_id: 1 });
    const sig = getPreset('tiny-siglip') as { text_config: Record<string, unknown> };
    expect(sig.text_config).toMatchObject({ vocab_size: 1454, eos_token_id: 1 });
  });

  for (const name of ['tiny-clip', 'tiny-siglip', 'tiny-resnet']) {
    it(`${name} creates and runs a forward pass`, () => {
      const model = DualEncoder.create(getPreset(name), { seed: 0 });
      const s = model.settings;
      const ids = randomIds(2, 12, s.text.vocabSize);
      const px = randomPixels(2, s.channels, s.imageSize);
      const out = model.forward({ inputIds: ids, pixelValues: px });
      expect(out.imageEmbeds.shape).toEqual([2, s.embedDim]);
      expect(out.textEmbeds.shape).toEqual([2, s.embedDim]);
      expect(out.logitsPerImage.shape).toEqual([2, 2]);
      const norms = tf.tidy(() => tf.norm(out.imageEmbeds, 'euclidean', -1)).dataSync();
      for (const n of norms) expect(n).toBeCloseTo(1, 5);
      expect(model.lossFamily).toBe(name === 'tiny-siglip' ? 'siglip' : 'clip');
      tf.dispose([ids, px, ...Object.values(out)]);
      model.dispose();
    });
  }
});

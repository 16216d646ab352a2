import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, toTypedArray } from '@duet/model-format';
import { fixtureDir, referenceIO, refFloat, relErr } from '../test-util/fixtures.js';
import { applyTemplate, ZeroShotClassifier, type ZeroShotEmbedder } from './zero-shot.js';

function scalar(name: 'tiny-clip' | 'tiny-siglip', key: string): number {
  const st = readSafetensors(readFileSync(join(fixtureDir(name), 'model.safetensors')));
  return Number((toTypedArray(st.tensors.get(key)!) as Float32Array)[0]);
}

describe('ZeroShotClassifier', () => {
  it.each(['tiny-clip', 'tiny-siglip'] as const)('reproduces HF logits_per_image for %s from the reference embeds, scale/bias of the folder', (name) => {
    const io = referenceIO(name);
    const text = refFloat(io, 'text_embeds');
    const image = refFloat(io, 'image_embeds');
    const family = name === 'tiny-clip' ? 'clip' : 'siglip';
    const logitBias = family === 'siglip' ? scalar(name, 'logit_bias') : undefined;
    const clf = ZeroShotClassifier.fromClassEmbeds(['a', 'b', 'c', 'd'], text.data, { family, logitScale: scalar(name, 'logit_scale'), logitBias });
    const res = clf.classifyEmbeds(image.data);
    const ref = refFloat(io, 'logits_per_image').data;
    const logits = Float32Array.from(res.flatMap((r) => [...r.logits]));
    expect(relErr(logits, ref)).toBeLessThan(1e-4);
    for (let b = 0; b < 4; b++) {
      const row = ref.subarray(b * 4, b * 4 + 4);
      const p = res[b]!.probabilities;
      if (family === 'clip') {
        const z = row.reduce((a, v) => a + Math.exp(v), 0);
        row.forEach((v, c) => expect(p[c]).toBeCloseTo(Math.exp(v) / z, 5));
        expect(p.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 6);
      } else {
        row.forEach((v, c) => expect(p[c]).toBeCloseTo(1 / (1 + Math.exp(-v)), 5));
      }
    }
  });

  it('ensembles templates: mean of normalised prompt embeds, renormalised; ranks by logit', async () => {
    // Fake text tower: "x of cat" -> e0, "y of cat" -> e1, "* of dog" -> e2 (2-D embeds in R^3).
    const vec: Record<string, number[]> = { 'x of cat': [1, 0, 0], 'y of cat': [0, 1, 0], 'x of dog': [0, 0, 1], 'y of dog': [0, 0, 1] };
    const embedder: ZeroShotEmbedder = {
      lossFamily: 'clip',
      dim: 3,
      embedTexts: async (texts) => ({ data: Float32Array.from(texts.flatMap((t) => vec[t]!)), shape: [texts.length, 3] }),
      logitParams: async () => ({ logitScale: Math.log(10) }),
    };
    const clf = await ZeroShotClassifier.create(embedder, ['cat', 'dog'], { templates: ['x of {}', (l) => `y of ${l}`] });
    const h = Math.SQRT1_2;
    expect([...clf.classEmbeds].map((v) => +v.toFixed(6))).toEqual([+h.toFixed(6), +h.toFixed(6), 0, 0, 0, 1]);
    // Image along e0: cos(cat) = 1/sqrt2, cos(dog) = 0; logits = 10 * cos.
    const [r] = clf.classifyEmbeds(new Float32Array([2, 0, 0]));
    expect(r!.ranked[0]!.label).toBe('cat');
    expect(r!.logits[0]).toBeCloseTo(10 * h, 5);
    expect(r!.probabilities[0]).toBeCloseTo(1 / (1 + Math.exp(-10 * h)), 5);
  });

  it('rejects empty label lists and classifying without an image tower', async () => {
    const embedder: ZeroShotEmbedder = {
      lossFamily: 'siglip', dim: 2,
      embedTexts: async (t) => ({ data: new Float32Array(t.length * 2).fill(1), shape: [t.length, 2] }),
      logitParams: async () => ({ logitScale: 0, logitBias: 0 }),
    };
    await expect(ZeroShotClassifier.create(embedder, [])).rejects.toThrow(/labels: expected a non-empty array/);
    await expect(ZeroShotClassifier.create(embedder, ['ok', ' '])).rejects.toThrow(/non-empty string/);
    const clf = await ZeroShotClassifier.create(embedder, ['a']);
    await expect(clf.classifyImages([])).rejects.toThrow(/no image embedder/);
    expect(applyTemplate('a photo of a {}.', 'dog')).toBe('a photo of a dog.');
  });
});

// The training objective (duet_loss) is independent of the architecture: a CLIP model trained with the sigmoid loss
// carries SigLIP's logit_bias; an HF CLIP checkpoint (no bias) fine-tuned that way gets it initialised.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@duet/runtime';
import { DualEncoder, parameterSpecs, resolveConfig } from './index.js';
import { loadFixture, randomPixels, useBackend } from '../test/helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const withLoss = (cfg: Record<string, unknown>, duet_loss: string): Record<string, unknown> => ({ ...structuredClone(cfg), duet_loss });

describe('CLIP architecture with the SigLIP objective', () => {
  it('adds logit_bias only for the sigmoid objective', () => {
    const f = loadFixture('tiny-clip');
    const names = (c: Record<string, unknown>) => parameterSpecs(resolveConfig(c)).map((s) => s.name);
    expect(names(f.config)).not.toContain('logit_bias');
    expect(names(withLoss(f.config, 'clip'))).not.toContain('logit_bias');
    expect(names(withLoss(f.config, 'siglip'))).toContain('logit_bias');
  });

  it('loads an HF CLIP checkpoint without the bias (initialised to -10) and applies it to the logits', () => {
    const f = loadFixture('tiny-clip');
    expect(f.weights.has('logit_bias')).toBe(false);
    const plain = DualEncoder.fromTensors(f.config, f.weights);
    const sig = DualEncoder.fromTensors(withLoss(f.config, 'siglip'), f.weights);
    expect(sig.lossFamily).toBe('siglip');
    expect(Array.from(sig.logitBias!.dataSync())).toEqual([-10]);
    const inputIds = tf.tensor2d([[1, 20, 125, 2], [1, 30, 229, 2]], [2, 4], 'int32');
    const pixelValues = randomPixels(2, 3, 32, 7);
    const a = plain.forward({ inputIds, pixelValues });
    const b = sig.forward({ inputIds, pixelValues });
    // Same towers and scale: the logits differ by exactly the bias (HF SiglipModel: logits = exp(t')·cos + b).
    const da = a.logitsPerText.dataSync(), db = b.logitsPerText.dataSync();
    for (let i = 0; i < da.length; i++) expect(db[i]! - da[i]!).toBeCloseTo(-10, 4);
    tf.dispose([inputIds, pixelValues, ...Object.values(a), ...Object.values(b)]);
    plain.dispose();
    sig.dispose();
  });

  it('keeps a saved bias, and still rejects other missing tensors', () => {
    const f = loadFixture('tiny-clip');
    const cfg = withLoss(f.config, 'siglip');
    const m = DualEncoder.fromTensors(cfg, f.weights);
    m.logitBias!.assign(tf.tensor1d([-3.5]));
    const saved = m.toTensors();
    expect(saved.has('logit_bias')).toBe(true);
    const back = DualEncoder.fromTensors(cfg, saved);
    expect(Array.from(back.logitBias!.dataSync())).toEqual([-3.5]);
    const broken = new Map(f.weights);
    broken.delete('logit_scale');
    expect(() => DualEncoder.fromTensors(cfg, broken)).toThrow(/missing tensor "logit_scale"/);
    m.dispose();
    back.dispose();
  });
});

import { describe, it, expect, beforeAll } from 'vitest';
import { tf, initBackend } from '@duet/runtime';
import { computeGradients } from './step.js';
import { LinearDualEncoder } from './test-model.js';
import type { TensorBatch } from './model.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

function batch(b: number, seed: number): TensorBatch {
  return {
    pixelValues: tf.randomUniform([b, 3, 2, 2], -1, 1, 'float32', seed) as tf.Tensor4D,
    inputIds: tf.randomUniform([b, 5], 0, 20, 'int32', seed + 1) as tf.Tensor2D,
    attentionMask: tf.tensor2d(Array.from({ length: b * 5 }, (_, i) => (i % 5 < 2 + (Math.floor(i / 5) % 4) ? 1 : 0)), [b, 5], 'int32'),
  };
}

function slice(x: TensorBatch, start: number, n: number): TensorBatch {
  return {
    pixelValues: tf.slice(x.pixelValues, [start, 0, 0, 0], [n, -1, -1, -1]),
    inputIds: tf.slice(x.inputIds, [start, 0], [n, -1]),
    attentionMask: tf.slice(x.attentionMask!, [start, 0], [n, -1]),
  };
}

describe('gradient accumulation keeps the contrastive batch whole', () => {
  for (const family of ['clip', 'siglip'] as const) {
    it(`${family}: 4 micro-batches of 2 give the loss and gradients of one batch of 8`, () => {
      const model = new LinearDualEncoder(family, 12, 20, 6);
      const full = batch(8, 7);
      const one = computeGradients(model, [full]);
      const four = computeGradients(model, [0, 2, 4, 6].map((s) => slice(full, s, 2)));
      expect(four.loss).toBeCloseTo(one.loss, 5);
      expect([...four.grads.keys()].sort()).toEqual([...one.grads.keys()].sort());
      for (const [name, g] of one.grads) {
        const a = g.dataSync(), b = four.grads.get(name)!.dataSync();
        const scale = Math.max(1e-3, ...Array.from(a, Math.abs));
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!) / scale, `${name}[${i}]`).toBeLessThan(1e-4);
      }
      // Not the same as averaging per-micro-batch losses: the negatives of other micro-batches matter.
      const separate = [0, 2, 4, 6].map((s) => computeGradients(model, [slice(full, s, 2)]).loss);
      expect(Math.abs(separate.reduce((x, y) => x + y) / 4 - one.loss)).toBeGreaterThan(1e-3);
    });
  }

  it('LiT: a locked image tower gets no gradients, in both paths', () => {
    const model = new LinearDualEncoder('siglip', 12, 20, 6);
    model.freeze('vision');
    const full = batch(4, 3);
    for (const micro of [[full], [slice(full, 0, 2), slice(full, 2, 2)]]) {
      const { grads } = computeGradients(model, micro);
      expect([...grads.keys()].some((k) => k.startsWith('vision_model'))).toBe(false);
      expect(grads.has('logit_bias')).toBe(true);
      expect(grads.has('text_projection.weight')).toBe(true);
    }
  });
});

describe('step gradients', () => {
  for (const family of ['clip', 'siglip'] as const) {
    it(`${family}: d loss / d logit_scale and a weight entry match central finite differences`, () => {
      const model = new LinearDualEncoder(family, 12, 20, 6);
      const b = batch(6, 11);
      const { grads } = computeGradients(model, [b]);
      const lossAt = () => computeGradients(model, [b]).loss;
      for (const [name, index] of [['logit_scale', 0], ['text_projection.weight', 7], ['vision_model.proj.weight', 5]] as const) {
        const v = model.namedVariables().get(name)!;
        const base = v.dataSync().slice();
        const h = 1e-2;
        const at = (d: number) => {
          const x = base.slice();
          x[index] = base[index]! + d;
          v.assign(tf.tensor(x, v.shape));
          return lossAt();
        };
        const fd = (at(h) - at(-h)) / (2 * h);
        v.assign(tf.tensor(base, v.shape));
        const g = grads.get(name)!.dataSync()[index]!;
        expect(Math.abs(g - fd), `${name}: autograd ${g} vs finite difference ${fd}`).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
      }
    });
  }
});

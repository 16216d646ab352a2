// Closed-form values from the issue, checked for every form of each loss.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@duet/runtime';
import { useWasm } from '../test/backend.js';
import { clipLoss, createSimulatedGroups, distributedClipLoss, distributedSiglipLoss, lossAndFeatureGrads, siglipLoss } from './index.js';
import type { ContrastiveInputs } from './index.js';

beforeAll(async () => {
  await useWasm();
});

type Form = (x: ContrastiveInputs) => Promise<number>;
const value = (t: tf.Scalar) => t.dataSync()[0]!;

function forms(family: 'clip' | 'siglip'): [string, Form][] {
  const single = family === 'clip' ? clipLoss : siglipLoss;
  const dist = family === 'clip' ? distributedClipLoss : distributedSiglipLoss;
  return [
    ['plain', async (x) => value(single(x))],
    ['chunk 3', async (x) => value(single(x, { chunkSize: 3 }))],
    ['feature grads', async (x) => value(lossAndFeatureGrads(family, x).loss)],
    [
      'distributed ×2',
      async (x) => {
        const groups = createSimulatedGroups(2);
        const half = (t: tf.Tensor, r: number) => tf.slice(t, [2 * r, 0], [2, -1]);
        const res = await Promise.all(groups.map((g, r) => dist({ ...x, imageEmbeds: half(x.imageEmbeds, r), textEmbeds: half(x.textEmbeds, r) }, g)));
        return value(res[0]!.loss);
      },
    ],
  ];
}

const eye4 = () => tf.eye(4, 4, undefined, 'float32');

describe('CLIP closed forms', () => {
  for (const [name, f] of forms('clip')) {
    it(`${name}: identical features give ln B`, async () => {
      const same = tf.tidy(() => tf.tile(tf.tensor2d([[0.6, 0.8, 0]]), [4, 1]));
      expect(await f({ imageEmbeds: same, textEmbeds: same, logitScale: tf.scalar(Math.log(1 / 0.07)) })).toBeCloseTo(Math.log(4), 6);
    });
    it(`${name}: orthonormal features with scale 1, B = 4 give 0.7436684`, async () => {
      expect(await f({ imageEmbeds: eye4(), textEmbeds: eye4(), logitScale: tf.scalar(0) })).toBeCloseTo(0.7436684, 6);
    });
  }
});

describe('SigLIP closed forms (scale 10, bias −10, B = 4)', () => {
  for (const [name, f] of forms('siglip')) {
    it(`${name}: zero features give 10.0001816`, async () => {
      const z = tf.zeros([4, 4]);
      expect(await f({ imageEmbeds: z, textEmbeds: z, logitScale: tf.scalar(Math.log(10)), logitBias: tf.scalar(-10) })).toBeCloseTo(10.0001816, 5);
    });
    it(`${name}: orthonormal features give 0.6932834`, async () => {
      expect(await f({ imageEmbeds: eye4(), textEmbeds: eye4(), logitScale: tf.scalar(Math.log(10)), logitBias: tf.scalar(-10) })).toBeCloseTo(0.6932834, 6);
    });
  }
  it('gradient at z = 0 is exact: ∂loss/∂b = (−4·½ + 12·σ(−10))/4 for zero features, bias 0 on the diagonal', () => {
    // zero features, bias 0: every logit is 0, so ∂/∂b = (Σ_diag −σ(0) + Σ_off σ(0)) / B = (−4·0.5 + 12·0.5) / 4 = 1.
    const z = tf.zeros([4, 4]);
    const g = tf.grad((b: tf.Tensor) => siglipLoss({ imageEmbeds: z, textEmbeds: z, logitScale: tf.scalar(0), logitBias: b }))(tf.scalar(0));
    expect(g.dataSync()[0]).toBeCloseTo(1, 6);
  });
});

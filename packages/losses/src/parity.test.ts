// Parity with the float64 HF/torch references: plain, chunked and feature-gradient forms of both losses.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@duet/runtime';
import { useWasm } from '../test/backend.js';
import { clipLoss, lossAndFeatureGrads, siglipLoss } from './index.js';
import { FIXTURE_SETS, expectClose, ref, refScalar } from '../test/fixture.js';
import { autograd, fixtureInputs, type Computed } from '../test/inputs.js';

beforeAll(async () => {
  await useWasm();
});

function expectMatches(c: Computed, n: number, d: number, family: 'clip' | 'siglip', label: string): void {
  expectClose(c.loss, refScalar(n, d, `${family}_loss`), 1e-5, `${label} loss`);
  expectClose(c.gradImg, ref(n, d, `${family}_grad_img`).data, 1e-4, `${label} ∂img`);
  expectClose(c.gradTxt, ref(n, d, `${family}_grad_txt`).data, 1e-4, `${label} ∂txt`);
  expectClose(c.gradScale, refScalar(n, d, family === 'clip' ? 'clip_grad_logit_scale' : 'siglip_grad_t_prime'), 1e-4, `${label} ∂t′`);
  if (family === 'siglip') expectClose(c.gradBias!, refScalar(n, d, 'siglip_grad_bias'), 1e-4, `${label} ∂b`);
}

function featureGrads(family: 'clip' | 'siglip', n: number, d: number, chunkSize?: number): Computed {
  const inputs = fixtureInputs(n, d, family);
  const g = lossAndFeatureGrads(family, inputs, { chunkSize });
  const c: Computed = {
    loss: g.loss.dataSync()[0]!,
    gradImg: g.gradImageEmbeds.dataSync() as Float32Array,
    gradTxt: g.gradTextEmbeds.dataSync() as Float32Array,
    gradScale: g.gradLogitScale.dataSync()[0]!,
    gradBias: g.gradLogitBias?.dataSync()[0],
  };
  tf.dispose([g.loss, g.gradImageEmbeds, g.gradTextEmbeds, g.gradLogitScale, g.gradLogitBias ?? [], inputs.imageEmbeds, inputs.textEmbeds, inputs.logitScale, inputs.logitBias as tf.Tensor]);
  return c;
}

for (const { n, d } of FIXTURE_SETS) {
  const chunks = [1, 7, n];
  describe(`N=${n} D=${d}`, () => {
    it('CLIP plain autograd matches the reference loss and gradients', () => {
      const inputs = fixtureInputs(n, d, 'clip');
      expectMatches(autograd(inputs, (x) => clipLoss(x)), n, d, 'clip', 'clip plain');
    });
    it('SigLIP plain autograd matches the reference loss and gradients', () => {
      const inputs = fixtureInputs(n, d, 'siglip');
      expectMatches(autograd(inputs, (x) => siglipLoss(x)), n, d, 'siglip', 'siglip plain');
    });
    for (const chunkSize of chunks) {
      it(`chunked SigLIP (chunk ${chunkSize}) matches through tf autograd`, () => {
        const inputs = fixtureInputs(n, d, 'siglip');
        expectMatches(autograd(inputs, (x) => siglipLoss(x, { chunkSize })), n, d, 'siglip', `siglip chunk ${chunkSize}`);
        // Outside a gradient tape the chunked forward takes its loss-only path.
        expectClose(siglipLoss(inputs, { chunkSize }).dataSync()[0]!, refScalar(n, d, 'siglip_loss'), 1e-5, 'siglip loss-only forward');
      });
      it(`chunked CLIP (chunk ${chunkSize}) matches through tf autograd`, () => {
        const inputs = fixtureInputs(n, d, 'clip');
        expectMatches(autograd(inputs, (x) => clipLoss(x, { chunkSize })), n, d, 'clip', `clip chunk ${chunkSize}`);
        expectClose(clipLoss(inputs, { chunkSize }).dataSync()[0]!, refScalar(n, d, 'clip_loss'), 1e-5, 'clip loss-only forward');
      });
    }
    for (const chunkSize of [undefined, 7]) {
      it(`lossAndFeatureGrads matches for both families (chunk ${chunkSize ?? 'B'})`, () => {
        expectMatches(featureGrads('clip', n, d, chunkSize), n, d, 'clip', 'clip feature grads');
        expectMatches(featureGrads('siglip', n, d, chunkSize), n, d, 'siglip', 'siglip feature grads');
      });
    }
  });
}

describe('memory hygiene', () => {
  it('the chunked forms leave no tensors behind after forward and backward', () => {
    const inputs = fixtureInputs(8, 16, 'siglip');
    const clipInputs = fixtureInputs(8, 16, 'clip');
    const before = tf.memory().numTensors;
    autograd(inputs, (x) => siglipLoss(x, { chunkSize: 3 }));
    autograd(clipInputs, (x) => clipLoss(x, { chunkSize: 3 }));
    const c = lossAndFeatureGrads('clip', clipInputs, { chunkSize: 3 });
    tf.dispose(Object.values(c) as tf.Tensor[]);
    const g = lossAndFeatureGrads('siglip', inputs, { chunkSize: 3 });
    tf.dispose(Object.values(g) as tf.Tensor[]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

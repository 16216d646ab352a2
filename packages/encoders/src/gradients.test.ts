// Training-path checks: a loss over the outputs reaches every trainable tensor, and a full forward/backward
// step leaves no tensor behind (runtime memory accounting).
import { beforeAll, describe, expect, it } from 'vitest';
import { memorySnapshot, tf } from '@duet/runtime';
import { DualEncoder, getPreset } from './index.js';
import { loadFixture, perturb, randomIds, randomPixels, useBackend } from '../test/helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Loss touching every output: logits, embeds and both towers' hidden states (so all tensors are reachable). */
function step(model: DualEncoder, inputIds: tf.Tensor2D, pixelValues: tf.Tensor4D, attentionMask?: tf.Tensor2D): Map<string, number> {
  const vars = model.trainableVariables();
  const names = new Map([...model.namedVariables()].map(([n, v]) => [v.id, n]));
  const { value, grads } = tf.tidy(() => tf.variableGrads(() => {
    const o = model.forward({ inputIds, pixelValues, ...(attentionMask ? { attentionMask } : {}) }, { training: true, outputHiddenStates: true });
    const w = tf.linspace(0.5, 1.5, o.logitsPerImage.size).reshape(o.logitsPerImage.shape);
    return tf.addN([tf.sum(tf.mul(o.logitsPerImage, w)), tf.sum(tf.square(o.textLastHiddenState!)).mul(1e-3), tf.sum(tf.square(o.visionLastHiddenState!)).mul(1e-3)]) as tf.Scalar;
  }, vars));
  const maxAbs = new Map<string, number>();
  for (const v of vars) {
    const m = tf.tidy(() => tf.max(tf.abs(grads[v.name]!)));
    maxAbs.set(names.get(v.id)!, m.dataSync()[0]!);
    m.dispose();
  }
  value.dispose();
  tf.dispose(grads);
  return maxAbs;
}

/**
 * Every tensor is on the gradient path with a finite gradient, non-zero except for key-projection biases: adding a
 * constant to every key shifts each query's scores uniformly, which softmax ignores, so their exact gradient is 0
 * (HF/torch alike); for those we check it is zero up to float32 rounding.
 */
function expectAllNonZero(maxAbs: Map<string, number>, count: number): void {
  expect(maxAbs.size).toBe(count);
  const isKeyBias = (n: string) => n.endsWith('k_proj.bias');
  const largest = Math.max(...maxAbs.values());
  const zero = [...maxAbs].filter(([n, g]) => !isKeyBias(n) && (!(g > 0) || !Number.isFinite(g))).map(([n]) => n);
  expect(zero, 'tensors with zero/non-finite gradient').toEqual([]);
  for (const [n, g] of maxAbs) if (isKeyBias(n)) expect(g, n).toBeLessThan(1e-5 * largest);
}

describe('gradients and leaks', () => {
  for (const name of ['tiny-clip', 'tiny-siglip'] as const) {
    it(`${name} (HF fixture weights): every parameter gets a non-zero gradient, no leaks`, () => {
      const fx = loadFixture(name);
      const model = DualEncoder.fromTensors(fx.config, fx.weights);
      const cfg = model.settings;
      // Full-length rows so every position embedding is used; EOS at the end for CLIP.
      const ids = tf.tidy(() => {
        const r = randomIds(3, cfg.text.maxPositions, cfg.text.vocabSize - 1);
        return name === 'tiny-clip' ? tf.concat([r.slice([0, 0], [3, cfg.text.maxPositions - 1]), tf.fill([3, 1], cfg.text.eosTokenId!, 'int32')], 1) as tf.Tensor2D : r;
      });
      const px = randomPixels(3, cfg.channels, cfg.imageSize);
      const before = memorySnapshot();
      const g = step(model, ids, px);
      expect(memorySnapshot().numTensors).toBe(before.numTensors);
      expect(memorySnapshot().numBytes).toBe(before.numBytes);
      expectAllNonZero(g, model.trainableVariables().length);
      tf.dispose([ids, px]);
      model.dispose();
    });
  }

  it('tiny-resnet (perturbed init): every parameter gets a gradient; BatchNorm buffers update in training only; no leaks', () => {
    const fresh = DualEncoder.create(getPreset('tiny-resnet'), { seed: 1 });
    const model = DualEncoder.fromTensors(fresh.config, perturb(fresh.toTensors()));
    fresh.dispose();
    const px = randomPixels(2, 3, 32);
    const ids = randomIds(2, 8, 1805);
    const rm = () => model.namedVariables().get('vision_model.layer2.0.bn1.running_mean')!.dataSync().slice();
    const rm0 = rm();
    tf.dispose(model.encodeImage(px));
    expect(rm()).toEqual(rm0); // eval: running stats untouched
    const before = memorySnapshot();
    const g = step(model, ids, px);
    expect(memorySnapshot().numTensors).toBe(before.numTensors);
    expectAllNonZero(g, model.trainableVariables().length);
    expect(rm()).not.toEqual(rm0); // training: running stats moved
    // A frozen (LiT-locked) image tower keeps its statistics even in training mode.
    model.freeze('vision');
    const rm1 = rm();
    tf.dispose(model.encodeImage(px, { training: true }));
    expect(rm()).toEqual(rm1);
    tf.dispose([ids, px]);
    model.dispose();
  });
});

import { describe, it, expect, beforeAll } from 'vitest';
import { tf, initBackend } from '@duet/runtime';
import { AdamW, noDecay } from './adamw.js';
import { clipByGlobalNorm } from './clip-grad.js';
import { torchAdamW } from './torch-adamw.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('noDecay (open_clip exclusion rule on HF names)', () => {
  it('excludes gains, biases, norms, embeddings and logit scale/bias; keeps matrices', () => {
    expect(noDecay('logit_scale', [])).toBe(true);
    expect(noDecay('logit_bias', [1])).toBe(true);
    expect(noDecay('text_model.encoder.layers.0.layer_norm1.weight', [8])).toBe(true);
    expect(noDecay('text_model.embeddings.token_embedding.weight', [100, 8])).toBe(true);
    expect(noDecay('vision_model.embeddings.position_embedding.weight', [17, 8])).toBe(true);
    expect(noDecay('vision_model.encoder.layers.0.mlp.fc1.weight', [32, 8])).toBe(false);
    expect(noDecay('vision_model.embeddings.patch_embedding.weight', [8, 3, 4, 4])).toBe(false);
    expect(noDecay('visual_projection.weight', [8, 8])).toBe(false);
  });
});

describe('AdamW', () => {
  it('matches the closed form of two torch.optim.AdamW steps, decay only on matrices', () => {
    const w = tf.variable(tf.tensor2d([[1, -2], [0.5, 3]]));
    const b = tf.variable(tf.tensor1d([0.25, -1]));
    const lr = 0.1, wd = 0.5, eps = 1e-6, b1 = 0.9, b2 = 0.98;
    const opt = new AdamW(new Map<string, tf.Variable>([['fc.weight', w], ['fc.bias', b]]), { lr, weightDecay: wd, eps, beta1: b1, beta2: b2 });
    expect(opt.decayedNames()).toEqual(['fc.weight']);
    const g1 = [2, -1, 0.5, 4];
    const g2 = [1, 1, -3, 0];
    opt.applyGradients(new Map<string, tf.Tensor>([['fc.weight', tf.tensor2d(g1, [2, 2])], ['fc.bias', tf.tensor1d([1, -2])]]));
    opt.applyGradients(new Map<string, tf.Tensor>([['fc.weight', tf.tensor2d(g2, [2, 2])], ['fc.bias', tf.tensor1d([0.5, 0.5])]]));
    const expectParam = (p0: number, ga: number, gb: number, decay: boolean) => torchAdamW(p0, [ga, gb], decay, { lr, wd, eps, b1, b2 });
    const wv = w.dataSync();
    [1, -2, 0.5, 3].forEach((p0, i) => expect(wv[i]).toBeCloseTo(expectParam(p0, g1[i]!, g2[i]!, true), 5));
    const bv = b.dataSync();
    expect(bv[0]).toBeCloseTo(expectParam(0.25, 1, 0.5, false), 5);
    expect(bv[1]).toBeCloseTo(expectParam(-1, -2, 0.5, false), 5);
  });

  it('first step moves each coordinate by lr·sign(g) (bias-corrected), independent of gradient scale', () => {
    const p = tf.variable(tf.tensor1d([0, 0, 0]));
    const opt = new AdamW(new Map([['x.bias', p]]), { lr: 0.01, eps: 0 });
    opt.applyGradients(new Map<string, tf.Tensor>([['x.bias', tf.tensor1d([1e-3, -5, 100])]]));
    expect(Array.from(p.dataSync()).map((x) => +x.toFixed(6))).toEqual([-0.01, 0.01, -0.01]);
  });

  it('round-trips its state so a restored optimizer takes the identical next step', () => {
    const mk = () => tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
    const a = mk();
    const optA = new AdamW(new Map([['w', a]]), { lr: 0.05 });
    optA.applyGradients(new Map([['w', tf.tensor2d([[1, -1], [2, 0.5]])]]));
    const saved = optA.stateTensors();
    const b = tf.variable(a.clone());
    const optB = new AdamW(new Map([['w', b]]), { lr: 0.05 });
    optB.loadState(saved.tensors, saved.step);
    const g = tf.tensor2d([[0.3, 0.1], [-2, 1]]);
    optA.applyGradients(new Map([['w', g]]));
    optB.applyGradients(new Map([['w', g]]));
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(() => optB.loadState(new Map(), 1)).toThrow(/missing m\.w/);
  });
});

describe('AdamW memory', () => {
  it('holds exactly two moment buffers per parameter and frees everything on dispose (also after loadState)', () => {
    const w = tf.variable(tf.randomNormal([64, 32]));
    const before = tf.memory();
    const opt = new AdamW(new Map<string, tf.Variable>([['w', w]]), { lr: 1e-3 });
    for (let i = 0; i < 3; i++) {
      const g = tf.onesLike(w);
      opt.applyGradients(new Map([['w', g]]));
      g.dispose();
    }
    const st = opt.stateTensors();
    opt.loadState(st.tensors, st.step);
    // m and v: 2 × 64·32 float32 on top of the parameter, nothing else left behind by construction, steps or loading.
    expect(tf.memory().numBytes - before.numBytes).toBe(2 * 64 * 32 * 4);
    expect(tf.memory().numTensors - before.numTensors).toBe(2);
    opt.dispose();
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    w.dispose();
  });
});

describe('clipByGlobalNorm', () => {
  it('rescales to the max norm when above it and leaves gradients alone below it', () => {
    // global norm of (3, 4) and (12) = 13
    const grads = new Map<string, tf.Tensor>([['a', tf.tensor1d([3, 4])], ['b', tf.tensor1d([12])]]);
    const { norm, grads: clipped } = clipByGlobalNorm(grads, 1);
    expect(norm).toBeCloseTo(13, 5);
    expect(clipped.get('a')!.dataSync()[0]).toBeCloseTo(3 / (13 + 1e-6), 6);
    expect(clipped.get('b')!.dataSync()[0]).toBeCloseTo(12 / (13 + 1e-6), 6);
    const small = new Map<string, tf.Tensor>([['a', tf.tensor1d([0.3, 0.4])]]);
    const r = clipByGlobalNorm(small, 1);
    expect(r.norm).toBeCloseTo(0.5, 6);
    expect(r.grads.get('a')).toBe(small.get('a'));
  });
});

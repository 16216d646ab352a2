// Config-driven behaviour: pooling rules, masks, activations, dropout/train mode, freezing, headless SigLIP.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@duet/runtime';
import { ACTIVATIONS, DualEncoder, activation } from './index.js';
import { loadFixture, randomPixels, relError, useBackend } from '../test/helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

function withText(cfg: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const c = structuredClone(cfg) as { text_config: Record<string, unknown> };
  Object.assign(c.text_config, patch);
  return c;
}

/** text_projection(textTokens[b, pos[b]]): the feature HF pools at the given positions. */
function projectedAt(model: DualEncoder, ids: tf.Tensor2D, pos: number[]): Float32Array {
  return tf.tidy(() => {
    const h = model.textTokens(ids);
    const rows = pos.map((p, b) => h.slice([b, p, 0], [1, 1, h.shape[2]]).reshape([1, h.shape[2]]));
    return tf.matMul(tf.concat(rows, 0), model.namedVariables().get('text_projection.weight')!, false, true);
  }).dataSync() as Float32Array;
}

describe('CLIP text pooling (HF rules)', () => {
  const fx = () => loadFixture('tiny-clip');
  const ids = () => tf.tensor2d([[5, 9, 2, 7, 300, 2, 4, 8], [6, 400, 3, 2, 9, 1, 1, 1]], [2, 8], 'int32');

  it('pools at the first occurrence of eos_token_id', () => {
    const f = fx();
    const model = DualEncoder.fromTensors(withText(f.config, { eos_token_id: 9 }), f.weights);
    const x = ids();
    const got = model.encodeText(x);
    expect(relError(got.dataSync(), projectedAt(model, x, [1, 4]))).toBeLessThan(1e-6);
    tf.dispose([x, got]);
    model.dispose();
  });

  it('uses the legacy argmax(inputIds) rule when eos_token_id == 2', () => {
    const f = fx();
    const model = DualEncoder.fromTensors(withText(f.config, { eos_token_id: 2 }), f.weights);
    const x = ids();
    const got = model.encodeText(x);
    expect(relError(got.dataSync(), projectedAt(model, x, [4, 1]))).toBeLessThan(1e-6);
    tf.dispose([x, got]);
    model.dispose();
  });

  it('padding only hides keys: tokens before the pad are unaffected by what the padding holds', () => {
    const f = fx();
    const model = DualEncoder.fromTensors(f.config, f.weights);
    const a = tf.tensor2d([[5, 9, 511, 0, 0, 0]], [1, 6], 'int32');
    const b = tf.tensor2d([[5, 9, 511, 77, 88, 99]], [1, 6], 'int32');
    const mask = tf.tensor2d([[1, 1, 1, 0, 0, 0]], [1, 6], 'int32');
    const fa = model.encodeText(a, mask);
    const fb = model.encodeText(b, mask);
    expect(relError(fa.dataSync(), fb.dataSync())).toBeLessThan(1e-6);
    // A fully masked row (left padding past the query) stays finite: finite MASK_MIN, HF finfo.min semantics.
    const allMasked = tf.zeros([1, 6], 'int32') as tf.Tensor2D;
    const h = model.textTokens(b, allMasked);
    expect(Array.from(h.dataSync()).every(Number.isFinite)).toBe(true);
    tf.dispose([a, b, mask, fa, fb, allMasked, h]);
    model.dispose();
  });
});

describe('activations', () => {
  const xs = [-2, -1, 0, 0.5, 1, 3];
  // Closed forms (erf values from tables): gelu(x) = x Φ(x); tanh form; x σ(1.702 x).
  const phi: Record<number, number> = { [-2]: 0.022750131948179195, [-1]: 0.15865525393145707, 0: 0.5, 0.5: 0.6914624612740131, 1: 0.8413447460685429, 3: 0.9986501019683699 };
  const refs: Record<string, (x: number) => number> = {
    gelu: (x) => x * phi[x]!,
    gelu_pytorch_tanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
    gelu_new: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
    quick_gelu: (x) => x / (1 + Math.exp(-1.702 * x)),
    relu: (x) => Math.max(0, x),
    silu: (x) => x / (1 + Math.exp(-x)),
  };
  for (const [name, ref] of Object.entries(refs)) {
    it(`${name} matches its closed form`, () => {
      const y = tf.tidy(() => activation(name)(tf.tensor1d(xs))).dataSync();
      xs.forEach((x, i) => expect(y[i]).toBeCloseTo(ref(x), 5));
    });
  }
  it('lists the accepted names', () => {
    expect(ACTIVATIONS).toContain('gelu_pytorch_tanh');
  });
});

describe('train mode, dropout, freezing', () => {
  it('attention_dropout applies only in training, reproducibly per seed', () => {
    const f = loadFixture('tiny-clip');
    const cfg = structuredClone(f.config) as { vision_config: Record<string, unknown> };
    cfg.vision_config.attention_dropout = 0.5;
    const px = randomPixels(2, 3, 32);
    const run = (seed: number, training: boolean) => {
      const m = DualEncoder.fromTensors(cfg, f.weights, { seed });
      const y = m.encodeImage(px, { training });
      const out = y.dataSync().slice();
      y.dispose();
      m.dispose();
      return out;
    };
    const evalA = run(1, false);
    expect(run(2, false)).toEqual(evalA);
    const trainA = run(1, true);
    expect(relError(trainA, evalA)).toBeGreaterThan(1e-3);
    expect(run(1, true)).toEqual(trainA);
    expect(run(2, true)).not.toEqual(trainA);
    px.dispose();
  });

  it('freeze/unfreeze select towers or name prefixes (LiT-style locked image tower)', () => {
    const f = loadFixture('tiny-siglip');
    const m = DualEncoder.fromTensors(f.config, f.weights);
    const names = () => {
      const ids = new Set(m.trainableVariables().map((v) => v.id));
      return [...m.namedVariables()].filter(([, v]) => ids.has(v.id)).map(([n]) => n);
    };
    const all = names().length;
    const nVision = m.freeze('vision');
    expect(names().some((n) => n.startsWith('vision_model.'))).toBe(false);
    expect(names()).toContain('logit_scale');
    expect(names().length).toBe(all - nVision);
    m.unfreeze('vision');
    m.freeze('text_model.encoder.layers.0.');
    expect(names().some((n) => n.startsWith('text_model.encoder.layers.0.'))).toBe(false);
    expect(names()).toContain('text_model.encoder.layers.1.mlp.fc1.weight');
    expect(() => m.freeze('nope.')).toThrow(/"nope." matches no parameter/);
    m.dispose();
  });
});

describe('SigLIP specifics', () => {
  it('vision_use_head: false drops the MAP head; encodeImage explains, visionTokens works', () => {
    const f = loadFixture('tiny-siglip');
    const cfg = structuredClone(f.config) as { vision_config: Record<string, unknown> };
    cfg.vision_config.vision_use_head = false;
    const w = new Map([...f.weights].filter(([n]) => !n.startsWith('vision_model.head.')));
    const m = DualEncoder.fromTensors(cfg, w);
    const px = randomPixels(1, 3, 32);
    expect(() => m.encodeImage(px)).toThrow(/no pooling head \(vision_config.vision_use_head is false\)/);
    const tok = m.visionTokens(px);
    expect(tok.shape).toEqual([1, 16, 64]);
    tf.dispose([px, tok]);
    m.dispose();
  });

  it('an attention mask hides padded keys (SigLIP text is bidirectional)', () => {
    const f = loadFixture('tiny-siglip');
    const m = DualEncoder.fromTensors(f.config, f.weights);
    const a = tf.tensor2d([[5, 9, 11, 1, 1, 1]], [1, 6], 'int32');
    const mask = tf.tensor2d([[1, 1, 1, 0, 0, 0]], [1, 6], 'int32');
    const b = tf.tensor2d([[5, 9, 11, 7, 8, 9]], [1, 6], 'int32');
    const ha = m.textTokens(a, mask);
    const hb = m.textTokens(b, mask);
    // Unmasked positions see only unmasked keys, so they agree; without the mask they would not.
    const first = (h: tf.Tensor3D) => h.slice([0, 0, 0], [1, 3, 64]).dataSync();
    expect(relError(first(ha), first(hb))).toBeLessThan(1e-6);
    const hc = m.textTokens(b);
    expect(relError(first(hc), first(ha))).toBeGreaterThan(1e-3);
    tf.dispose([a, b, mask, ha, hb, hc]);
    m.dispose();
  });
});

describe('logits', () => {
  it('CLIP: logitsPerText = exp(logitScale) * text @ image^T; SigLIP adds logitBias', () => {
    for (const name of ['tiny-clip', 'tiny-siglip'] as const) {
      const f = loadFixture(name);
      const m = DualEncoder.fromTensors(f.config, f.weights);
      const img = tf.tensor2d([[1, 0], [0, 1]]);
      const txt = tf.tensor2d([[0.6, 0.8]]);
      const { logitsPerText, logitsPerImage } = m.logits(img, txt);
      const s = Math.exp(m.logitScale.dataSync()[0]!);
      const bias = m.logitBias ? m.logitBias.dataSync()[0]! : 0;
      expect(Array.from(logitsPerText.dataSync())).toEqual([expect.closeTo(0.6 * s + bias, 4), expect.closeTo(0.8 * s + bias, 4)]);
      expect(logitsPerImage.shape).toEqual([2, 1]);
      tf.dispose([img, txt, logitsPerText, logitsPerImage]);
      m.dispose();
    }
  });
});


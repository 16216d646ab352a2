// Shapes, masking and configuration of the fusion head.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng, tf } from '@duet/runtime';
import { FusionConfigError, FusionHead, FusionWeightsError, fusionParamSpecs, parseFusionConfig } from './index.js';
import { toTypedArray } from '@duet/model-format';
import { useBackend } from '../test/helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const dims = { vision: 12, text: 10, embed: 6 };
const vocab = ['yes', 'no', 'red', 'one', 'two'];
const rand = (shape: number[], seed: number) => {
  const rng = createRng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
};

describe('FusionHead (cross_attention)', () => {
  it('logits [B, A], pooled [B, D] and per-block attention maps [B, H, Nv, Nt] (+1 query row with pooled = cls; text→vision when symmetric)', () => {
    const v = rand([2, 5, 12], 1) as tf.Tensor3D;
    const t = rand([2, 4, 10], 2) as tf.Tensor3D;
    for (const [pooled, symmetric] of [['mean', false], ['cls', true]] as const) {
      const head = FusionHead.create({ answer_vocab: vocab, hidden_size: 8, num_heads: 2, num_blocks: 3, pooled, symmetric }, dims);
      const out = head.forward({ visionTokens: v, textTokens: t }, { outputAttentions: true });
      expect(out.logits.shape).toEqual([2, 5]);
      expect(out.pooled.shape).toEqual([2, symmetric ? 16 : 8]);
      expect(out.attentions).toHaveLength(3);
      const nq = pooled === 'cls' ? 6 : 5;
      for (const a of out.attentions!) {
        expect(a.visionToText.shape).toEqual([2, 2, nq, 4]);
        if (symmetric) expect(a.textToVision!.shape).toEqual([2, 2, 4, nq]);
        else expect(a.textToVision).toBeUndefined();
        // Each query's weights are a distribution over the text tokens.
        for (const s of a.visionToText.sum(-1).dataSync()) expect(s).toBeCloseTo(1, 5);
      }
      tf.dispose([out.logits, out.pooled, ...out.attentions!.flatMap((a) => [a.visionToText, ...(a.textToVision ? [a.textToVision] : [])])]);
      head.dispose();
    }
    tf.dispose([v, t]);
  });

  it('padding tokens get exactly zero attention weight, and their features do not change the output', () => {
    const head = FusionHead.create({ answer_vocab: vocab, hidden_size: 8, num_heads: 2, num_blocks: 2, symmetric: true }, dims, { seed: 3 });
    const v = rand([2, 5, 12], 4) as tf.Tensor3D;
    const t = rand([2, 6, 10], 5) as tf.Tensor3D;
    const mask = tf.tensor2d([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0]], [2, 6], 'int32');
    const out = head.forward({ visionTokens: v, textTokens: t, attentionMask: mask }, { outputAttentions: true });
    for (const a of out.attentions!) {
      const p = a.visionToText.arraySync() as number[][][][];
      for (const [b, len] of [[0, 3], [1, 5]] as const) {
        for (const row of p[b]!.flat()) {
          for (let j = len; j < 6; j++) expect(row[j]).toBe(0);
          expect(row.slice(0, len).every((x) => x > 0)).toBe(true);
        }
      }
    }
    // Replace the padding positions' features with other values: the fused representation is unchanged.
    const keep = tf.tidy(() => tf.cast(mask, 'float32').expandDims(-1));
    const t2 = tf.tidy(() => tf.add(tf.mul(t, keep), tf.mul(rand([2, 6, 10], 9), tf.sub(1, keep)))) as tf.Tensor3D;
    const out2 = head.forward({ visionTokens: v, textTokens: t2, attentionMask: mask });
    const a = out.pooled.dataSync();
    const b = out2.pooled.dataSync();
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 5);
    // Without the mask the padding does change them (the test above could not pass by accident).
    const out3 = head.forward({ visionTokens: v, textTokens: t2 });
    expect(Math.max(...Array.from(out3.pooled.dataSync(), (x, i) => Math.abs(x - a[i]!)))).toBeGreaterThan(1e-2);
    tf.dispose([v, t, t2, mask, keep, out.logits, out.pooled, out2.logits, out2.pooled, out3.logits, out3.pooled]);
    tf.dispose(out.attentions!.flatMap((x) => [x.visionToText, x.textToVision!]));
    head.dispose();
  });

  it('rejects inputs of the wrong width or batch with messages naming the input', () => {
    const head = FusionHead.create({ answer_vocab: vocab, hidden_size: 8, num_heads: 2 }, dims);
    const v = tf.zeros([2, 5, 12]) as tf.Tensor3D;
    const t = tf.zeros([2, 4, 9]) as tf.Tensor3D;
    expect(() => head.forward({ visionTokens: v, textTokens: t })).toThrow('textTokens: expected [2, Nt, 10], got [2, 4, 9]');
    expect(() => head.forward({ visionTokens: tf.zeros([2, 5]) as never, textTokens: t })).toThrow(/visionTokens: expected \[B, Nv, 12\], got \[2, 5\]/);
    expect(() => head.forwardPooled({ imageFeatures: tf.zeros([2, 6]), textFeatures: tf.zeros([2, 6]) })).toThrow(/this head is "cross_attention"/);
    tf.dispose([v, t]);
    head.dispose();
  });
});

describe('FusionHead (late_fusion baseline)', () => {
  it('is an MLP on the concatenated (L2-normalised) pooled embeddings: scaling an input changes nothing', () => {
    const head = FusionHead.create({ type: 'late_fusion', answer_vocab: vocab, hidden_size: 8 }, dims, { seed: 2 });
    expect([...head.namedVariables().keys()]).toEqual(['fusion.head.dense.weight', 'fusion.head.dense.bias', 'fusion.head.out_proj.weight', 'fusion.head.out_proj.bias']);
    expect(head.namedVariables().get('fusion.head.dense.weight')!.shape).toEqual([8, 12]);
    const img = rand([3, 6], 1) as tf.Tensor2D;
    const txt = rand([3, 6], 2) as tf.Tensor2D;
    const a = head.forwardPooled({ imageFeatures: img, textFeatures: txt });
    const scaled = tf.mul(img, 7) as tf.Tensor2D;
    const b = head.forwardPooled({ imageFeatures: scaled, textFeatures: txt });
    expect(a.logits.shape).toEqual([3, 5]);
    const x = a.logits.dataSync();
    b.logits.dataSync().forEach((y, i) => expect(y).toBeCloseTo(x[i]!, 5));
    expect(() => head.forward({ visionTokens: tf.zeros([1, 2, 12]) as tf.Tensor3D, textTokens: tf.zeros([1, 2, 10]) as tf.Tensor3D })).toThrow(/this head is "late_fusion"/);
    tf.dispose([img, txt, scaled, a.logits, a.pooled, b.logits, b.pooled]);
    head.dispose();
  });
});

describe('fusion config and tensors', () => {
  it('fills defaults, keeps the answer vocabulary, and names bad fields', () => {
    const c = parseFusionConfig({ answer_vocab: ['a', 'b'] });
    expect(c).toMatchObject({ type: 'cross_attention', task: 'vqa', num_blocks: 2, hidden_size: 64, num_heads: 4, mlp_ratio: 4, symmetric: false, pooled: 'mean', answer_vocab: ['a', 'b'] });
    expect(() => parseFusionConfig({ answer_vocab: ['a', 'b'], hidden_size: 10, num_heads: 4 })).toThrow(/duet_fusion\.num_heads: hidden_size 10 is not divisible by num_heads 4/);
    expect(() => parseFusionConfig({ answer_vocab: ['a', 'a'] })).toThrow(/duet_fusion\.answer_vocab: answers must be unique/);
    expect(() => parseFusionConfig({ answer_vocab: ['a', 'b'], type: 'film' })).toThrow(FusionConfigError);
    expect(() => parseFusionConfig({ answer_vocab: ['a', 'b'], pooled: 'cls', self_attention: false })).toThrow(/duet_fusion\.pooled: 'cls' pooling needs self_attention/);
  });

  it('tensor names follow the config (prefix fusion.), and fromTensors reports every mismatch at once', () => {
    const cfg = parseFusionConfig({ answer_vocab: vocab, hidden_size: 8, num_heads: 2, num_blocks: 1, mlp_ratio: 2, pooled: 'cls', symmetric: true });
    const names = fusionParamSpecs(cfg, dims).map((s) => `${s.name}:${s.shape.join('x')}`);
    expect(names).toContain('fusion.blocks.0.cross_attn.q_proj.weight:8x8');
    expect(names).toContain('fusion.vision_proj.weight:8x12');
    expect(names).toContain('fusion.text_proj.weight:8x10');
    expect(names).toContain('fusion.blocks.0.mlp.fc1.weight:16x8');
    expect(names).toContain('fusion.cls_token:1x1x8');
    expect(names).toContain('fusion.head.out_proj.weight:5x8');
    expect(names).toContain('fusion.blocks.0.text_cross_attn.k_proj.weight:8x8');
    expect(names).toContain('fusion.head.dense.weight:8x16');
    const head = FusionHead.create(cfg, dims);
    const tensors = head.toTensors();
    tensors.delete('fusion.cls_token');
    tensors.set('fusion.extra', tensors.get('fusion.post_layernorm.bias')!);
    tensors.set('fusion.head.dense.bias', tensors.get('fusion.head.out_proj.bias')!);
    tensors.set('vision_model.whatever', tensors.get('fusion.post_layernorm.bias')!); // not ours: ignored
    let err: unknown;
    try {
      FusionHead.fromTensors(cfg, dims, tensors);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FusionWeightsError);
    expect((err as FusionWeightsError).problems).toEqual([
      'missing tensor "fusion.cls_token" (expected [1, 1, 8])',
      'tensor "fusion.head.dense.bias": expected shape [8], got [5]',
      'unexpected tensor "fusion.extra" (not implied by duet_fusion)',
    ]);
    head.dispose();
  });
});

describe('FusionHead position embeddings', () => {
  const posDims = { ...dims, visionTokens: 5, visionGrid: 2, textTokens: 6 }; // a class token, then a 2×2 patch grid
  it('make the head see where a vision token is: without them, swapping two tokens leaves the output unchanged', () => {
    const v = rand([1, 5, 12], 11) as tf.Tensor3D;
    const t = rand([1, 4, 10], 12) as tf.Tensor3D;
    const swapped = tf.tidy(() => tf.gather(v, [0, 2, 1, 3, 4], 1)) as tf.Tensor3D; // patches (0, 0) and (0, 1) trade places
    const maxDiff = (position_embeddings: boolean) => {
      const head = FusionHead.create({ answer_vocab: vocab, hidden_size: 8, num_heads: 2, num_blocks: 2, position_embeddings }, posDims, { seed: 2 });
      const a = head.forward({ visionTokens: v, textTokens: t }).logits;
      const b = head.forward({ visionTokens: swapped, textTokens: t }).logits;
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
      tf.dispose([a, b]);
      head.dispose();
      return d;
    };
    expect(maxDiff(false)).toBeLessThan(1e-5); // mean pooling over permutation-equivariant blocks
    expect(maxDiff(true)).toBeGreaterThan(1e-3);
    tf.dispose([v, t, swapped]);
  });

  it('row + column tables for the patch grid, one row per prefix token, a text table (N(0, 1) under fan-in init); a mismatched token count is a clear error', () => {
    const cfg = parseFusionConfig({ answer_vocab: vocab, hidden_size: 8, num_heads: 2, position_embeddings: true });
    const specs = fusionParamSpecs(cfg, posDims);
    const shape = (n: string) => specs.find((s) => s.name === n)?.shape;
    expect([shape('fusion.vision_row_embedding'), shape('fusion.vision_col_embedding'), shape('fusion.vision_prefix_embedding'), shape('fusion.text_position_embedding')]).toEqual([[2, 8], [2, 8], [1, 8], [6, 8]]);
    expect(fusionParamSpecs(cfg, { ...posDims, visionTokens: 4 }).some((s) => s.name === 'fusion.vision_prefix_embedding')).toBe(false); // SigLIP: no class token
    expect(() => fusionParamSpecs(cfg, { ...posDims, visionTokens: 3 })).toThrow('3 vision tokens cannot hold a 2×2 patch grid');
    expect(() => fusionParamSpecs(cfg, dims)).toThrow(/position_embeddings: the tower token counts/);
    const head = FusionHead.create(cfg, posDims, { seed: 1 });
    const values = ['fusion.vision_row_embedding', 'fusion.vision_col_embedding', 'fusion.text_position_embedding'].flatMap((n) => Array.from(toTypedArray(head.toTensors().get(n)!) as Float32Array));
    const std = Math.sqrt(values.reduce((s, x) => s + x * x, 0) / values.length);
    expect(std).toBeGreaterThan(0.6); // 80 draws of N(0, 1)
    expect(std).toBeLessThan(1.4);
    const v6 = rand([1, 6, 12], 1) as tf.Tensor3D;
    const t4 = rand([1, 4, 10], 2) as tf.Tensor3D;
    expect(() => head.forward({ visionTokens: v6, textTokens: t4 })).toThrow(/position embeddings cover 5 vision tokens, got 6/);
    const v5 = rand([1, 5, 12], 1) as tf.Tensor3D;
    const t7 = rand([1, 7, 10], 2) as tf.Tensor3D;
    expect(() => head.forward({ visionTokens: v5, textTokens: t7 })).toThrow(/at most 6 text tokens, got 7/);
    tf.dispose([v6, t4, v5, t7]);
    head.dispose();
  });
});

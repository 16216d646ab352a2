// The pre-LN transformer encoder shared by CLIP and SigLIP towers (HF CLIPEncoderLayer / SiglipEncoderLayer):
// x + attn(layer_norm1(x)), then x + mlp(layer_norm2(x)). Separate q/k/v/out projections with biases.
import { tf } from '@duet/runtime';
import { activation, layerNorm, linear, scaledDotProductAttention } from './ops.js';
import type { Init, SpecBuilder } from './params.js';

export type Params = (name: string) => tf.Tensor;

export interface ForwardContext {
  training: boolean;
  /** Fresh dropout seed per call (seeded, reproducible). */
  seed: () => number;
  /** Writes a non-trainable buffer (BatchNorm running statistics in training mode). */
  updateBuffer?: (name: string, value: tf.Tensor) => void;
  /** Use running statistics even in training (a frozen/locked ResNet tower, as open_clip's lock_image). */
  frozenBatchNorm?: boolean;
}

export interface EncoderSettings {
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  act: string;
  eps: number;
  attentionDropout: number;
}

export interface EncoderInits {
  qkv: Init;
  out: Init;
  attnBias: Init;
  fc1: Init;
  fc2: Init;
  fc1Bias: Init;
  fc2Bias: Init;
}

export function encoderSpecs(b: SpecBuilder, prefix: string, s: EncoderSettings, init: EncoderInits, ones: Init, zeros: Init): void {
  const d = s.hiddenSize;
  const ff = s.intermediateSize;
  for (let i = 0; i < s.layers; i++) {
    const p = `${prefix}.encoder.layers.${i}`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj']) {
      b.add(`${p}.self_attn.${proj}.weight`, [d, d], init.qkv);
      b.add(`${p}.self_attn.${proj}.bias`, [d], init.attnBias);
    }
    b.add(`${p}.self_attn.out_proj.weight`, [d, d], init.out);
    b.add(`${p}.self_attn.out_proj.bias`, [d], init.attnBias);
    b.add(`${p}.layer_norm1.weight`, [d], ones).add(`${p}.layer_norm1.bias`, [d], zeros);
    b.add(`${p}.mlp.fc1.weight`, [ff, d], init.fc1).add(`${p}.mlp.fc1.bias`, [ff], init.fc1Bias);
    b.add(`${p}.mlp.fc2.weight`, [d, ff], init.fc2).add(`${p}.mlp.fc2.bias`, [d], init.fc2Bias);
    b.add(`${p}.layer_norm2.weight`, [d], ones).add(`${p}.layer_norm2.bias`, [d], zeros);
  }
}

/** fc1 -> act -> fc2 (HF CLIPMLP / SiglipMLP). */
export function mlp(p: Params, prefix: string, x: tf.Tensor, act: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  const h = act(linear(x, p(`${prefix}.fc1.weight`), p(`${prefix}.fc1.bias`)));
  return linear(h, p(`${prefix}.fc2.weight`), p(`${prefix}.fc2.bias`));
}

/** Runs the encoder stack on [B, N, D] with an optional additive mask [B, 1, N, N]. */
export function encoderForward(p: Params, prefix: string, s: EncoderSettings, x: tf.Tensor, mask: tf.Tensor | undefined, ctx: ForwardContext): tf.Tensor {
  const act = activation(s.act);
  let h = x;
  for (let i = 0; i < s.layers; i++) {
    const l = `${prefix}.encoder.layers.${i}`;
    const a = layerNorm(h, p(`${l}.layer_norm1.weight`), p(`${l}.layer_norm1.bias`), s.eps);
    const q = linear(a, p(`${l}.self_attn.q_proj.weight`), p(`${l}.self_attn.q_proj.bias`));
    const k = linear(a, p(`${l}.self_attn.k_proj.weight`), p(`${l}.self_attn.k_proj.bias`));
    const v = linear(a, p(`${l}.self_attn.v_proj.weight`), p(`${l}.self_attn.v_proj.bias`));
    const attn = scaledDotProductAttention(q, k, v, { heads: s.heads, ...(mask ? { mask } : {}), dropoutRate: s.attentionDropout, training: ctx.training, seed: ctx.seed });
    h = tf.add(h, linear(attn, p(`${l}.self_attn.out_proj.weight`), p(`${l}.self_attn.out_proj.bias`)));
    const m = layerNorm(h, p(`${l}.layer_norm2.weight`), p(`${l}.layer_norm2.bias`), s.eps);
    h = tf.add(h, mlp(p, `${l}.mlp`, m, act));
  }
  return h;
}

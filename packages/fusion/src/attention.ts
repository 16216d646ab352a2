// Multi-head attention that also returns its probabilities (for inspection), with an additive key-padding mask.
import { tf } from '@duet/runtime';
import { MASK_MIN, linear, matMul } from '@duet/encoders';

export type Param = (name: string) => tf.Tensor;

/** Additive key mask [B, 1, 1, Nk] from a 0/1 mask [B, Nk] (1 = attend): 0 kept, finfo.min dropped (as HF). */
export function additiveKeyMask(mask: tf.Tensor2D): tf.Tensor4D {
  const [b, n] = mask.shape;
  return tf.mul(tf.sub(1, tf.cast(mask, 'float32')), MASK_MIN).reshape([b, 1, 1, n]);
}

/**
 * Attention(Q = queries W_q, K = keys W_k, V = keys W_v) with `heads` heads over [B, Nq, D] queries and [B, Nk, D]
 * keys; returns the output projection [B, Nq, D] and the probabilities [B, H, Nq, Nk]. A fully masked row attends
 * uniformly (never NaN), as HF's eager attention.
 */
export function multiHeadAttention(
  param: Param, prefix: string, queries: tf.Tensor, keys: tf.Tensor, heads: number, mask?: tf.Tensor4D,
): { out: tf.Tensor; probs: tf.Tensor4D } {
  const [b, nq, d] = queries.shape as [number, number, number];
  const nk = keys.shape[1]!;
  const dh = d / heads;
  const proj = (x: tf.Tensor, p: string) => linear(x, param(`${prefix}.${p}.weight`), param(`${prefix}.${p}.bias`));
  const split = (t: tf.Tensor, n: number) => t.reshape([b, n, heads, dh]).transpose([0, 2, 1, 3]).reshape([b * heads, n, dh]); // [B*H, N, dh]
  const q = split(proj(queries, 'q_proj'), nq);
  const k = split(proj(keys, 'k_proj'), nk);
  const v = split(proj(keys, 'v_proj'), nk);
  let scores = tf.mul(matMul(q, tf.transpose(k, [0, 2, 1])), 1 / Math.sqrt(dh)).reshape([b, heads, nq, nk]); // [B, H, Nq, Nk]
  if (mask) scores = tf.add(scores, mask);
  const probs = tf.softmax(scores, -1) as tf.Tensor4D;
  const ctx = matMul(probs.reshape([b * heads, nq, nk]), v); // [B*H, Nq, dh]
  const merged = ctx.reshape([b, heads, nq, dh]).transpose([0, 2, 1, 3]).reshape([b, nq, d]); // [B, Nq, D]
  return { out: proj(merged, 'out_proj'), probs };
}

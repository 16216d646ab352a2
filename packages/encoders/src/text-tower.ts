// Text towers: HF CLIPTextTransformer (+ text_projection) and SiglipTextTransformer (+ head).
// CLIP: causal mask combined with the padding mask, pooling at the first EOS token (legacy argmax(inputIds) when
// eos_token_id == 2, as HF). SigLIP: padding mask only, pooling at the last position.
import { tf } from '@duet/runtime';
import { MASK_MIN, embeddingLookup, layerNorm, linear } from './ops.js';
import { lecunNormal, normal, ones, xavierUniform, zeros, SpecBuilder } from './params.js';
import { encoderForward, encoderSpecs, type EncoderSettings, type ForwardContext, type Params } from './transformer.js';

export interface TextSettings extends EncoderSettings {
  family: 'clip' | 'siglip';
  vocabSize: number;
  maxPositions: number;
  eosTokenId: number | null;
  /** Output width: CLIP projection_dim, SigLIP projection_size. */
  projectionDim: number;
  /** CLIPConfig.initializer_factor (top level, as HF's _init_weights uses it). */
  initFactor: number;
}

export function textSpecs(b: SpecBuilder, s: TextSettings): void {
  const d = s.hiddenSize;
  if (s.family === 'clip') {
    const f = s.initFactor;
    const inStd = d ** -0.5 * (2 * s.layers) ** -0.5 * f;
    b.add('text_model.embeddings.token_embedding.weight', [s.vocabSize, d], normal(0.02 * f));
    b.add('text_model.embeddings.position_embedding.weight', [s.maxPositions, d], normal(0.02 * f));
    encoderSpecs(b, 'text_model', s, { qkv: normal(inStd), out: normal(d ** -0.5 * f), attnBias: zeros, fc1: normal((2 * d) ** -0.5 * f), fc2: normal(inStd), fc1Bias: zeros, fc2Bias: zeros }, ones, zeros);
    b.add('text_model.final_layer_norm.weight', [d], ones).add('text_model.final_layer_norm.bias', [d], zeros);
    b.add('text_projection.weight', [s.projectionDim, d], normal(d ** -0.5 * f));
  } else {
    // HF SiglipPreTrainedModel._init_weights: flax-style embeddings (std 1/sqrt(D)), xavier attention/MLP, lecun head.
    const ff = s.intermediateSize;
    b.add('text_model.embeddings.token_embedding.weight', [s.vocabSize, d], normal(d ** -0.5));
    b.add('text_model.embeddings.position_embedding.weight', [s.maxPositions, d], normal(d ** -0.5));
    encoderSpecs(b, 'text_model', s, { qkv: xavierUniform([d, d]), out: xavierUniform([d, d]), attnBias: zeros, fc1: xavierUniform([ff, d]), fc2: xavierUniform([d, ff]), fc1Bias: normal(1e-6), fc2Bias: normal(1e-6) }, ones, zeros);
    b.add('text_model.final_layer_norm.weight', [d], ones).add('text_model.final_layer_norm.bias', [d], zeros);
    b.add('text_model.head.weight', [s.projectionDim, d], lecunNormal([s.projectionDim, d]));
    b.add('text_model.head.bias', [s.projectionDim], zeros);
  }
}

/** Additive attention mask [B, 1, L, L]: causal (CLIP) combined with key padding (attentionMask == 0). */
export function textAttentionMask(batch: number, len: number, causal: boolean, attentionMask?: tf.Tensor): tf.Tensor | undefined {
  if (!causal && !attentionMask) return undefined;
  let allowed: tf.Tensor = tf.ones([1, 1, len, len], 'bool');
  if (causal) allowed = tf.logicalAnd(allowed, tf.linalg.bandPart(tf.ones([len, len]), -1, 0).cast('bool').reshape([1, 1, len, len]));
  if (attentionMask) allowed = tf.logicalAnd(allowed, tf.notEqual(attentionMask, 0).reshape([batch, 1, 1, len]));
  // (1 - allowed) * MIN: 0 where attended, MASK_MIN where masked.
  return tf.mul(tf.sub(1, allowed.cast('float32')), MASK_MIN).broadcastTo([batch, 1, len, len]); // [B, 1, L, L]
}

export interface TowerOutput {
  /** [B, N, D] (HF last_hidden_state). */
  lastHiddenState: tf.Tensor;
  /** [B, E] projected, un-normalised features (HF get_*_features). Undefined when the tower has no pooling head. */
  features?: tf.Tensor;
}

export function textForward(p: Params, s: TextSettings, inputIds: tf.Tensor, attentionMask: tf.Tensor | undefined, ctx: ForwardContext, withFeatures = true): TowerOutput {
  const [batch, len] = inputIds.shape as [number, number];
  const tok = embeddingLookup(p('text_model.embeddings.token_embedding.weight'), inputIds.reshape([-1])).reshape([batch, len, s.hiddenSize]); // [B, L, D]
  const pos = p('text_model.embeddings.position_embedding.weight').slice([0, 0], [len, s.hiddenSize]); // [L, D]
  const mask = textAttentionMask(batch, len, s.family === 'clip', attentionMask);
  const h = encoderForward(p, 'text_model', s, tf.add(tok, pos), mask, ctx);
  const last = layerNorm(h, p('text_model.final_layer_norm.weight'), p('text_model.final_layer_norm.bias'), s.eps); // [B, L, D]
  if (!withFeatures) return { lastHiddenState: last };
  let poolIdx: tf.Tensor;
  if (s.family === 'siglip') poolIdx = tf.fill([batch], len - 1, 'int32');
  else if (s.eosTokenId === 2 || s.eosTokenId === null) poolIdx = tf.argMax(inputIds, -1); // HF legacy rule
  else poolIdx = tf.argMax(tf.equal(inputIds, s.eosTokenId).cast('int32'), -1); // first EOS (0 when absent, as HF)
  const flatIdx = tf.add(tf.mul(tf.range(0, batch, 1, 'int32'), tf.scalar(len, 'int32')), poolIdx.cast('int32')); // [B]
  const pooled = embeddingLookup(last.reshape([batch * len, s.hiddenSize]), flatIdx); // [B, D]
  const features = s.family === 'clip' ? linear(pooled, p('text_projection.weight')) : linear(pooled, p('text_model.head.weight'), p('text_model.head.bias'));
  return { lastHiddenState: last, features };
}

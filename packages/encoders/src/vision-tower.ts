// ViT image towers: HF CLIPVisionTransformer (+ visual_projection) and SiglipVisionTransformer (+ MAP head).
// pixelValues arrive NCHW like HF. Patchify is done as reshape/transpose + matmul (exactly the stride = kernel
// convolution HF runs), so no NHWC conversion is needed here.
import { tf } from '@duet/runtime';
import { activation, layerNorm, linear, scaledDotProductAttention } from './ops.js';
import { lecunNormal, normal, ones, xavierUniform, zeros, SpecBuilder } from './params.js';
import { encoderForward, encoderSpecs, mlp, type EncoderSettings, type ForwardContext, type Params } from './transformer.js';
import type { TowerOutput } from './text-tower.js';

export interface VisionSettings extends EncoderSettings {
  family: 'clip' | 'siglip';
  imageSize: number;
  patchSize: number;
  channels: number;
  projectionDim: number;
  initializerRange: number;
  initFactor: number;
  /** SigLIP: MAP attention-pooling head present (vision_use_head, default true). */
  useHead: boolean;
}

export const numPatches = (s: VisionSettings): number => Math.floor(s.imageSize / s.patchSize) ** 2;

export function visionSpecs(b: SpecBuilder, s: VisionSettings): void {
  const d = s.hiddenSize;
  const patchShape = [d, s.channels, s.patchSize, s.patchSize];
  const n = numPatches(s);
  if (s.family === 'clip') {
    const f = s.initFactor;
    const inStd = d ** -0.5 * (2 * s.layers) ** -0.5 * f;
    b.add('vision_model.embeddings.class_embedding', [d], normal(d ** -0.5 * f));
    b.add('vision_model.embeddings.patch_embedding.weight', patchShape, normal(s.initializerRange * f));
    b.add('vision_model.embeddings.position_embedding.weight', [n + 1, d], normal(s.initializerRange * f));
    b.add('vision_model.pre_layrnorm.weight', [d], ones).add('vision_model.pre_layrnorm.bias', [d], zeros);
    encoderSpecs(b, 'vision_model', s, { qkv: normal(inStd), out: normal(d ** -0.5 * f), attnBias: zeros, fc1: normal((2 * d) ** -0.5 * f), fc2: normal(inStd), fc1Bias: zeros, fc2Bias: zeros }, ones, zeros);
    b.add('vision_model.post_layernorm.weight', [d], ones).add('vision_model.post_layernorm.bias', [d], zeros);
    b.add('visual_projection.weight', [s.projectionDim, d], normal(d ** -0.5 * f));
  } else {
    const ff = s.intermediateSize;
    b.add('vision_model.embeddings.patch_embedding.weight', patchShape, lecunNormal(patchShape));
    b.add('vision_model.embeddings.patch_embedding.bias', [d], zeros);
    b.add('vision_model.embeddings.position_embedding.weight', [n, d], normal(d ** -0.5));
    const enc = { qkv: xavierUniform([d, d]), out: xavierUniform([d, d]), attnBias: zeros, fc1: xavierUniform([ff, d]), fc2: xavierUniform([d, ff]), fc1Bias: normal(1e-6), fc2Bias: normal(1e-6) };
    encoderSpecs(b, 'vision_model', s, enc, ones, zeros);
    b.add('vision_model.post_layernorm.weight', [d], ones).add('vision_model.post_layernorm.bias', [d], zeros);
    if (s.useHead) {
      const h = 'vision_model.head';
      b.add(`${h}.probe`, [1, 1, d], xavierUniform([1, 1, d]));
      b.add(`${h}.attention.in_proj_weight`, [3 * d, d], xavierUniform([3 * d, d]));
      b.add(`${h}.attention.in_proj_bias`, [3 * d], zeros);
      b.add(`${h}.attention.out_proj.weight`, [d, d], lecunNormal([d, d])).add(`${h}.attention.out_proj.bias`, [d], zeros);
      b.add(`${h}.layernorm.weight`, [d], ones).add(`${h}.layernorm.bias`, [d], zeros);
      b.add(`${h}.mlp.fc1.weight`, [ff, d], xavierUniform([ff, d])).add(`${h}.mlp.fc1.bias`, [ff], normal(1e-6));
      b.add(`${h}.mlp.fc2.weight`, [d, ff], xavierUniform([d, ff])).add(`${h}.mlp.fc2.bias`, [d], normal(1e-6));
    }
  }
}

/** Non-overlapping patches of NCHW pixels as rows: [B, N, C*p*p] in HF's conv weight order (c, ky, kx). */
export function patchify(pixelValues: tf.Tensor, p: number): tf.Tensor {
  const [b, c, hgt, wid] = pixelValues.shape as [number, number, number, number];
  const gh = Math.floor(hgt / p);
  const gw = Math.floor(wid / p);
  const x = pixelValues.slice([0, 0, 0, 0], [b, c, gh * p, gw * p]); // conv drops a remainder
  const rows = x.reshape([b * c * gh, p, gw, p]).transpose([0, 2, 1, 3]); // [B*C*gh, gw, p, p]
  return rows.reshape([b, c, gh * gw, p * p]).transpose([0, 2, 1, 3]).reshape([b, gh * gw, c * p * p]); // [B, N, C*p*p]
}

function patchEmbed(p: Params, s: VisionSettings, pixelValues: tf.Tensor): tf.Tensor {
  const w = p('vision_model.embeddings.patch_embedding.weight').reshape([s.hiddenSize, s.channels * s.patchSize * s.patchSize]);
  const bias = s.family === 'siglip' ? p('vision_model.embeddings.patch_embedding.bias') : undefined;
  return linear(patchify(pixelValues, s.patchSize), w, bias); // [B, N, D]
}

/** SigLIP multihead attention-pooling head (nn.MultiheadAttention with a learned probe query). */
function mapHead(p: Params, s: VisionSettings, x: tf.Tensor, ctx: ForwardContext): tf.Tensor {
  const h = 'vision_model.head';
  const d = s.hiddenSize;
  const b = x.shape[0]!;
  const w = p(`${h}.attention.in_proj_weight`);
  const bias = p(`${h}.attention.in_proj_bias`);
  const part = (i: number) => [w.slice([i * d, 0], [d, d]), bias.slice([i * d], [d])] as const;
  const probe = tf.tile(p(`${h}.probe`), [b, 1, 1]); // [B, 1, D]
  const q = linear(probe, ...part(0));
  const k = linear(x, ...part(1));
  const v = linear(x, ...part(2));
  // nn.MultiheadAttention's dropout defaults to 0 in HF's head.
  const attn = scaledDotProductAttention(q, k, v, { heads: s.heads, training: ctx.training });
  const pooled = linear(attn, p(`${h}.attention.out_proj.weight`), p(`${h}.attention.out_proj.bias`)); // [B, 1, D]
  const normed = layerNorm(pooled, p(`${h}.layernorm.weight`), p(`${h}.layernorm.bias`), s.eps);
  const out = tf.add(pooled, mlp(p, `${h}.mlp`, normed, activation(s.act)));
  return out.reshape([b, d]); // [B, D]
}

export function visionForward(p: Params, s: VisionSettings, pixelValues: tf.Tensor, ctx: ForwardContext, withFeatures = true): TowerOutput {
  const b = pixelValues.shape[0]!;
  const d = s.hiddenSize;
  let x = patchEmbed(p, s, pixelValues); // [B, N, D]
  if (s.family === 'clip') {
    const cls = tf.tile(p('vision_model.embeddings.class_embedding').reshape([1, 1, d]), [b, 1, 1]);
    x = tf.concat([cls, x], 1); // [B, N+1, D]
    x = tf.add(x, p('vision_model.embeddings.position_embedding.weight'));
    x = layerNorm(x, p('vision_model.pre_layrnorm.weight'), p('vision_model.pre_layrnorm.bias'), s.eps);
    const last = encoderForward(p, 'vision_model', s, x, undefined, ctx);
    if (!withFeatures) return { lastHiddenState: last };
    const cls0 = last.slice([0, 0, 0], [b, 1, d]).reshape([b, d]);
    const pooled = layerNorm(cls0, p('vision_model.post_layernorm.weight'), p('vision_model.post_layernorm.bias'), s.eps);
    return { lastHiddenState: last, features: linear(pooled, p('visual_projection.weight')) };
  }
  x = tf.add(x, p('vision_model.embeddings.position_embedding.weight'));
  const h = encoderForward(p, 'vision_model', s, x, undefined, ctx);
  const last = layerNorm(h, p('vision_model.post_layernorm.weight'), p('vision_model.post_layernorm.bias'), s.eps);
  if (!withFeatures || !s.useHead) return { lastHiddenState: last };
  return { lastHiddenState: last, features: mapHead(p, s, last, ctx) };
}

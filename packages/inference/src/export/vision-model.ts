// Vision tower graph (HF CLIPVisionModelWithProjection / SiglipVisionModel, or the open_clip ModifiedResNet tower):
// pixel_values [B, C, H, W] -> image_embeds (un-normalised, = get_image_features). Dynamic batch.
import { embedDim, isSiglipConfig, visionTower, type ModelConfig } from '@duet/model-format';
import { GraphBuilder, type WeightFormat } from './graph-builder.js';
import { encoder, layerNorm, linear, linearFrom, mlp } from './layers.js';
import { buildResnetTower } from './resnet-tower.js';
import { ExportError, type Weights } from './weights.js';

export function buildVisionModel(config: ModelConfig, w: Weights, format: WeightFormat = 'fp32'): Uint8Array {
  const g = new GraphBuilder(format, 'vision_model');
  const v = config.vision_config;
  const pixels = g.input('pixel_values', 'float32', ['batch_size', v.num_channels, v.image_size, v.image_size]);
  const out = visionTower(config) === 'resnet' ? buildResnetTower(g, w, config, pixels) : vit(g, w, config, pixels);
  g.output(out, 'image_embeds', 'float32', ['batch_size', embedDim(config)]);
  return g.toBytes(`duet vision tower (${config.model_type}, ${visionTower(config)})`);
}

function vit(g: GraphBuilder, w: Weights, config: ModelConfig, pixels: string): string {
  const v = config.vision_config;
  const D = v.hidden_size;
  const P = v.patch_size;
  const grid = Math.floor(v.image_size / P);
  const siglip = isSiglipConfig(config);
  const convW = w.get('vision_model.embeddings.patch_embedding.weight', [D, v.num_channels, P, P]);
  const convIn = [pixels, g.weight('patch_w', convW.data, convW.shape, 0)];
  if (siglip) convIn.push(g.constF(w.get('vision_model.embeddings.patch_embedding.bias', [D]).data));
  const patches = g.op('Conv', convIn, { kernel_shape: [P, P], strides: [P, P] }); // [B, D, g, g]
  let x = g.op('Transpose', [g.op('Reshape', [patches, g.constI64([0, 0, -1])])], { perm: [0, 2, 1] }); // [B, N, D]
  const dims = { hidden: D, heads: v.num_attention_heads, act: v.hidden_act, eps: v.layer_norm_eps };
  if (siglip) {
    const pos = w.get('vision_model.embeddings.position_embedding.weight', [grid * grid, D]);
    x = g.op('Add', [x, g.weight('pos_emb', pos.data, pos.shape, 0)]);
    x = encoder(g, w, x, 'vision_model', v.num_hidden_layers, dims);
    x = layerNorm(g, w, x, 'vision_model.post_layernorm', v.layer_norm_eps);
    if (config.vision_config.vision_use_head === false) {
      throw new ExportError('vision_config.vision_use_head is false: the SigLIP vision tower has no pooled output to export as image_embeds');
    }
    return mapHead(g, w, x, 'vision_model.head', dims, v.intermediate_size);
  }
  const cls = w.get('vision_model.embeddings.class_embedding', [D]).data;
  const batch = g.op('Slice', [g.op('Shape', [pixels]), g.constI64([0]), g.constI64([1])]); // [1]
  const clsB = g.op('Expand', [g.constF(cls, [1, 1, D]), g.op('Concat', [batch, g.constI64([1, D])], { axis: 0 })]); // [B, 1, D]
  x = g.op('Concat', [clsB, x], { axis: 1 }); // [B, N+1, D]
  const pos = w.get('vision_model.embeddings.position_embedding.weight', [grid * grid + 1, D]);
  x = g.op('Add', [x, g.weight('pos_emb', pos.data, pos.shape, 0)]);
  x = layerNorm(g, w, x, 'vision_model.pre_layrnorm', v.layer_norm_eps);
  x = encoder(g, w, x, 'vision_model', v.num_hidden_layers, dims);
  const first = g.op('Gather', [x, g.constI64([0], [])], { axis: 1 }); // [B, D]
  return linear(g, w, layerNorm(g, w, first, 'vision_model.post_layernorm', v.layer_norm_eps), 'visual_projection', { bias: false });
}

/** SigLIP multihead attention pooling: a learned probe attends over the tokens, then LN + MLP residual. */
function mapHead(g: GraphBuilder, w: Weights, x: string, prefix: string, d: { hidden: number; heads: number; act: string; eps: number }, ff: number): string {
  const D = d.hidden;
  const H = d.heads;
  const hd = D / H;
  const probe = w.get(`${prefix}.probe`, [1, 1, D]).data;
  const inW = w.get(`${prefix}.attention.in_proj_weight`, [3 * D, D]).data;
  const inB = w.get(`${prefix}.attention.in_proj_bias`, [3 * D]).data;
  const scale = hd ** -0.5;
  // The probe's query projection is input-independent: compute it at export time (scaled).
  const q = new Float32Array(D);
  for (let o = 0; o < D; o++) {
    let s = inB[o]!;
    for (let i = 0; i < D; i++) s += inW[o * D + i]! * probe[i]!;
    q[o] = s * scale;
  }
  const qh = g.constF(q, [1, H, 1, hd]); // [1, H, 1, hd]
  const kv = linearFrom(g, x, `${prefix}.kv`, inW.subarray(D * D), 2 * D, D, inB.subarray(D)); // [B, N, 2D]
  const heads = g.op('Transpose', [g.op('Reshape', [kv, g.constI64([0, 0, 2, H, hd])])], { perm: [2, 0, 3, 1, 4] }); // [2, B, H, N, hd]
  const [k, val] = g.opN('Split', [heads], { axis: 0 }, 2).map((t) => g.op('Squeeze', [t, g.constI64([0])])) as [string, string];
  const probs = g.op('Softmax', [g.op('MatMul', [qh, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })])], { axis: -1 }); // [B, H, 1, N]
  const ctx = g.op('Reshape', [g.op('MatMul', [probs, val]), g.constI64([0, D])]); // [B, H, 1, hd] -> [B, D]
  const attn = linear(g, w, ctx, `${prefix}.attention.out_proj`); // [B, D]
  const normed = layerNorm(g, w, attn, `${prefix}.layernorm`, d.eps);
  void ff;
  return g.op('Add', [attn, mlp(g, w, normed, `${prefix}.mlp`, d.act)]);
}

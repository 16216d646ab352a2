// open_clip ModifiedResNet vision tower (vision_config.duet_tower = 'resnet'; weights under vision_model.* with
// open_clip's visual.* names): 3-conv stem + avgpool, bottleneck stages (strided blocks average-pool before conv3
// and in the downsample branch), QKV attention pool over [mean; tokens] whose c_proj gives the embedding.
// Eval-mode BatchNorm is folded into the preceding bias-free convolution at export.
import type { ModelConfig } from '@duet/model-format';
import type { GraphBuilder } from './graph-builder.js';
import { linear } from './layers.js';
import { ExportError, type Weights } from './weights.js';

const P = 'vision_model';
const BN_EPS = 1e-5;

export interface ResnetDims {
  layers: number[];
  width: number;
  heads: number;
}

/** open_clip defaults: stem width 64, heads = width * 32 / 64. */
export function resnetDims(config: ModelConfig): ResnetDims {
  const r = config.vision_config.duet_resnet;
  if (!r) throw new ExportError("vision_config.duet_resnet: required when duet_tower is 'resnet'");
  const width = r.width ?? 64;
  const heads = r.heads ?? Math.max(1, Math.floor((width * 32) / 64));
  if ((width * 32) % heads !== 0) throw new ExportError(`vision_config.duet_resnet.heads: ${heads} does not divide the attention-pool width ${width * 32}`);
  return { layers: r.layers, width, heads };
}

/** Conv (no bias) followed by eval BatchNorm, folded: W' = W * g / sqrt(var + eps), b' = beta - mean * g / sqrt(var + eps). */
function convBn(g: GraphBuilder, w: Weights, x: string, conv: string, bn: string, stride: number, pad: number): string {
  const { data, shape } = w.get(`${conv}.weight`);
  if (shape.length !== 4) throw new ExportError(`${conv}.weight: expected [out, in, kh, kw], got [${shape.join(', ')}]`);
  const [out, , kh, kw] = shape as [number, number, number, number];
  const gamma = w.get(`${bn}.weight`, [out]).data;
  const beta = w.get(`${bn}.bias`, [out]).data;
  const mean = w.get(`${bn}.running_mean`, [out]).data;
  const variance = w.get(`${bn}.running_var`, [out]).data;
  const per = data.length / out;
  const folded = new Float32Array(data.length);
  const bias = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    const s = gamma[o]! / Math.sqrt(variance[o]! + BN_EPS);
    for (let i = 0; i < per; i++) folded[o * per + i] = data[o * per + i]! * s;
    bias[o] = beta[o]! - mean[o]! * s;
  }
  return g.op('Conv', [x, g.weight(`${conv}_w`, folded, shape, 0), g.constF(bias, [out])], {
    kernel_shape: [kh, kw], strides: [stride, stride], pads: [pad, pad, pad, pad],
  });
}

function avgPool(g: GraphBuilder, x: string, k: number): string {
  return k > 1 ? g.op('AveragePool', [x], { kernel_shape: [k, k], strides: [k, k] }) : x;
}

export function buildResnetTower(g: GraphBuilder, w: Weights, config: ModelConfig, pixels: string): string {
  const { layers, width, heads } = resnetDims(config);
  let x = pixels; // [B, C, H, W]
  for (const i of [1, 2, 3]) x = g.op('Relu', [convBn(g, w, x, `${P}.conv${i}`, `${P}.bn${i}`, i === 1 ? 2 : 1, 1)]);
  x = avgPool(g, x, 2);
  let inplanes = width;
  layers.forEach((n, li) => {
    const planes = width * 2 ** li;
    for (let b = 0; b < n; b++) {
      const stride = b === 0 && li > 0 ? 2 : 1;
      const name = `${P}.layer${li + 1}.${b}`;
      let out = g.op('Relu', [convBn(g, w, x, `${name}.conv1`, `${name}.bn1`, 1, 0)]);
      out = g.op('Relu', [convBn(g, w, out, `${name}.conv2`, `${name}.bn2`, 1, 1)]);
      out = convBn(g, w, avgPool(g, out, stride), `${name}.conv3`, `${name}.bn3`, 1, 0);
      const identity = stride > 1 || inplanes !== planes * 4
        ? convBn(g, w, avgPool(g, x, stride), `${name}.downsample.0`, `${name}.downsample.1`, 1, 0)
        : x;
      x = g.op('Relu', [g.op('Add', [out, identity])]);
      inplanes = planes * 4;
    }
  });
  // Attention pool: tokens [B, HW, C], prepend their mean, add positions; only the pooled (first) query is used.
  const C = width * 32;
  const hd = C / heads;
  const tokens = g.op('Transpose', [g.op('Reshape', [x, g.constI64([0, 0, -1])])], { perm: [0, 2, 1] }); // [B, HW, C]
  let seq = g.op('Concat', [g.op('ReduceMean', [tokens], { axes: [1], keepdims: 1 }), tokens], { axis: 1 }); // [B, HW+1, C]
  const grid = Math.floor(config.vision_config.image_size / 32);
  const pos = w.get(`${P}.attnpool.positional_embedding`, [grid * grid + 1, C]);
  seq = g.op('Add', [seq, g.weight('attnpool_pos', pos.data, pos.shape, 0)]);
  const a = `${P}.attnpool`;
  const first = g.op('Slice', [seq, g.constI64([0]), g.constI64([1]), g.constI64([1])]); // [B, 1, C]
  const q = linear(g, w, first, `${a}.q_proj`, { scale: hd ** -0.5 });
  const k = linear(g, w, seq, `${a}.k_proj`);
  const v = linear(g, w, seq, `${a}.v_proj`);
  const split = (t: string) => g.op('Transpose', [g.op('Reshape', [t, g.constI64([0, 0, heads, hd])])], { perm: [0, 2, 1, 3] }); // [B, H, N, hd]
  const probs = g.op('Softmax', [g.op('MatMul', [split(q), g.op('Transpose', [split(k)], { perm: [0, 1, 3, 2] })])], { axis: -1 }); // [B, H, 1, N]
  const ctx = g.op('Reshape', [g.op('MatMul', [probs, split(v)]), g.constI64([0, C])]); // [B, C]
  return linear(g, w, ctx, `${a}.c_proj`);
}

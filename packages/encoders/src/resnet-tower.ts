// open_clip ModifiedResNet image tower (a Duet extension of the CLIP config: vision_config.duet_tower = 'resnet',
// vision_config.duet_resnet = { layers, width, heads }): 3-conv stem + avgpool, bottleneck stages whose strided
// blocks anti-alias with an average pool before the 1x1 conv, and a QKV attention pool whose c_proj outputs the
// embedding (no separate visual_projection). Tensor names are open_clip's `visual.*` names under `vision_model.`.
// Layout: pixelValues arrive NCHW (HF) and are transposed once to NHWC because tfjs conv2d/avgPool are NHWC;
// conv weights stay in torch layout [out, in, kh, kw] and are transposed to tfjs [kh, kw, in, out] per call.
import { tf } from '@duet/runtime';
import { linear, scaledDotProductAttention } from './ops.js';
import { normal, ones, torchDefault, zeros, SpecBuilder } from './params.js';
import type { ForwardContext, Params } from './transformer.js';
import type { TowerOutput } from './text-tower.js';

export interface ResnetSettings {
  layers: number[];
  width: number;
  heads: number;
  imageSize: number;
  channels: number;
  projectionDim: number;
}

const BN_EPS = 1e-5;
const BN_MOMENTUM = 0.1;
const P = 'vision_model';

export const resnetEmbedWidth = (s: ResnetSettings): number => s.width * 32;

function conv(b: SpecBuilder, name: string, out: number, inp: number, k: number): void {
  b.add(`${name}.weight`, [out, inp, k, k], torchDefault(inp * k * k));
}

function bn(b: SpecBuilder, name: string, c: number, zeroWeight = false): void {
  b.add(`${name}.weight`, [c], zeroWeight ? zeros : ones).add(`${name}.bias`, [c], zeros);
  b.add(`${name}.running_mean`, [c], zeros, false).add(`${name}.running_var`, [c], ones, false);
}

interface Block {
  name: string;
  inplanes: number;
  planes: number;
  stride: number;
  downsample: boolean;
}

function blocks(s: ResnetSettings): Block[] {
  const out: Block[] = [];
  let inplanes = s.width;
  s.layers.forEach((n, li) => {
    const planes = s.width * 2 ** li;
    for (let i = 0; i < n; i++) {
      const stride = i === 0 && li > 0 ? 2 : 1;
      out.push({ name: `${P}.layer${li + 1}.${i}`, inplanes, planes, stride, downsample: stride > 1 || inplanes !== planes * 4 });
      inplanes = planes * 4;
    }
  });
  return out;
}

export function resnetSpecs(b: SpecBuilder, s: ResnetSettings): void {
  const w = s.width;
  conv(b, `${P}.conv1`, w / 2, s.channels, 3);
  bn(b, `${P}.bn1`, w / 2);
  conv(b, `${P}.conv2`, w / 2, w / 2, 3);
  bn(b, `${P}.bn2`, w / 2);
  conv(b, `${P}.conv3`, w, w / 2, 3);
  bn(b, `${P}.bn3`, w);
  for (const k of blocks(s)) {
    conv(b, `${k.name}.conv1`, k.planes, k.inplanes, 1);
    bn(b, `${k.name}.bn1`, k.planes);
    conv(b, `${k.name}.conv2`, k.planes, k.planes, 3);
    bn(b, `${k.name}.bn2`, k.planes);
    conv(b, `${k.name}.conv3`, k.planes * 4, k.planes, 1);
    bn(b, `${k.name}.bn3`, k.planes * 4, true); // open_clip init_parameters zeroes bn3.weight
    if (k.downsample) {
      conv(b, `${k.name}.downsample.0`, k.planes * 4, k.inplanes, 1);
      bn(b, `${k.name}.downsample.1`, k.planes * 4);
    }
  }
  const e = resnetEmbedWidth(s);
  const grid = Math.floor(s.imageSize / 32);
  const std = e ** -0.5;
  b.add(`${P}.attnpool.positional_embedding`, [grid * grid + 1, e], normal(std));
  for (const proj of ['q_proj', 'k_proj', 'v_proj']) b.add(`${P}.attnpool.${proj}.weight`, [e, e], normal(std)).add(`${P}.attnpool.${proj}.bias`, [e], torchDefault(e));
  b.add(`${P}.attnpool.c_proj.weight`, [s.projectionDim, e], normal(std)).add(`${P}.attnpool.c_proj.bias`, [s.projectionDim], torchDefault(e));
}

/**
 * NHWC conv with symmetric zero padding and its own gradient: dx via conv2dTranspose, dW via the "input as batch
 * of channels" identity dW = conv(Xᵀ, dYᵀ, dilation = stride). Both run on native kernels of every backend, where
 * tfjs-wasm lacks Conv2DBackpropFilter (the runtime's CPU fallback copies data back and forth).
 */
type ConvFn = (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;
const convFns = new Map<string, ConvFn>();

export function convNhwc(stride: number, pad: number): ConvFn {
  const key = `${stride}/${pad}`;
  let fn = convFns.get(key);
  if (!fn) {
    fn = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
      save([x, w]);
      return {
        value: tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sw] = saved as [tf.Tensor4D, tf.Tensor4D];
          const [kh, kw] = sw.shape;
          const dx = tf.conv2dTranspose(dy as tf.Tensor4D, sw, sx.shape, stride, pad);
          const xp = pad > 0 ? tf.pad(sx, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : sx;
          const a = tf.transpose(xp, [3, 1, 2, 0]) as tf.Tensor4D; // [Ci, Hp, Wp, B]
          const f = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, B, Co]
          const full = tf.conv2d(a, f, 1, 'valid', 'NHWC', stride); // [Ci, >=kh, >=kw, Co]
          return [dx, tf.transpose(full.slice([0, 0, 0, 0], [-1, kh, kw, -1]), [1, 2, 0, 3])]; // dW [kh, kw, Ci, Co]
        },
      };
    }) as unknown as (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] }) as ConvFn;
    convFns.set(key, fn);
  }
  return fn;
}

function conv2d(p: Params, name: string, x: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  const w = p(`${name}.weight`); // torch layout [out, in, kh, kw]
  const [out, inp, kh, kw] = w.shape as [number, number, number, number];
  if (kh === 1 && kw === 1 && stride === 1 && pad === 0) return linear(x, w.reshape([out, inp])) as tf.Tensor4D; // 1x1 conv = matmul over channels
  return convNhwc(stride, pad)(x, w.transpose([2, 3, 1, 0])) as tf.Tensor4D; // kernel [kh, kw, in, out]
}

function batchNorm(p: Params, name: string, x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
  const weight = p(`${name}.weight`);
  const bias = p(`${name}.bias`);
  if (ctx.training && !ctx.frozenBatchNorm) {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    if (ctx.updateBuffer) {
      // torch semantics: momentum 0.1, running variance from the unbiased batch variance.
      const n = x.size / x.shape[3];
      const blend = (old: tf.Tensor, batch: tf.Tensor) => tf.add(tf.mul(old, 1 - BN_MOMENTUM), tf.mul(batch, BN_MOMENTUM));
      ctx.updateBuffer(`${name}.running_mean`, blend(p(`${name}.running_mean`), mean));
      ctx.updateBuffer(`${name}.running_var`, blend(p(`${name}.running_var`), tf.mul(variance, n / Math.max(n - 1, 1))));
    }
    return tf.batchNorm(x, mean, variance, bias, weight, BN_EPS) as tf.Tensor4D;
  }
  return tf.batchNorm(x, p(`${name}.running_mean`), p(`${name}.running_var`), bias, weight, BN_EPS) as tf.Tensor4D;
}

function avgPool(x: tf.Tensor4D, k: number): tf.Tensor4D {
  return k > 1 ? tf.avgPool(x, k, k, 'valid') : x;
}

function bottleneck(p: Params, k: Block, x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
  let out = tf.relu(batchNorm(p, `${k.name}.bn1`, conv2d(p, `${k.name}.conv1`, x, 1, 0), ctx));
  out = tf.relu(batchNorm(p, `${k.name}.bn2`, conv2d(p, `${k.name}.conv2`, out, 1, 1), ctx));
  out = avgPool(out, k.stride);
  out = batchNorm(p, `${k.name}.bn3`, conv2d(p, `${k.name}.conv3`, out, 1, 0), ctx);
  const identity = k.downsample ? batchNorm(p, `${k.name}.downsample.1`, conv2d(p, `${k.name}.downsample.0`, avgPool(x, k.stride), 1, 0), ctx) : x;
  return tf.relu(tf.add(out, identity)) as tf.Tensor4D;
}

export function resnetForward(p: Params, s: ResnetSettings, pixelValues: tf.Tensor, ctx: ForwardContext, withFeatures = true): TowerOutput {
  let x = pixelValues.transpose([0, 2, 3, 1]) as tf.Tensor4D; // NCHW -> NHWC [B, H, W, C]
  for (const i of [1, 2, 3]) x = tf.relu(batchNorm(p, `${P}.bn${i}`, conv2d(p, `${P}.conv${i}`, x, i === 1 ? 2 : 1, 1), ctx));
  x = avgPool(x, 2);
  for (const k of blocks(s)) x = bottleneck(p, k, x, ctx);
  const [b, h, w, c] = x.shape;
  const tokens = x.reshape([b, h * w, c]); // [B, HW, C]
  if (!withFeatures) return { lastHiddenState: tokens };
  let seq = tf.concat([tf.mean(tokens, 1, true), tokens], 1); // [B, HW+1, C]
  seq = tf.add(seq, p(`${P}.attnpool.positional_embedding`));
  const a = `${P}.attnpool`;
  const q = linear(seq.slice([0, 0, 0], [b, 1, c]), p(`${a}.q_proj.weight`), p(`${a}.q_proj.bias`)); // only the pooled query is used
  const kk = linear(seq, p(`${a}.k_proj.weight`), p(`${a}.k_proj.bias`));
  const v = linear(seq, p(`${a}.v_proj.weight`), p(`${a}.v_proj.bias`));
  const attn = scaledDotProductAttention(q, kk, v, { heads: s.heads }); // [B, 1, C]
  const features = linear(attn.reshape([b, c]), p(`${a}.c_proj.weight`), p(`${a}.c_proj.bias`)); // [B, E]
  return { lastHiddenState: tokens, features };
}

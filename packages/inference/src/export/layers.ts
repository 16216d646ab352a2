// Transformer building blocks shared by the CLIP and SigLIP towers (HF semantics: pre-LN residual blocks).
import { ExportError, transpose2d, type Weights } from './weights.js';
import type { GraphBuilder } from './graph-builder.js';

/** y = x W^T + b for an HF Linear named `prefix` ([out, in] weight); `scale` folds a constant factor into W and b. */
export function linear(g: GraphBuilder, w: Weights, x: string, prefix: string, opts: { bias?: boolean; scale?: number } = {}): string {
  const { data, shape } = w.get(`${prefix}.weight`);
  if (shape.length !== 2) throw new ExportError(`${prefix}.weight: expected a 2-D Linear weight, got [${shape.join(', ')}]`);
  const [out, inp] = shape as [number, number];
  return linearFrom(g, x, prefix, data, out, inp, opts.bias === false ? undefined : w.get(`${prefix}.bias`, [out]).data, opts.scale);
}

export function linearFrom(g: GraphBuilder, x: string, hint: string, weight: Float32Array, out: number, inp: number, bias?: Float32Array, scale = 1): string {
  const wt = transpose2d(weight, out, inp);
  if (scale !== 1) for (let i = 0; i < wt.length; i++) wt[i]! *= scale;
  let y = g.op('MatMul', [x, g.weight(hint, wt, [inp, out], 1)]);
  if (bias) {
    const b = scale !== 1 ? bias.map((v) => v * scale) : bias;
    y = g.op('Add', [y, g.constF(b, [out], `${hint}_b`)]);
  }
  return y;
}

export function layerNorm(g: GraphBuilder, w: Weights, x: string, prefix: string, eps: number): string {
  const gamma = w.get(`${prefix}.weight`).data;
  const beta = w.get(`${prefix}.bias`, [gamma.length]).data;
  return g.op('LayerNormalization', [x, g.constF(gamma, [gamma.length]), g.constF(beta, [beta.length])], { axis: -1, epsilon: { float: eps } });
}

/** HF ACT2FN activations, built from opset-17 primitives. */
export function activation(g: GraphBuilder, x: string, name: string): string {
  const c = (v: number): string => g.constF([v], []);
  switch (name) {
    case 'gelu':
    case 'gelu_python': {
      // 0.5 x (1 + erf(x / sqrt 2))
      const e = g.op('Erf', [g.op('Mul', [x, c(Math.SQRT1_2)])]);
      return g.op('Mul', [g.op('Mul', [x, c(0.5)]), g.op('Add', [e, c(1)])]);
    }
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
    case 'gelu_accurate': {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const x3 = g.op('Mul', [g.op('Mul', [x, x]), x]);
      const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [x3, c(0.044715)])]), c(Math.sqrt(2 / Math.PI))]);
      return g.op('Mul', [g.op('Mul', [x, c(0.5)]), g.op('Add', [g.op('Tanh', [inner]), c(1)])]);
    }
    case 'quick_gelu':
      return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, c(1.702)])])]);
    case 'relu':
      return g.op('Relu', [x]);
    case 'silu':
    case 'swish':
      return g.op('Mul', [x, g.op('Sigmoid', [x])]);
    case 'sigmoid':
      return g.op('Sigmoid', [x]);
    case 'tanh':
      return g.op('Tanh', [x]);
    case 'linear':
      return x;
    default:
      throw new ExportError(`hidden_act: unsupported activation ${JSON.stringify(name)} (supported: gelu, gelu_python, gelu_new, gelu_pytorch_tanh, gelu_fast, gelu_accurate, quick_gelu, relu, silu, swish, sigmoid, tanh, linear)`);
  }
}

export interface TowerDims {
  hidden: number;
  heads: number;
  act: string;
  eps: number;
}

/**
 * Multi-head attention over x [B, N, D] with fused q/k/v projection; `mask` is an additive float mask broadcastable
 * to [B, H, N, N] (or undefined). The 1/sqrt(head_dim) scale is folded into the q projection.
 */
export function selfAttention(g: GraphBuilder, w: Weights, x: string, prefix: string, d: TowerDims, mask?: string): string {
  const D = d.hidden;
  const H = d.heads;
  const hd = D / H;
  const scale = hd ** -0.5;
  const wq = w.get(`${prefix}.q_proj.weight`, [D, D]).data;
  const wk = w.get(`${prefix}.k_proj.weight`, [D, D]).data;
  const wv = w.get(`${prefix}.v_proj.weight`, [D, D]).data;
  const fused = new Float32Array(3 * D * D);
  fused.set(wq.map((v) => v * scale), 0);
  fused.set(wk, D * D);
  fused.set(wv, 2 * D * D);
  const bias = new Float32Array(3 * D);
  bias.set(w.get(`${prefix}.q_proj.bias`, [D]).data.map((v) => v * scale), 0);
  bias.set(w.get(`${prefix}.k_proj.bias`, [D]).data, D);
  bias.set(w.get(`${prefix}.v_proj.bias`, [D]).data, 2 * D);
  const qkv = linearFrom(g, x, `${prefix}.qkv`, fused, 3 * D, D, bias); // [B, N, 3D]
  const heads = g.op('Transpose', [g.op('Reshape', [qkv, g.constI64([0, 0, 3, H, hd])])], { perm: [2, 0, 3, 1, 4] }); // [3, B, H, N, hd]
  const [q, k, v] = g.opN('Split', [heads], { axis: 0 }, 3).map((t) => g.op('Squeeze', [t, g.constI64([0])])) as [string, string, string];
  let scores = g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]); // [B, H, N, N]
  if (mask) scores = g.op('Add', [scores, mask]);
  const probs = g.op('Softmax', [scores], { axis: -1 });
  const ctx = g.op('MatMul', [probs, v]); // [B, H, N, hd]
  const merged = g.op('Reshape', [g.op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), g.constI64([0, 0, D])]); // [B, N, D]
  return linear(g, w, merged, `${prefix}.out_proj`);
}

export function mlp(g: GraphBuilder, w: Weights, x: string, prefix: string, act: string): string {
  return linear(g, w, activation(g, linear(g, w, x, `${prefix}.fc1`), act), `${prefix}.fc2`);
}

/** HF CLIP/SigLIP encoder: `layers` pre-LN blocks (x + attn(ln1 x); x + mlp(ln2 x)). */
export function encoder(g: GraphBuilder, w: Weights, x: string, prefix: string, layers: number, d: TowerDims, mask?: string): string {
  let h = x;
  for (let i = 0; i < layers; i++) {
    const p = `${prefix}.encoder.layers.${i}`;
    h = g.op('Add', [h, selfAttention(g, w, layerNorm(g, w, h, `${p}.layer_norm1`, d.eps), `${p}.self_attn`, d, mask)]);
    h = g.op('Add', [h, mlp(g, w, layerNorm(g, w, h, `${p}.layer_norm2`, d.eps), `${p}.mlp`, d.act)]);
  }
  return h;
}

/** A very negative value that stays finite in float32 (HF uses finfo.min). */
export const MASK_MIN = -3.4028234663852886e38;

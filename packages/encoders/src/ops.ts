// Building blocks shared by every tower: linear layers in HF weight layout, LayerNorm, activations, dropout and
// multi-head attention with an additive mask. All functions are pure tf ops (autograd-friendly, call inside tidy).
import { tf } from '@duet/runtime';

/** HF's `torch.finfo(float32).min`: the additive value for masked attention scores (finite, so a fully masked
 * row softmaxes to a uniform distribution exactly as HF's eager attention does, never NaN). */
export const MASK_MIN = -3.4028234663852886e38;

/** Activation names accepted in `hidden_act` (HF ACT2FN names). */
export const ACTIVATIONS = ['quick_gelu', 'gelu', 'gelu_new', 'gelu_pytorch_tanh', 'gelu_fast', 'gelu_python', 'relu', 'silu', 'swish', 'tanh', 'sigmoid'] as const;

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

function geluTanh(x: tf.Tensor): tf.Tensor {
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  (HF gelu_new / gelu_pytorch_tanh / gelu_fast)
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), SQRT_2_OVER_PI); // x*x*x: pow's gradient is costly
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** Returns the activation function for an HF `hidden_act` name; throws naming the field for unknown names. */
export function activation(name: string, field = 'hidden_act'): (x: tf.Tensor) => tf.Tensor {
  switch (name) {
    case 'quick_gelu':
      return (x) => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
    case 'gelu':
    case 'gelu_python':
      return (x) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return geluTanh;
    case 'relu':
      return (x) => tf.relu(x);
    case 'silu':
    case 'swish':
      return (x) => tf.mul(x, tf.sigmoid(x));
    case 'tanh':
      return (x) => tf.tanh(x);
    case 'sigmoid':
      return (x) => tf.sigmoid(x);
    default:
      throw new Error(`${field}: unsupported activation ${JSON.stringify(name)}; expected one of ${ACTIVATIONS.join(', ')}`);
  }
}

/** Swaps the last two axes ([.., M, K] -> [.., K, M]). */
function swapLast(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1]!, perm[perm.length - 2]!];
  return tf.transpose(t, perm);
}

/**
 * a @ b for rank-2 or batched rank-3 operands whose forward and backward passes only use plain matmuls on
 * explicitly transposed copies: tfjs-wasm's transposeA/transposeB kernels (which tf.matMul's own gradient uses)
 * run ~10x slower than the plain kernel.
 */
export const matMul = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.matMul(dy as tf.Tensor3D, swapLast(saved[1]!) as tf.Tensor3D), tf.matMul(swapLast(saved[0]!) as tf.Tensor3D, dy as tf.Tensor3D)],
  };
}) as unknown as (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] }) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** JS scatter-add of rows: out[ids[i]] += rows[i] (the embedding gradient) for CPU-side backends. */
function scatterRows(rows: Float32Array, ids: Int32Array, vocab: number, dim: number): Float32Array {
  const out = new Float32Array(vocab * dim);
  for (let i = 0; i < ids.length; i++) {
    const o = ids[i]! * dim;
    const r = i * dim;
    for (let j = 0; j < dim; j++) out[o + j]! += rows[r + j]!;
  }
  return out;
}

/**
 * weight[ids] for an embedding table [V, D] and int32 ids [N] -> [N, D]. The gradient is a scatter-add: on the
 * wasm/cpu backends done in JS (O(N*D)); tf.gather's own gradient (UnsortedSegmentSum) is O(V*N*D) there.
 */
export const embeddingLookup = tf.customGrad(((weight: tf.Tensor, ids: tf.Tensor, save: tf.GradSaveFunc) => {
  save([ids]);
  const [vocab, dim] = weight.shape as [number, number];
  return {
    value: tf.gather(weight, ids),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const idx = saved[0]!;
      const backend = tf.getBackend();
      const dw = backend === 'wasm' || backend === 'cpu'
        ? tf.tensor2d(scatterRows(dy.dataSync() as Float32Array, idx.dataSync() as Int32Array, vocab, dim), [vocab, dim])
        : tf.unsortedSegmentSum(dy, idx as tf.Tensor1D, vocab);
      return [dw, tf.zerosLike(idx)];
    },
  };
}) as unknown as (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] }) as (weight: tf.Tensor, ids: tf.Tensor) => tf.Tensor;

/**
 * x @ wᵀ for x [M, in] and a torch-layout weight w [out, in]. The transposed weight is a temporary inside the op
 * (freed at once, never held by the tape), and the gradients need no transposed weight: dx = dy @ w, dw = dyᵀ @ x.
 */
const matMulWeightT = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, tf.transpose(w as tf.Tensor2D)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.matMul(dy as tf.Tensor2D, saved[1]! as tf.Tensor2D), tf.matMul(tf.transpose(dy as tf.Tensor2D), saved[0]! as tf.Tensor2D)],
  };
}) as unknown as (...args: (tf.Tensor | tf.GradSaveFunc)[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] }) as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;

/** y = x W^T + b with W in torch layout [out, in]; x is [..., in]. */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const inDim = x.shape[x.shape.length - 1]!;
  const lead = x.shape.slice(0, -1);
  const x2 = x.reshape([-1, inDim]); // [M, in]
    let y: tf.Tensor = matMulWeightT(x2, weight); // [M, out]
  if (bias) y = tf.add(y, bias);
  return y.reshape([...lead, weight.shape[0]!]);
}

/** LayerNorm over the last axis with biased variance, as torch.nn.LayerNorm. */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  const axis = x.shape.length - 1;
  const { mean, variance } = tf.moments(x, axis, true);
  const norm = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(norm, weight), bias);
}

/** Inverted dropout (torch semantics: scale kept units by 1/(1-p)); identity when not training or p == 0. */
export function dropout(x: tf.Tensor, rate: number, training: boolean, seed: () => number): tf.Tensor {
  if (!training || rate <= 0) return x;
  if (rate >= 1) return tf.zerosLike(x);
  return tf.dropout(x, rate, undefined, seed());
}

export interface AttentionOptions {
  heads: number;
  /** Additive mask broadcastable to [B, H, Nq, Nk] (0 = keep, MASK_MIN = drop), e.g. [B, 1, Nq, Nk]. */
  mask?: tf.Tensor;
  dropoutRate?: number;
  training?: boolean;
  seed?: () => number;
}

/** Scaled dot-product attention over already projected q [B, Nq, D], k/v [B, Nk, D]; returns [B, Nq, D]. */
export function scaledDotProductAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, opts: AttentionOptions): tf.Tensor {
  const [b, nq, d] = q.shape as [number, number, number];
  const nk = k.shape[1]!;
  const h = opts.heads;
  const dh = d / h;
  const split = (t: tf.Tensor, n: number) => t.reshape([b, n, h, dh]).transpose([0, 2, 1, 3]).reshape([b * h, n, dh]); // [B*H, N, dh]
  const qh = split(q, nq);
  const kh = split(k, nk);
  const vh = split(v, nk);
  let scores: tf.Tensor = tf.mul(matMul(qh, swapLast(kh)), 1 / Math.sqrt(dh)); // [B*H, Nq, Nk]
  if (opts.mask) scores = tf.add(scores.reshape([b, h, nq, nk]), opts.mask).reshape([b * h, nq, nk]);
  let probs = tf.softmax(scores, -1);
  probs = dropout(probs, opts.dropoutRate ?? 0, opts.training ?? false, opts.seed ?? (() => 0));
  const out = matMul(probs, vh); // [B*H, Nq, dh]
  return out.reshape([b, h, nq, dh]).transpose([0, 2, 1, 3]).reshape([b, nq, d]); // [B, Nq, D]
}

/** L2-normalise rows (x / ||x||, no epsilon, as HF's `x / x.norm(p=2, dim=-1, keepdim=True)`). */
export function l2Normalize(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.norm(x, 'euclidean', -1, true));
}

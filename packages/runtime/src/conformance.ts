// Backend conformance: a small op set the encoders / losses / training step rely on, forward and gradients,
// run on a backend under test and on a reference backend (cpu) with identical inputs, compared elementwise.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend.js';
import { createRng, type Rng } from './rng.js';
import type { BackendName } from './types.js';

type Inputs = Record<string, { shape: number[]; data: Float32Array | Int32Array; dtype: 'float32' | 'int32' }>;

export interface ConformanceCase {
  name: string;
  inputs: (rng: Rng) => Inputs;
  /** Returns named outputs (forward values and gradients). Runs inside tf.tidy. */
  run: (x: Record<string, tf.Tensor>) => Record<string, tf.Tensor>;
}

const normal = (rng: Rng, shape: number[], std = 1) => {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal(0, std);
  return { shape, data, dtype: 'float32' as const };
};

/** Loss = sum(f(x) * w) with a fixed random w, so gradients are non-trivial dot-products with w. */
function withGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, names: string[]) {
  return (x: Record<string, tf.Tensor>) => {
    const args = names.map((n) => x[n]!);
    const y = f(...args);
    const w = x['w']!;
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), w)))(args);
    return Object.fromEntries([['y', y], ...names.map((n, i) => [`d${n}`, grads[i]!])]);
  };
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
export const geluTanh = (x: tf.Tensor) =>
  tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(SQRT_2_OVER_PI, tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
export const geluErf = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
export const quickGelu = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(tf.mul(1.702, x)));
/**
 * log σ(x) = -softplus(-x). tf.logSigmoid (tfjs 4.22) is unusable in training: its customGrad does not save its
 * input, so its gradient reads a disposed tensor whenever the input is an intermediate of the taped function.
 */
export const logSigmoid = (x: tf.Tensor) => tf.neg(tf.softplus(tf.neg(x)));
export const layerNorm = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps = 1e-5) => {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b);
};

export const CONFORMANCE_CASES: ConformanceCase[] = [
  {
    name: 'matmul',
    inputs: (r) => ({ a: normal(r, [8, 16]), b: normal(r, [16, 12]), w: normal(r, [8, 12]) }),
    run: withGrads((a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), ['a', 'b']),
  },
  {
    name: 'batched matmul (transposeB)',
    inputs: (r) => ({ a: normal(r, [2, 5, 8]), b: normal(r, [2, 7, 8]), w: normal(r, [2, 5, 7]) }),
    run: withGrads((a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true), ['a', 'b']),
  },
  {
    name: 'softmax',
    inputs: (r) => ({ x: normal(r, [4, 10], 3), w: normal(r, [4, 10]) }),
    run: withGrads((x) => tf.softmax(x), ['x']),
  },
  {
    name: 'logSoftmax',
    inputs: (r) => ({ x: normal(r, [4, 10], 3), w: normal(r, [4, 10]) }),
    run: withGrads((x) => tf.logSoftmax(x), ['x']),
  },
  {
    name: 'layer norm (composed)',
    inputs: (r) => ({ x: normal(r, [3, 4, 16], 2), g: normal(r, [16]), b: normal(r, [16]), w: normal(r, [3, 4, 16]) }),
    run: withGrads((x, g, b) => layerNorm(x, g, b), ['x', 'g', 'b']),
  },
  { name: 'gelu (tanh approximation)', inputs: (r) => ({ x: normal(r, [64], 2), w: normal(r, [64]) }), run: withGrads(geluTanh, ['x']) },
  { name: 'gelu (erf)', inputs: (r) => ({ x: normal(r, [64], 2), w: normal(r, [64]) }), run: withGrads(geluErf, ['x']) },
  { name: 'quick_gelu', inputs: (r) => ({ x: normal(r, [64], 2), w: normal(r, [64]) }), run: withGrads(quickGelu, ['x']) },
  {
    name: 'conv2d 3x3 stride 2 same',
    inputs: (r) => ({ x: normal(r, [2, 9, 9, 3]), f: normal(r, [3, 3, 3, 4]), w: normal(r, [2, 5, 5, 4]) }),
    run: withGrads((x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'same'), ['x', 'f']),
  },
  {
    name: 'conv2d 4x4 patchify (stride 4 valid)',
    inputs: (r) => ({ x: normal(r, [2, 8, 8, 3]), f: normal(r, [4, 4, 3, 6]), w: normal(r, [2, 2, 2, 6]) }),
    run: withGrads((x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 4, 'valid'), ['x', 'f']),
  },
  {
    name: 'conv2d 7x7 stride 2 same, even input (asymmetric padding)',
    inputs: (r) => ({ x: normal(r, [1, 10, 10, 3]), f: normal(r, [7, 7, 3, 4]), w: normal(r, [1, 5, 5, 4]) }),
    run: withGrads((x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'same'), ['x', 'f']),
  },
  {
    name: 'conv2d 1x1 stride 2 (downsample shortcut)',
    inputs: (r) => ({ x: normal(r, [2, 6, 6, 4]), f: normal(r, [1, 1, 4, 8]), w: normal(r, [2, 3, 3, 8]) }),
    run: withGrads((x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'valid'), ['x', 'f']),
  },
  {
    name: 'conv2d 3x3 stride 1 explicit padding, dilation-free',
    inputs: (r) => ({ x: normal(r, [2, 5, 6, 2]), f: normal(r, [3, 3, 2, 3]), w: normal(r, [2, 5, 6, 3]) }),
    run: withGrads((x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]), ['x', 'f']),
  },
  {
    name: 'attention (masked softmax(QK^T/sqrt(d)) V, heads split by reshape/transpose)',
    inputs: (r) => ({ q: normal(r, [2, 5, 8]), k: normal(r, [2, 5, 8]), v: normal(r, [2, 5, 8]), w: normal(r, [2, 5, 8]) }),
    run: withGrads((q, k, v) => {
      const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [2, 5, 2, 4]), [0, 2, 1, 3]); // [B, H, N, Dh]
      const causal = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([5, 5]), -1, 0)), -1e9); // [N, N]
      const scores = tf.add(tf.div(tf.matMul(heads(q), heads(k), false, true), Math.sqrt(4)), causal);
      const out = tf.matMul(tf.softmax(scores), heads(v)); // [B, H, N, Dh]
      return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [2, 5, 8]);
    }, ['q', 'k', 'v']),
  },
  {
    name: 'contrastive losses (L2 normalise, logit scale, logSumExp, log-sigmoid via softplus)',
    inputs: (r) => ({ a: normal(r, [4, 6]), b: normal(r, [4, 6]), t: normal(r, [1], 0.5), w: normal(r, [2]) }),
    run: withGrads((a, b, t) => {
      const l2 = (x: tf.Tensor) => tf.div(x, tf.norm(x, 'euclidean', -1, true));
      const logits = tf.mul(tf.matMul(l2(a) as tf.Tensor2D, l2(b) as tf.Tensor2D, false, true), tf.exp(t)); // [B, B]
      const labels = tf.oneHot(tf.range(0, 4, 1, 'int32'), 4);
      const clip = tf.mean(tf.sub(tf.logSumExp(logits, -1), tf.sum(tf.mul(logits, labels), -1)));
      const signs = tf.sub(tf.mul(labels, 2), 1);
      const siglip = tf.neg(tf.mean(logSigmoid(tf.mul(signs, tf.sub(logits, 10)))));
      return tf.stack([clip, siglip]);
    }, ['a', 'b', 't']),
  },
  {
    name: 'resnet pieces (batch norm from moments, relu, maxPool, avgPool)',
    inputs: (r) => ({ x: normal(r, [2, 6, 6, 3]), g: normal(r, [3]), b: normal(r, [3]), w: normal(r, [2, 1, 1, 3]) }),
    run: withGrads((x, g, b) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const y = tf.relu(tf.batchNorm(x as tf.Tensor4D, mean, variance, b, g, 1e-5));
      const pooled = tf.maxPool(y as tf.Tensor4D, 3, 2, 'same'); // [2, 3, 3, 3]
      return tf.avgPool(pooled, 3, 1, 'valid'); // [2, 1, 1, 3]
    }, ['x', 'g', 'b']),
  },
  {
    name: 'token plumbing (class token tile + concat, position add, slice, clipByValue)',
    inputs: (r) => ({ x: normal(r, [2, 4, 6]), c: normal(r, [1, 1, 6]), p: normal(r, [5, 6]), w: normal(r, [2, 5, 6]) }),
    run: withGrads((x, c, p) => {
      const tokens = tf.add(tf.concat([tf.tile(c, [2, 1, 1]), x], 1), p); // [B, 1 + N, D]
      return tf.concat([tf.slice(tokens, [0, 0, 0], [2, 1, 6]), tf.clipByValue(tf.slice(tokens, [0, 1, 0], [2, 4, 6]), -1, 1)], 1);
    }, ['x', 'c', 'p']),
  },
  {
    name: 'gather (embedding lookup)',
    inputs: (r) => ({
      table: normal(r, [10, 6]),
      ids: { shape: [2, 5], data: Int32Array.from({ length: 10 }, () => r.int(10)), dtype: 'int32' },
      w: normal(r, [2, 5, 6]),
    }),
    run: (x) => {
      const f = (t: tf.Tensor) => tf.gather(t, x['ids']!);
      const [dtable] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(f(t), x['w']!)))([x['table']!]);
      return { y: f(x['table']!), dtable: dtable! };
    },
  },
];

export interface ConformanceResult {
  case: string;
  output: string;
  maxAbsDiff: number;
  /** max |a - b| / (atol + rtol |b|); <= 1 passes. */
  worstRatio: number;
  ok: boolean;
}

async function evaluate(backend: BackendName, c: ConformanceCase, seed: number): Promise<Record<string, Float32Array>> {
  await initBackend({ backend });
  const spec = c.inputs(createRng(seed));
  const outs = tf.tidy(() => {
    const x = Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, tf.tensor(v.data, v.shape, v.dtype)]));
    return c.run(x);
  });
  const result: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(outs)) result[k] = Float32Array.from(await t.data());
  tf.dispose(Object.values(outs));
  return result;
}

/** Runs every case on `backend` and `reference`; compares with |a - b| <= atol + rtol |b|. Leaves `reference` active. */
export async function runConformance(
  backend: BackendName,
  opts: { reference?: BackendName; atol?: number; rtol?: number; seed?: number; cases?: ConformanceCase[] } = {},
): Promise<ConformanceResult[]> {
  const { reference = 'cpu', atol = 1e-5, rtol = 1e-5, seed = 1234, cases = CONFORMANCE_CASES } = opts;
  const results: ConformanceResult[] = [];
  for (const c of cases) {
    const got = await evaluate(backend, c, seed);
    const want = await evaluate(reference, c, seed);
    for (const [name, w] of Object.entries(want)) {
      const g = got[name];
      let maxAbsDiff = 0;
      let worstRatio = 0;
      if (!g || g.length !== w.length) {
        results.push({ case: c.name, output: name, maxAbsDiff: Infinity, worstRatio: Infinity, ok: false });
        continue;
      }
      for (let i = 0; i < w.length; i++) {
        const d = Math.abs(g[i]! - w[i]!);
        maxAbsDiff = Math.max(maxAbsDiff, Number.isNaN(d) ? Infinity : d);
        worstRatio = Math.max(worstRatio, Number.isNaN(d) ? Infinity : d / (atol + rtol * Math.abs(w[i]!)));
      }
      results.push({ case: c.name, output: name, maxAbsDiff, worstRatio, ok: worstRatio <= 1 });
    }
  }
  return results;
}

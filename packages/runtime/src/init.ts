// Seeded tensor initialisers: values are drawn in JS from an Rng (not from a backend's RNG), so the same seed
// gives bit-identical initial weights on cpu, wasm, webgpu and tensorflow.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from './rng.js';

function size(shape: readonly number[]): number {
  for (const d of shape) if (!Number.isInteger(d) || d < 0) throw new Error(`initialiser: shape must be non-negative integers, got [${shape.join(', ')}]`);
  return shape.reduce((a, b) => a * b, 1);
}

/** Float32Array of N(mean, std²) samples. */
export function fillNormal(n: number, std: number, rng: Rng, mean = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal(mean, std);
  return out;
}

/** N(mean, std²) tensor (torch.nn.init.normal_). */
export function randomNormal(shape: number[], std: number, rng: Rng, mean = 0): tf.Tensor {
  return tf.tensor(fillNormal(size(shape), std, rng, mean), shape, 'float32');
}

/** U[low, high) tensor (torch.nn.init.uniform_). */
export function randomUniform(shape: number[], low: number, high: number, rng: Rng): tf.Tensor {
  const out = new Float32Array(size(shape));
  for (let i = 0; i < out.length; i++) out[i] = rng.uniform(low, high);
  return tf.tensor(out, shape, 'float32');
}

/**
 * Truncated normal like torch.nn.init.trunc_normal_(mean, std, a, b): N(mean, std²) restricted to [a, b]
 * (absolute bounds, default ±2, as in timm/open_clip), by rejection.
 */
export function truncatedNormal(shape: number[], rng: Rng, opts: { std?: number; mean?: number; a?: number; b?: number } = {}): tf.Tensor {
  const { std = 1, mean = 0, a = -2, b = 2 } = opts;
  if (!(a < b)) throw new Error(`truncatedNormal: need a < b, got a=${a}, b=${b}`);
  if (!(std > 0)) throw new Error(`truncatedNormal: std must be > 0, got ${std}`);
  // Rejection is fine while [a, b] holds a reasonable share of the mass; guard against pathological bounds.
  const out = new Float32Array(size(shape));
  for (let i = 0; i < out.length; i++) {
    let v: number;
    let tries = 0;
    do {
      v = rng.normal(mean, std);
      if (++tries > 10_000) throw new Error(`truncatedNormal: [${a}, ${b}] holds almost no mass of N(${mean}, ${std}²)`);
    } while (v < a || v > b);
    out[i] = v;
  }
  return tf.tensor(out, shape, 'float32');
}

/** Xavier/Glorot uniform for a [fanIn, fanOut] (dense) or [kh, kw, cin, cout] (conv) kernel. */
export function glorotUniform(shape: number[], rng: Rng, gain = 1): tf.Tensor {
  const receptive = shape.length > 2 ? shape.slice(0, -2).reduce((a, b) => a * b, 1) : 1;
  const fanIn = (shape.at(-2) ?? 1) * receptive;
  const fanOut = (shape.at(-1) ?? 1) * receptive;
  const limit = gain * Math.sqrt(6 / (fanIn + fanOut));
  return randomUniform(shape, -limit, limit, rng);
}

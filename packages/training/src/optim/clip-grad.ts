// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_ semantics: coef = max / (norm + 1e-6), capped at 1).
// On the wasm/cpu backends the norm is one JS pass over the gradients' storage (float64 accumulation) instead of
// three ops per gradient; the training loop hands the coefficient to AdamW (`applyGradients(g, { scale })`) rather
// than rescaling every gradient.
import { tf } from '@duet/runtime';
import { hostBackend, storageView, type Gradient } from './storage.js';

/** Returns the pre-clipping global L2 norm and the (possibly rescaled) gradients; inputs are disposed when replaced. */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { norm: number; grads: Map<string, tf.Tensor> } {
  const norm = globalNorm(grads);
  const coef = clipCoefficient(norm, maxNorm);
  if (coef === 1) return { norm, grads };
  const out = new Map<string, tf.Tensor>();
  for (const [k, g] of grads) {
    out.set(k, tf.mul(g, coef));
    g.dispose();
  }
  return { norm, grads: out };
}

/** The factor clip_grad_norm_ multiplies the gradients by: max / (norm + 1e-6) when above `maxNorm`, else 1 (also for maxNorm ≤ 0 or a non-finite norm). */
export function clipCoefficient(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0) || !Number.isFinite(norm)) return 1;
  const coef = maxNorm / (norm + 1e-6);
  return coef < 1 ? coef : 1;
}

/** √Σ g² over every gradient (tensors or values in JS). */
export function globalNorm(grads: Map<string, Gradient>): number {
  let sq = 0;
  const onDevice: tf.Tensor[] = [];
  const host = hostBackend();
  for (const g of grads.values()) {
    const view = g instanceof Float32Array ? g : host ? storageView(g) : undefined;
    if (!view) {
      onDevice.push(g as tf.Tensor);
      continue;
    }
    for (let i = 0; i < view.length; i++) sq += view[i]! * view[i]!;
  }
  if (onDevice.length) {
    sq += tf.tidy(() => {
      let s = tf.scalar(0);
      for (const g of onDevice) s = s.add(tf.sum(tf.square(g)));
      return s.dataSync()[0]!;
    });
  }
  return Math.sqrt(sq);
}

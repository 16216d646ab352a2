// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_ semantics: coef = max / (norm + 1e-6), capped at 1).
import { tf } from '@duet/runtime';

/** Returns the pre-clipping global L2 norm and the (possibly rescaled) gradients; inputs are disposed when replaced. */
export function clipByGlobalNorm(grads: Map<string, tf.Tensor>, maxNorm: number): { norm: number; grads: Map<string, tf.Tensor> } {
  const norm = globalNorm(grads);
  if (!(maxNorm > 0) || !Number.isFinite(norm)) return { norm, grads };
  const coef = maxNorm / (norm + 1e-6);
  if (coef >= 1) return { norm, grads };
  const out = new Map<string, tf.Tensor>();
  for (const [k, g] of grads) {
    out.set(k, tf.mul(g, coef));
    g.dispose();
  }
  return { norm, grads: out };
}

export function globalNorm(grads: Map<string, tf.Tensor>): number {
  return tf.tidy(() => {
    let sq = tf.scalar(0);
    for (const g of grads.values()) sq = sq.add(tf.sum(tf.square(g)));
    return Math.sqrt(sq.dataSync()[0]!);
  });
}

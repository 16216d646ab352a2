// One SigLIP block: rows of images against a block of texts, with labels from global indices.
// Shared by the chunked loss, the feature-gradient form and the ring-distributed form.
import { tf } from '@duet/runtime';
import { mm } from './matmul.js';

export interface SiglipBlockResult {
  /** Σ softplus(−z) over the block (un-normalised); 0 when not requested (the backward pass skips it). */
  lossSum: tf.Scalar;
  /** ∂(Σ softplus(−z))/∂logits = −label·σ(−z), returned when grads are requested. */
  dLogits?: tf.Tensor2D; // [b, c]
  /** img·txtᵀ (cosine part, before scale and bias), returned when grads are requested. */
  dots?: tf.Tensor2D; // [b, c]
}

/**
 * labels are +1 where rowStart + i === colStart + j, −1 elsewhere; z = label·(s·img·txtᵀ + b).
 * Stable: softplus is evaluated by the backend's thresholded kernel, σ(−z) never overflows.
 */
export function siglipBlock(
  img: tf.Tensor2D, // [b, E]
  txt: tf.Tensor2D, // [c, E]
  scale: tf.Scalar, // exp(t′)
  bias: tf.Scalar,
  rowStart: number,
  colStart: number,
  withGrad: boolean,
  withLoss = true,
): SiglipBlockResult {
  const b = img.shape[0];
  const c = txt.shape[0];
  const dots = mm(img, txt, false, true); // [b, c]
  const logits = tf.add(tf.mul(dots, scale), bias);
  const hasDiag = rowStart < colStart + c && colStart < rowStart + b;
  // signs = −label: +1 for negatives, −1 on the positive pairs. Built from a one-hot (broadcasting
  // comparisons tile on wasm and cost more than the matmul).
  const signs = hasDiag ? tf.sub(1, tf.mul(positiveMask(b, c, rowStart, colStart), 2)) : null;
  const negZ = signs ? tf.mul(logits, signs) : logits; // −z
  // Sum rows first, then the row sums: a two-level reduction keeps float32 error small at large B.
  const lossSum = (withLoss ? tf.sum(tf.sum(tf.softplus(negZ), 1)) : tf.scalar(0)) as tf.Scalar;
  if (!withGrad) return { lossSum };
  const sig = tf.sigmoid(negZ); // σ(−z)
  const dLogits = (signs ? tf.mul(signs, sig) : sig) as tf.Tensor2D; // −label·σ(−z)
  return { lossSum, dLogits, dots: dots as tf.Tensor2D };
}

/** [b, c] float mask, 1 where global row index rowStart + i equals global column index colStart + j. */
function positiveMask(b: number, c: number, rowStart: number, colStart: number): tf.Tensor2D {
  const idx = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    const j = rowStart + i - colStart;
    idx[i] = j >= 0 && j < c ? j : -1; // oneHot of −1 is an all-zero row
  }
  // depth c + 1 (oneHot needs depth ≥ 2), the spare column dropped.
  return tf.slice(tf.oneHot(tf.tensor1d(idx, 'int32'), c + 1), [0, 0], [b, c]).cast('float32') as tf.Tensor2D;
}

// One SigLIP block: rows of images against a block of texts, with labels from global indices.
// Shared by the chunked loss, the feature-gradient form and the ring-distributed form.
import { tf } from '@duet/runtime';

export interface SiglipBlockResult {
  /** Σ softplus(−z) over the block (un-normalised). */
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
): SiglipBlockResult {
  const b = img.shape[0];
  const c = txt.shape[0];
  const dots = tf.matMul(img, txt, false, true); // [b, c]
  const logits = tf.add(tf.mul(dots, scale), bias);
  const hasDiag = rowStart < colStart + c && colStart < rowStart + b;
  const labels = hasDiag
    ? tf.where(
        tf.equal(tf.range(rowStart, rowStart + b, 1, 'int32').reshape([b, 1]), tf.range(colStart, colStart + c, 1, 'int32').reshape([1, c])),
        tf.scalar(1),
        tf.scalar(-1),
      )
    : null;
  const negZ = labels ? tf.neg(tf.mul(labels, logits)) : logits; // −z
  // Sum rows first, then the row sums: a two-level reduction keeps float32 error small at large B.
  const lossSum = tf.sum(tf.sum(tf.softplus(negZ), 1)) as tf.Scalar;
  if (!withGrad) return { lossSum };
  const sig = tf.sigmoid(negZ); // σ(−z)
  const dLogits = (labels ? tf.neg(tf.mul(labels, sig)) : sig) as tf.Tensor2D; // label −1 everywhere: +σ(−z)
  return { lossSum, dLogits, dots: dots as tf.Tensor2D };
}

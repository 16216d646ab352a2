// Shared input/output shapes of the contrastive losses.
import type { tf } from '@duet/runtime';

export type LossFamily = 'clip' | 'siglip';

/** A scalar parameter given as a tensor (e.g. a tf.Variable) or a plain number. */
export type ScalarLike = tf.Tensor | number;

/** L2-normalised embeddings of matching pairs (row i of each is one pair) plus the learnable temperature/bias. */
export interface ContrastiveInputs {
  imageEmbeds: tf.Tensor; // [B, E]
  textEmbeds: tf.Tensor; // [B, E]
  /** Log of the logit scale (t′): logits are multiplied by exp(logitScale). */
  logitScale: ScalarLike;
  /** SigLIP only: additive logit bias b. */
  logitBias?: ScalarLike;
}

export interface LossOptions {
  /**
   * Compute in blocks of this many rows (SigLIP: text rows; CLIP: image rows) with a custom gradient, so peak
   * memory is O(B · chunkSize) instead of O(B²). Omit for the plain autograd form.
   */
  chunkSize?: number;
  /** Refuse (throw LossMemoryError) when the estimated peak of the O(B²) intermediates exceeds this. Default 2 GiB. */
  memoryLimitBytes?: number;
  /** Check that the inputs are finite (one small device read). Default true. */
  checkFinite?: boolean;
}

/** Loss plus its gradients w.r.t. the features and the logit parameters (what gradient caching / DDP need). */
export interface FeatureGrads {
  loss: tf.Scalar;
  gradImageEmbeds: tf.Tensor2D; // [B, E]
  gradTextEmbeds: tf.Tensor2D; // [B, E]
  gradLogitScale: tf.Scalar;
  /** SigLIP only. */
  gradLogitBias?: tf.Scalar;
}

export interface DistributedResult extends FeatureGrads {
  /**
   * This rank's share of the loss, normalised like open_clip (by this rank's local batch); the mean over ranks
   * equals `loss` when local batches are equal.
   */
  localLoss: tf.Scalar;
  /** Bytes this rank sent during the call, counted by the ProcessGroup. */
  bytesCommunicated: number;
}

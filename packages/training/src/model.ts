// What the loop needs from a dual encoder (structurally the @duet/encoders DualEncoder contract).
import type { tf } from '@duet/runtime';

export type LossFamily = 'clip' | 'siglip';

export interface TrainableDualEncoder {
  readonly lossFamily: LossFamily;
  encodeImage(pixelValues: tf.Tensor4D, opts?: { training?: boolean }): tf.Tensor2D;
  encodeText(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D, opts?: { training?: boolean }): tf.Tensor2D;
  readonly logitScale: tf.Variable;
  readonly logitBias?: tf.Variable;
  namedVariables(): Map<string, tf.Variable>;
  trainableVariables(): tf.Variable[];
}

/** One (micro-)batch as tensors: pixelValues [B, 3, H, W], inputIds/attentionMask int32 [B, L]. */
export interface TensorBatch {
  pixelValues: tf.Tensor4D;
  inputIds: tf.Tensor2D;
  /** Absent when the text tower runs without a mask (SigLIP as in HF; see textUsesAttentionMask). */
  attentionMask?: tf.Tensor2D;
}

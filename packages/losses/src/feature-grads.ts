// Loss plus gradients w.r.t. the embeddings and logit parameters, computed block-wise without autograd.
// Gradient caching / accumulation backprops gradImageEmbeds / gradTextEmbeds into the towers afterwards.
import { tf } from '@duet/runtime';
import { clipGradsChunked } from './clip-loss.js';
import { siglipGradsChunked } from './siglip-loss.js';
import { guardMemory } from './memory-guard.js';
import { checkFinite, validateChunk, validatePair } from './validate.js';
import type { ContrastiveInputs, FeatureGrads, LossFamily, LossOptions } from './types.js';

/** Default block size: B ≤ 1024 in one block; beyond, O(B·1024) memory. */
const DEFAULT_FEATURE_CHUNK = 1024;

/**
 * Same value and gradients as `clipLoss` / `siglipLoss` on the same inputs. Peak extra memory is
 * O(B·chunkSize) (default chunkSize = min(B, 1024)). The caller owns (and disposes) the returned tensors.
 */
export function lossAndFeatureGrads(family: LossFamily, inputs: ContrastiveInputs, opts: LossOptions = {}): FeatureGrads {
  const what = `lossAndFeatureGrads(${family})`;
  if (family !== 'clip' && family !== 'siglip') throw new Error(`lossAndFeatureGrads: family must be 'clip' or 'siglip', got ${String(family)}`);
  const { batch, dim } = validatePair(inputs, what, family === 'siglip');
  validateChunk(opts.chunkSize, what);
  const chunk = opts.chunkSize ?? Math.min(batch, DEFAULT_FEATURE_CHUNK);
  guardMemory(family === 'clip' ? 'clip-chunked' : 'siglip-chunked', batch, dim, chunk, opts.memoryLimitBytes, what);
  if (opts.checkFinite !== false) checkFinite(what, { ...inputs });
  const img = inputs.imageEmbeds as tf.Tensor2D;
  const txt = inputs.textEmbeds as tf.Tensor2D;
  const owned: tf.Tensor[] = [];
  const t = typeof inputs.logitScale === 'number' ? (owned.push(tf.scalar(inputs.logitScale)), owned.at(-1)!) : inputs.logitScale;
  try {
    if (family === 'clip') return clipGradsChunked(img, txt, t, chunk);
    const bias = typeof inputs.logitBias === 'number' ? (owned.push(tf.scalar(inputs.logitBias)), owned.at(-1)!) : inputs.logitBias!;
    return siglipGradsChunked(img, txt, t, bias, chunk);
  } finally {
    tf.dispose(owned);
  }
}

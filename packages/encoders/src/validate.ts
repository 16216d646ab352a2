// Input checks run before any tfjs op, so bad input fails with a message naming the input, never deep in a kernel.
import { tf } from '@duet/runtime';

const shapeStr = (s: readonly number[]) => `[${s.join(', ')}]`;

export class EncoderInputError extends Error {
  override name = 'EncoderInputError';
}

function assertTensor(x: unknown, name: string): asserts x is tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw new EncoderInputError(`${name}: expected a tf.Tensor, got ${x === null ? 'null' : typeof x}`);
  if (x.isDisposed) throw new EncoderInputError(`${name}: the tensor has been disposed`);
}

export function checkPixelValues(x: unknown, channels: number, size: number): asserts x is tf.Tensor4D {
  assertTensor(x, 'pixelValues');
  const want = `[B, ${channels}, ${size}, ${size}] (NCHW)`;
  if (x.rank !== 4 || x.shape[0] === 0 || x.shape[1] !== channels || x.shape[2] !== size || x.shape[3] !== size) {
    throw new EncoderInputError(`pixelValues: expected ${want}, got ${shapeStr(x.shape)}`);
  }
  if (x.dtype !== 'float32') throw new EncoderInputError(`pixelValues: expected dtype float32, got ${x.dtype}`);
}

export function checkInputIds(x: unknown, vocabSize: number, maxPositions: number, checkRange: boolean): asserts x is tf.Tensor2D {
  assertTensor(x, 'inputIds');
  if (x.rank !== 2 || x.shape[0] === 0 || x.shape[1] === 0) throw new EncoderInputError(`inputIds: expected [B, L] with B, L >= 1, got ${shapeStr(x.shape)}`);
  if (x.dtype !== 'int32') throw new EncoderInputError(`inputIds: expected dtype int32, got ${x.dtype}`);
  if (x.shape[1]! > maxPositions) throw new EncoderInputError(`inputIds: sequence length ${x.shape[1]} exceeds max_position_embeddings ${maxPositions}`);
  if (checkRange) {
    // One small read-back: tfjs gathers silently clamp or fail obscurely on out-of-range ids.
    const [lo, hi] = tf.tidy(() => tf.stack([tf.min(x), tf.max(x)])).dataSync() as Int32Array;
    if (lo! < 0 || hi! >= vocabSize) throw new EncoderInputError(`inputIds: ids must lie in [0, ${vocabSize - 1}] (vocab_size ${vocabSize}), got values in [${lo}, ${hi}]`);
  }
}

export function checkAttentionMask(x: unknown, ids: tf.Tensor): asserts x is tf.Tensor2D | undefined {
  if (x === undefined || x === null) return;
  assertTensor(x, 'attentionMask');
  if (x.rank !== 2 || x.shape[0] !== ids.shape[0] || x.shape[1] !== ids.shape[1]) {
    throw new EncoderInputError(`attentionMask: expected the shape of inputIds ${shapeStr(ids.shape)}, got ${shapeStr(x.shape)}`);
  }
  if (x.dtype !== 'int32' && x.dtype !== 'float32' && x.dtype !== 'bool') throw new EncoderInputError(`attentionMask: expected dtype int32, float32 or bool, got ${x.dtype}`);
}

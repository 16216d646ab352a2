// Fixture-backed inputs as float32 tensors, and a runner that returns loss + gradients of an autograd loss.
import { tf } from '@duet/runtime';
import { ref, refScalar } from './fixture.js';
import type { ContrastiveInputs } from '../src/index.js';

export function fixtureInputs(n: number, d: number, family: 'clip' | 'siglip', rows?: [number, number]): ContrastiveInputs & { logitScale: tf.Scalar } {
  const [r0, r1] = rows ?? [0, n];
  const take = (key: string) => tf.tensor2d(Float32Array.from(ref(n, d, key).data.subarray(r0 * d, r1 * d)), [r1 - r0, d]);
  return {
    imageEmbeds: take('img'),
    textEmbeds: take('txt'),
    logitScale: tf.scalar(refScalar(n, d, family === 'clip' ? 'clip_logit_scale' : 'siglip_t_prime')),
    logitBias: family === 'siglip' ? tf.scalar(refScalar(n, d, 'siglip_bias')) : undefined,
  };
}

export interface Computed {
  loss: number;
  gradImg: Float32Array;
  gradTxt: Float32Array;
  gradScale: number;
  gradBias?: number;
}

/** Loss and autograd gradients w.r.t. every input of `lossFn`. */
export function autograd(inputs: ContrastiveInputs, lossFn: (x: ContrastiveInputs) => tf.Scalar): Computed {
  const withBias = inputs.logitBias !== undefined;
  const xs = [inputs.imageEmbeds, inputs.textEmbeds, inputs.logitScale as tf.Tensor, ...(withBias ? [inputs.logitBias as tf.Tensor] : [])];
  return tf.tidy(() => {
    const { value, grads } = tf.valueAndGrads((...a: tf.Tensor[]) =>
      lossFn({ imageEmbeds: a[0]!, textEmbeds: a[1]!, logitScale: a[2]!, logitBias: withBias ? a[3] : undefined }),
    )(xs);
    return {
      loss: value.dataSync()[0]!,
      gradImg: grads[0]!.dataSync() as Float32Array,
      gradTxt: grads[1]!.dataSync() as Float32Array,
      gradScale: grads[2]!.dataSync()[0]!,
      gradBias: withBias ? grads[3]!.dataSync()[0]! : undefined,
    } as unknown as tf.TensorContainer;
  }) as unknown as Computed;
}

// Worker module for the loss tests: each rank computes the distributed loss on its rows of the HF fixture batch.
import { initBackend, tf } from '@duet/runtime';
import { distributedClipLoss, distributedSiglipLoss } from '@duet/losses';
import type { ThreadContext } from '../../src/index.js';
import { ref, rowRange } from '../fixture.js';

export interface LossArgs {
  family: 'clip' | 'siglip';
  n: number;
  d: number;
  bidirectional?: boolean;
}

export async function main({ group, rank, worldSize, args }: ThreadContext<LossArgs>) {
  try {
    await initBackend({ backend: 'wasm' });
  } catch (e) {
    if (!(await tf.setBackend('wasm'))) throw e;
    await tf.ready();
  }
  const { family, n, d } = args;
  const [r0, r1] = rowRange(n, worldSize, rank);
  const take = (key: string) => tf.tensor2d(Float32Array.from(ref(n, d, key).subarray(r0 * d, r1 * d)), [r1 - r0, d]);
  const local = {
    imageEmbeds: take('img'),
    textEmbeds: take('txt'),
    logitScale: tf.scalar(ref(n, d, family === 'clip' ? 'clip_logit_scale' : 'siglip_t_prime')[0]!),
    logitBias: family === 'siglip' ? tf.scalar(ref(n, d, 'siglip_bias')[0]!) : undefined,
  };
  const res = family === 'clip' ? await distributedClipLoss(local, group) : await distributedSiglipLoss(local, group, { bidirectional: args.bidirectional });
  return {
    loss: (await res.loss.data())[0]!,
    gradImg: (await res.gradImageEmbeds.data()) as Float32Array,
    gradTxt: (await res.gradTextEmbeds.data()) as Float32Array,
    gradScale: (await res.gradLogitScale.data())[0]!,
    gradBias: res.gradLogitBias ? (await res.gradLogitBias.data())[0]! : undefined,
    bytes: res.bytesCommunicated,
  };
}

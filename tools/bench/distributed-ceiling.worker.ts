// Worker module of distributed-training.bench.ts's no-sync ceiling: every rank runs forward + backward of its
// share of the batch on the recipe's model, with NO communication (one barrier at the start so the ranks run
// concurrently). W ranks × (batch / W) vs 1 rank × batch is the most data parallelism can give on this machine
// for this workload: what is left after the cores' shared caches / memory bandwidth and the per-step fixed cost
// (kernel launches) that every rank pays in full.
import { initBackend, installLowAllocKernels, tf } from '@duet/runtime';
import { createDualEncoder } from '@duet/encoders';
import { parseModelConfig } from '@duet/model-format';
import { computeGradients, getRecipe, presetModelConfig, resolveConfig } from '@duet/training';
import type { ThreadContext } from '@duet/distributed';

export interface CeilingArgs { recipe: string; batch: number; steps: number; warm: number }

/** Mean ms per step (forward + backward + gradients read back, as the trainer does) after `warm` steps. */
export async function main({ group, args }: ThreadContext<CeilingArgs>): Promise<number> {
  await initBackend({ backend: 'wasm' });
  installLowAllocKernels(); // as the trainer
  const mc = parseModelConfig(presetModelConfig(resolveConfig(getRecipe(args.recipe), {})));
  const model = createDualEncoder(mc, { seed: 0 });
  const s = mc.vision_config.image_size;
  const l = mc.text_config.max_position_embeddings;
  const b = args.batch;
  const batch = {
    pixelValues: tf.randomNormal([b, mc.vision_config.num_channels ?? 3, s, s], 0, 1, 'float32', 1) as tf.Tensor4D,
    inputIds: tf.randomUniform([b, l], 0, mc.text_config.vocab_size, 'int32', 2) as tf.Tensor2D,
    attentionMask: tf.ones([b, l], 'int32') as tf.Tensor2D,
  };
  await group.barrier();
  let t0 = 0;
  for (let i = 0; i < args.warm + args.steps; i++) {
    if (i === args.warm) t0 = performance.now();
    const r = computeGradients(model, [batch]);
    for (const g of r.grads.values()) g.dataSync();
    tf.dispose([...r.grads.values()]);
  }
  return (performance.now() - t0) / args.steps;
}

// Worker module of distributed.bench.ts (run by launchThreads on every rank).
import { initBackend, tf } from '@duet/runtime';
import { distributedClipLoss, distributedSiglipLoss } from '@duet/losses';
import type { ThreadContext } from '@duet/distributed';

export type BenchArgs =
  | { kind: 'collective'; op: 'allReduce' | 'allGather' | 'sendRecv'; floats: number; reps: number }
  | { kind: 'loss'; family: 'clip' | 'siglip'; localBatch: number; dim: number; reps: number };

function embeds(b: number, d: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const x = tf.randomNormal([b, d], 0, 1, 'float32', seed);
    return tf.div(x, tf.norm(x, 2, 1, true)) as tf.Tensor2D;
  });
}

/** Returns the median ms per repetition and the bytes this rank sent per repetition. */
export async function main({ group, rank, worldSize, args }: ThreadContext<BenchArgs>): Promise<{ ms: number; bytes: number }> {
  const times: number[] = [];
  let bytes = 0;
  if (args.kind === 'collective') {
    const x = new Float32Array(args.floats).fill(rank + 1);
    for (let i = 0; i <= args.reps; i++) {
      await group.barrier();
      const b0 = group.bytesSent;
      const t0 = performance.now();
      if (args.op === 'allReduce') await group.allReduce(x, 'sum');
      else if (args.op === 'allGather') await group.allGather(x);
      else await group.sendRecv(x, (rank + 1) % worldSize, (rank - 1 + worldSize) % worldSize);
      if (i > 0) times.push(performance.now() - t0); // first repetition is warm-up
      bytes = group.bytesSent - b0;
    }
  } else {
    try {
      await initBackend({ backend: 'wasm' });
    } catch {
      await tf.setBackend('wasm');
    }
    const img = embeds(args.localBatch, args.dim, 1 + rank);
    const txt = embeds(args.localBatch, args.dim, 1001 + rank);
    const local = { imageEmbeds: img, textEmbeds: txt, logitScale: tf.scalar(Math.log(10)), logitBias: args.family === 'siglip' ? tf.scalar(-10) : undefined };
    for (let i = 0; i <= args.reps; i++) {
      await group.barrier();
      const t0 = performance.now();
      const res = args.family === 'clip' ? await distributedClipLoss(local, group, { checkFinite: false }) : await distributedSiglipLoss(local, group, { checkFinite: false });
      await res.gradImageEmbeds.data();
      await res.gradTextEmbeds.data();
      if (i > 0) times.push(performance.now() - t0);
      bytes = res.bytesCommunicated;
      tf.dispose([res.loss, res.localLoss, res.gradImageEmbeds, res.gradTextEmbeds, res.gradLogitScale, res.gradLogitBias ?? []]);
    }
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, bytes };
}

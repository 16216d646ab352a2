// Worker module of mpi-netns.bench.ts, run on every MPI rank (inside a network namespace) by runMpi: times
// distributed loss steps and reads the bytes its namespace's veth end sent meanwhile.
import { readdirSync, readFileSync } from 'node:fs';
import { initBackend, tf } from '@duet/runtime';
import { distributedClipLoss, distributedSiglipLoss } from '@duet/losses';
import type { ThreadContext } from '@duet/distributed';

export interface NetnsBenchArgs {
  families: ('clip' | 'siglip')[];
  localBatch: number;
  dim: number;
  steps: number;
}

export interface NetnsBenchOut {
  family: 'clip' | 'siglip';
  msPerStep: number;
  bytesSentPerStep: number;
  iface: string;
  ifaceTxBytes: number;
}

function embeds(b: number, d: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const x = tf.randomNormal([b, d], 0, 1, 'float32', seed);
    return tf.div(x, tf.norm(x, 2, 1, true)) as tf.Tensor2D;
  });
}

function txBytes(): { iface: string; bytes: number } {
  const iface = readdirSync('/sys/class/net').find((n) => n !== 'lo') ?? 'lo';
  return { iface, bytes: Number(readFileSync(`/sys/class/net/${iface}/statistics/tx_bytes`, 'utf8')) };
}

export async function main({ group, rank, args }: ThreadContext<NetnsBenchArgs>): Promise<NetnsBenchOut[]> {
  try {
    await initBackend({ backend: 'wasm' });
  } catch {
    await tf.setBackend('wasm');
  }
  const out: NetnsBenchOut[] = [];
  for (const family of args.families) {
    const local = {
      imageEmbeds: embeds(args.localBatch, args.dim, 1 + rank),
      textEmbeds: embeds(args.localBatch, args.dim, 1001 + rank),
      logitScale: tf.scalar(Math.log(10)),
      logitBias: family === 'siglip' ? tf.scalar(-10) : undefined,
    };
    const step = async () => {
      const res = family === 'clip' ? await distributedClipLoss(local, group, { checkFinite: false }) : await distributedSiglipLoss(local, group, { checkFinite: false });
      await res.gradImageEmbeds.data();
      await res.gradTextEmbeds.data();
      tf.dispose([res.loss, res.localLoss, res.gradImageEmbeds, res.gradTextEmbeds, res.gradLogitScale, res.gradLogitBias ?? []]);
    };
    await step(); // warm-up (kernels, connections)
    await group.barrier();
    const tx0 = txBytes();
    const b0 = group.bytesSent;
    const t0 = performance.now();
    for (let i = 0; i < args.steps; i++) await step();
    await group.barrier();
    const ms = performance.now() - t0;
    const tx1 = txBytes();
    out.push({ family, msPerStep: ms / args.steps, bytesSentPerStep: (group.bytesSent - b0) / args.steps, iface: tx1.iface, ifaceTxBytes: tx1.bytes - tx0.bytes });
    tf.dispose([local.imageEmbeds, local.textEmbeds, local.logitScale, local.logitBias ?? []]);
  }
  return out;
}

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
  /** Overlap probe: an all-reduce of this many floats alone, matmuls alone, then both at once. */
  overlap?: { floats: number; matmuls: number; size: number };
}

export interface OverlapOut {
  commMs: number;
  computeMs: number;
  bothMs: number;
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

/** Blocks the JS thread with `n` chained [size, size] matmuls (wasm runs on this thread). */
function compute(n: number, size: number): void {
  tf.tidy(() => {
    let a = tf.randomNormal([size, size], 0, 1 / Math.sqrt(size), 'float32', 7);
    for (let i = 0; i < n; i++) a = tf.matMul(a, a);
    a.dataSync();
  });
}

async function overlap(group: ThreadContext['group'], o: NonNullable<NetnsBenchArgs['overlap']>): Promise<OverlapOut> {
  const x = new Float32Array(o.floats).fill(1);
  const time = async (fn: () => Promise<unknown>) => {
    await group.barrier();
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  compute(1, o.size); // warm-up
  await group.allReduce(x.subarray(0, 1024));
  const commMs = await time(() => group.allReduce(x));
  const computeMs = await time(async () => compute(o.matmuls, o.size));
  // The all-reduce runs on the binding's thread while the JS thread computes.
  const bothMs = await time(async () => {
    const pending = group.allReduce(x);
    compute(o.matmuls, o.size);
    await pending;
  });
  return { commMs, computeMs, bothMs };
}

export async function main({ group, rank, args }: ThreadContext<NetnsBenchArgs>): Promise<NetnsBenchOut[] | OverlapOut> {
  try {
    await initBackend({ backend: 'wasm' });
  } catch {
    await tf.setBackend('wasm');
  }
  if (args.overlap) return overlap(group, args.overlap);
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
    const times: number[] = [];
    for (let i = 0; i < args.steps; i++) {
      const t0 = performance.now();
      await step();
      times.push(performance.now() - t0);
    }
    await group.barrier();
    const tx1 = txBytes();
    // Median: the machine is shared, single slow steps are other people's work.
    const ms = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
    out.push({ family, msPerStep: ms, bytesSentPerStep: (group.bytesSent - b0) / args.steps, iface: tx1.iface, ifaceTxBytes: tx1.bytes - tx0.bytes });
    tf.dispose([local.imageEmbeds, local.textEmbeds, local.logitScale, local.logitBias ?? []]);
  }
  return out;
}

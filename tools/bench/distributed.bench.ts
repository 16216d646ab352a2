// Threads process group: collective bandwidth over SharedArrayBuffer pipes, and one distributed loss step
// (forward + backward w.r.t. embeds) for CLIP all-gather vs SigLIP ring, with bytes next to the cost model.
// `npm run bench distributed`   Env: DUET_BENCH_WORLD (default 2), DUET_BENCH_DIM (default 512),
// DUET_BENCH_BATCHES (local batches, default 128,512), DUET_BENCH_REPS (default 5).
import { launchThreads } from '@duet/distributed';
import { clipCommBytes, siglipCommBytes } from '@duet/losses';
import { printTable, writeResult, type Row } from './report.ts';
import type { BenchArgs } from './distributed.worker.ts';

const WORKER = new URL('./distributed.worker.ts', import.meta.url);
const w = Number(process.env['DUET_BENCH_WORLD'] ?? 2);
const dim = Number(process.env['DUET_BENCH_DIM'] ?? 512);
const batches = (process.env['DUET_BENCH_BATCHES'] ?? '128,512').split(',').map(Number);
const reps = Number(process.env['DUET_BENCH_REPS'] ?? 5);

async function run(args: BenchArgs, world = w): Promise<{ ms: number; bytes: number }> {
  const res = await launchThreads<{ ms: number; bytes: number }>(WORKER, world, args);
  return { ms: Math.max(...res.map((r) => r.ms)), bytes: res[0]!.bytes }; // a collective is as slow as its slowest rank
}

const collectives: Row[] = [];
for (const op of ['sendRecv', 'allGather', 'allReduce'] as const) {
  for (const floats of [1 << 10, 1 << 16, 1 << 20, 1 << 22]) {
    const { ms, bytes } = await run({ kind: 'collective', op, floats, reps });
    collectives.push({ op, worldSize: w, MiB: +((floats * 4) / 2 ** 20).toFixed(3), ms: +ms.toFixed(3), bytesSentPerRank: bytes, 'GB/s per rank': +(bytes / (ms / 1000) / 1e9).toFixed(3) });
    process.stdout.write('.');
  }
}
printTable(`threads group collectives, worldSize ${w} (median of ${reps}, slowest rank)`, collectives);

const losses: Row[] = [];
for (const b of batches) {
  for (const family of ['clip', 'siglip'] as const) {
    const single = await run({ kind: 'loss', family, localBatch: b * w, dim, reps }, 1);
    const dist = await run({ kind: 'loss', family, localBatch: b, dim, reps });
    const predicted = (family === 'clip' ? clipCommBytes : siglipCommBytes)({ worldSize: w, localBatch: b, dim });
    losses.push({
      loss: family === 'clip' ? 'CLIP all-gather' : 'SigLIP ring',
      globalBatch: b * w,
      dim,
      '1 thread ms': +single.ms.toFixed(1),
      [`${w} threads ms`]: +dist.ms.toFixed(1),
      speedup: +(single.ms / dist.ms).toFixed(2),
      bytesSentPerRank: dist.bytes,
      costModelBytes: predicted,
    });
    process.stdout.write('.');
  }
}
printTable(`distributed loss step (fwd+bwd w.r.t. embeds, wasm), worldSize ${w} vs 1 thread with the same global batch`, losses);
writeResult('distributed', { worldSize: w, dim, reps, collectives, losses });

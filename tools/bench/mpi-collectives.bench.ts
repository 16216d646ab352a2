// Collectives and one distributed loss step on one machine: the mpi group (mpirun, shared memory) next to the
// threads group (SharedArrayBuffer pipes), same cases as distributed.bench.ts (median of reps, slowest rank).
// `npm run bench mpi-collectives`  Env: DUET_BENCH_WORLD (2), DUET_BENCH_REPS (5), DUET_BENCH_DIM (512),
// DUET_BENCH_BATCHES (local batches, 128,512).
import { launchThreads } from '@duet/distributed';
import { requireMpi, runMpi } from '@duet/distributed/testing';
import { clipCommBytes, siglipCommBytes } from '@duet/losses';
import { printTable, writeResult, type Row } from './report.ts';
import type { BenchArgs } from './distributed.worker.ts';

const w = Number(process.env['DUET_BENCH_WORLD'] ?? 2);
const reps = Number(process.env['DUET_BENCH_REPS'] ?? 5);
const dim = Number(process.env['DUET_BENCH_DIM'] ?? 512);
const batches = (process.env['DUET_BENCH_BATCHES'] ?? '128,512').split(',').map(Number);

requireMpi();
const cases: BenchArgs[] = [];
for (const op of ['sendRecv', 'allGather', 'allReduce'] as const) for (const floats of [1 << 10, 1 << 16, 1 << 20, 1 << 22]) cases.push({ kind: 'collective', op, floats, reps });
for (const b of batches) for (const family of ['clip', 'siglip'] as const) cases.push({ kind: 'loss', family, localBatch: b, dim, reps });

type Out = { ms: number; bytes: number };
const slowest = (perRank: Out[][], k: number) => Math.max(...perRank.map((r) => r[k]!.ms));
const mpi = await runMpi<Out[]>(w, new URL('./mpi-collectives.worker.ts', import.meta.url), cases, { timeoutMs: 600_000 });
if (mpi.code !== 0 || mpi.results.length !== w) throw new Error(`mpirun -n ${w} failed (exit ${mpi.code}):\n${mpi.stderr}`);
const threads: Out[][] = [];
for (let r = 0; r < w; r++) threads.push([]);
for (const c of cases) (await launchThreads<Out>(new URL('./distributed.worker.ts', import.meta.url), w, c)).forEach((o, r) => threads[r]!.push(o));

const rows: Row[] = cases.map((c, k) => {
  const m = slowest(mpi.results, k);
  const t = slowest(threads, k);
  const bytes = mpi.results[0]![k]!.bytes;
  const what = c.kind === 'collective' ? { case: c.op, MiB: +((c.floats * 4) / 2 ** 20).toFixed(3) } : { case: c.family === 'clip' ? 'CLIP loss step' : 'SigLIP loss step', MiB: +((c.localBatch * dim * 4) / 2 ** 20).toFixed(3) };
  const model = c.kind === 'loss' ? (c.family === 'clip' ? clipCommBytes : siglipCommBytes)({ worldSize: w, localBatch: c.localBatch, dim }) : null;
  return { ...what, 'mpi ms': +m.toFixed(3), 'threads ms': +t.toFixed(3), 'mpi GB/s per rank': c.kind === 'collective' ? +(bytes / (m / 1000) / 1e9).toFixed(3) : null, bytesSentPerRank: bytes, costModelBytes: model };
});
printTable(`mpi group (mpirun -n ${w}, shared memory) vs threads group, median of ${reps}, slowest rank (MiB: per-rank buffer; loss rows: local embeds)`, rows);
writeResult('mpi-collectives', { worldSize: w, reps, dim, rows });

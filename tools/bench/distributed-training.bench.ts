// Data-parallel training throughput: samples/s of `duet train` on Fashion-MNIST (the tiny-siglip / tiny-clip
// recipes, wasm) with 1 process vs N worker threads (DDP over the threads group), steady state after warm-up,
// plus the communication per step and rank (loss exchange: CLIP all-gather vs SigLIP ring; gradient all-reduce)
// next to the closed-form cost model. Note the machine's load (printed): other processes skew the speedup.
// Each configuration runs DUET_BENCH_REPS times, interleaved, and the best run counts (background load only slows).
// `npm run bench distributed-training`   Env: DUET_BENCH_WORKERS (default 1,2), DUET_BENCH_STEPS (default 30),
// DUET_BENCH_REPS (default 3), DUET_BENCH_BATCH (default: the recipe's 64),
// DUET_BENCH_RECIPES (default fashion-mnist-siglip,fashion-mnist-clip), DUET_BENCH_PROFILE (default 1: the
// per-phase breakdown of a steady-state step per rank, from the trainer's DUET_PROFILE; 0 = off),
// DUET_BENCH_CEILING (default 1: also the no-sync ceiling — W threads each running forward + backward of batch/W
// with no communication vs one thread with the whole batch, interleaved, best of DUET_BENCH_REPS; 0 = off).
import { loadavg, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { DEFAULT_BUCKET_BYTES, getRecipe, meanPhases, planBuckets, PROFILE_PHASES, rankHeapLimits, readMetrics, resolveConfig, train, type ProfileFile } from '@duet/training';
import { readSafetensors } from '@duet/model-format';
import { clipCommBytes, siglipCommBytes } from '@duet/losses';
import { launchThreads } from '@duet/distributed';
import { printTable, writeResult, type Row } from './report.ts';
import type { CeilingArgs } from './distributed-ceiling.worker.ts';

const workers = (process.env['DUET_BENCH_WORKERS'] ?? '1,2').split(',').map(Number);
const steps = Number(process.env['DUET_BENCH_STEPS'] ?? 30);
const reps = Number(process.env['DUET_BENCH_REPS'] ?? 3);
const batchOverride = process.env['DUET_BENCH_BATCH'] ? { batchSize: Number(process.env['DUET_BENCH_BATCH']) } : {};
const recipes = (process.env['DUET_BENCH_RECIPES'] ?? 'fashion-mnist-siglip,fashion-mnist-clip').split(',');
const WARM = 8; // steps excluded from the steady-state rate (worker start, wasm warm-up, first allocations)
const profile = process.env['DUET_BENCH_PROFILE'] !== '0';
const ceiling = process.env['DUET_BENCH_CEILING'] !== '0';
const CEILING_WORKER = new URL('./distributed-ceiling.worker.ts', import.meta.url);
if (profile) process.env['DUET_PROFILE'] = '1'; // read by the trainer at the start of each run (worker threads inherit it)
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** Ring all-reduce bytes one rank sends for `n` floats (chunks of ⌈n/W⌉), as the threads group counts them. */
const ringAllReduceBytes = (n: number, w: number) => (w > 1 ? 2 * (w - 1) * Math.ceil(n / w) * 4 : 0);

/** Predicted gradient all-reduce bytes: the tower parameters of the saved model, in 25 MiB buckets, plus the votes. */
function gradModelBytes(modelDir: string, w: number): number {
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(modelDir, 'model.safetensors'))));
  const sizes = [...tensors].filter(([n]) => n !== 'logit_scale' && n !== 'logit_bias').map(([, t]) => t.shape.reduce((a, b) => a * b, 1));
  // + the step's 2 vote floats (next batch everywhere? stop?), carried at the end of the last bucket
  const plan = planBuckets(sizes, DEFAULT_BUCKET_BYTES);
  return plan.reduce((s, idx, b) => s + ringAllReduceBytes(idx.reduce((a, i) => a + sizes[i]!, 0) + (b === plan.length - 1 ? 2 : 0), w), 0);
}

const rows: Row[] = [];
const loadBefore = load();

interface Run { phases?: { wall: Record<string, number>[]; cpu: Record<string, number>[]; gc: number[] }; cpuPerStep: number; rate: number; cpuMs: number; lossBytes: number; gradBytes: number; lossMs: number; gradMs: number; lastLoss: number; load: string; modelDir: string; batch: number }

async function once(recipe: string, w: number): Promise<Run> {
  const out = mkdtempSync(join(tmpdir(), 'duet-bench-ddp-'));
  const config = resolveConfig(getRecipe(recipe), { steps, warmup: 5, evalData: 'none', workers: w, out, saveEvery: 0, ...batchOverride });
  const loadStart = load();
  // Progress arrives on this thread in both modes (threads: relayed from rank 0): wall and process CPU time
  // (all threads) per sample in steady state. CPU per sample is robust to other load; samples/s is not.
  const marks: { step: number; samples: number; wall: number; cpu: number }[] = [];
  const mark = (step: number, samples: number) => {
    const u = process.cpuUsage();
    marks.push({ step, samples, wall: performance.now() / 1000, cpu: (u.user + u.system) / 1e6 });
  };
  const r = await train(config, { onLog: () => undefined, onProgress: (p) => mark(p.step, p.samplesSeen) });
  const a = marks.find((x) => x.step >= WARM)!, b = marks.at(-1)!;
  const steady = readMetrics(join(out, 'metrics.jsonl')).filter((x) => typeof x['loss'] === 'number').slice(WARM);
  const mean = (k: string) => steady.reduce((s, x) => s + ((x[k] as number) ?? 0), 0) / steady.length;
  process.stdout.write('.');
  const profFile = join(out, 'profile.json');
  const prof = existsSync(profFile) ? (JSON.parse(readFileSync(profFile, 'utf8')) as ProfileFile) : undefined;
  return {
    ...(prof ? { phases: {
      wall: prof.ranks.map((st) => meanPhases(st.flat(), WARM)), cpu: prof.cpu.map((st) => meanPhases(st.flat(), WARM)),
      gc: prof.gc.map((g) => g.slice(WARM).reduce((x, y) => x + y, 0) / Math.max(1, g.length - WARM)),
    } } : {}),
    cpuPerStep: (1000 * (b.cpu - a.cpu)) / Math.max(1, b.step - a.step),
    rate: (b.samples - a.samples) / (b.wall - a.wall), cpuMs: (1000 * (b.cpu - a.cpu)) / (b.samples - a.samples),
    lossBytes: w > 1 ? mean('loss_comm_bytes') : 0, gradBytes: w > 1 ? mean('grad_comm_bytes') : 0,
    lossMs: w > 1 ? mean('loss_comm_ms') : 0, gradMs: w > 1 ? mean('grad_comm_ms') : 0, lastLoss: r.lastLoss, load: loadStart, modelDir: r.modelDir,
    batch: config.batchSize,
  };
}

const profRows: Row[] = [];
const ceilRows: Row[] = [];
const achieved = new Map<string, number>(); // recipe → DDP speed-up at the largest worker count
for (const recipe of recipes) {
  const runs = new Map<number, Run[]>(workers.map((w) => [w, []]));
  for (let k = 0; k < reps; k++) for (const w of workers) runs.get(w)!.push(await once(recipe, w));
  const family = recipe.includes('clip') ? 'clip' : 'siglip';
  const dim = 64; // projection width of the recipes (modelOverrides: 64)
  let base = 0;
  for (const w of workers) {
    const all = runs.get(w)!;
    const best = all.reduce((x, y) => (y.rate > x.rate ? y : x));
    if (w === workers[0]) base = best.rate;
    achieved.set(recipe, best.rate / base);
    const lossModel = w > 1 ? (family === 'clip' ? clipCommBytes : siglipCommBytes)({ worldSize: w, localBatch: best.batch / w, dim }) : 0;
    rows.push({
      recipe, workers: w, batch: best.batch, 'samples/s (best)': +best.rate.toFixed(1), speedup: +(best.rate / base).toFixed(2),
      'samples/s (all runs)': all.map((x) => x.rate.toFixed(0)).join(' '),
      'CPU ms/sample (min)': +Math.min(...all.map((x) => x.cpuMs)).toFixed(2),
      'loss comm B/step': best.lossBytes, 'cost model B': lossModel,
      'grad all-reduce B/step': best.gradBytes, 'all-reduce model B': gradModelBytes(best.modelDir, w),
      'loss comm ms': +best.lossMs.toFixed(2), 'all-reduce ms': +best.gradMs.toFixed(2),
      'last loss': +best.lastLoss.toFixed(4), 'load at start': best.load,
    });
    // Per-phase ms of a steady-state step, mean over the run's steps after warm-up, for each rank of the best run.
    // Wall ms, and CPU ms of the rank's own thread (robust to other load; wall − CPU = waiting for a core or a peer).
    for (const kind of ['wall', 'cpu'] as const) {
      best.phases?.[kind].forEach((ph, r) => {
        const total = PROFILE_PHASES.reduce((a, k) => a + ph[k]!, 0);
        const rankCpu = best.phases!.cpu.reduce((a, p) => a + PROFILE_PHASES.reduce((x, k) => x + p[k]!, 0), 0);
        profRows.push({
          recipe, workers: w, rank: r, time: kind, ...Object.fromEntries(PROFILE_PHASES.map((k) => [k, +ph[k]!.toFixed(1)])),
          'step ms': +total.toFixed(1), 'GC pause ms': +best.phases!.gc[r]!.toFixed(1),
          ...(kind === 'wall' ? { 'samples/s': +(best.batch / (total / 1000)).toFixed(0) } : {
            'CPU ms/sample': +(total / (best.batch / w)).toFixed(2),
            // process CPU not on a rank thread: V8's GC/compiler helpers, the loader's decode worker, the main thread
            ...(r === 0 ? { 'other threads CPU ms/step': +(best.cpuPerStep - rankCpu).toFixed(1) } : {}),
          }),
        });
      });
    }
  }
}
// No-sync ceiling: the same model and batch, threads that never communicate (heap limits as the trainer's ranks).
if (ceiling) {
  for (const recipe of recipes) {
    const batch = resolveConfig(getRecipe(recipe), batchOverride).batchSize;
    const ms = new Map<number, number[]>(workers.map((w) => [w, []]));
    for (let k = 0; k < reps; k++) {
      for (const w of workers) {
        const args: CeilingArgs = { recipe, batch: batch / w, steps: 20, warm: 5 };
        const res = await launchThreads<number>(CEILING_WORKER, w, args, rankHeapLimits());
        ms.get(w)!.push(Math.max(...res)); // the slowest rank sets the pace
        process.stdout.write('.');
      }
    }
    const rate = (w: number) => batch / (Math.min(...ms.get(w)!) / 1000);
    for (const w of workers) {
      const speedup = rate(w) / rate(workers[0]!);
      ceilRows.push({
        recipe, threads: w, 'batch per thread': batch / w, 'ms/step (best)': +Math.min(...ms.get(w)!).toFixed(1),
        'ms/step (all runs)': ms.get(w)!.map((x) => x.toFixed(0)).join(' '), 'samples/s': +rate(w).toFixed(1),
        'ceiling speed-up': +speedup.toFixed(2), 'DDP speed-up (above)': w === workers.at(-1) ? +achieved.get(recipe)!.toFixed(2) : '',
        'DDP / ceiling': w === workers.at(-1) && w > 1 ? `${((achieved.get(recipe)! / speedup) * 100).toFixed(0)}%` : '',
      });
    }
  }
}
printTable(`duet train throughput, ${steps} steps (steady state from step ${WARM}), best of ${reps}, ${cpus().length} cores; load before ${loadBefore}, after ${load()}`, rows);
if (profRows.length) {
  printTable('per-phase ms per steady-state step (DUET_PROFILE; mean after warm-up, best run; wall, and CPU of the rank thread; 1 worker: forward = forward + loss + backward in one call; CPU ms/sample per local sample)', profRows);
}
if (ceilRows.length) {
  printTable('no-sync ceiling: forward + backward of batch / W on W threads that never communicate (best of reps; the rest of the gap to the DDP rows is the loss exchange, the all-reduce, waiting for the slower rank, data and optimizer)', ceilRows);
}
writeResult(`distributed-training${process.env['DUET_BENCH_BATCH'] ? `-b${process.env['DUET_BENCH_BATCH']}` : ''}`, { steps, warm: WARM, reps, loadBefore, loadAfter: load(), rows, phases: profRows, ceiling: ceilRows });

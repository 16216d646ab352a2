// Data-parallel training throughput: samples/s of `duet train` on Fashion-MNIST (the tiny-siglip / tiny-clip
// recipes, wasm) with 1 process vs N worker threads (DDP over the threads group), steady state after warm-up,
// plus the communication per step and rank (loss exchange: CLIP all-gather vs SigLIP ring; gradient all-reduce)
// next to the closed-form cost model. Note the machine's load (printed): other processes skew the speedup.
// `npm run bench distributed-training`   Env: DUET_BENCH_WORKERS (default 1,2), DUET_BENCH_STEPS (default 40),
// DUET_BENCH_RECIPES (default fashion-mnist-siglip,fashion-mnist-clip).
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_BUCKET_BYTES, getRecipe, planBuckets, readMetrics, resolveConfig, train } from '@duet/training';
import { readSafetensors } from '@duet/model-format';
import { clipCommBytes, siglipCommBytes } from '@duet/losses';
import { printTable, writeResult, type Row } from './report.ts';

const workers = (process.env['DUET_BENCH_WORKERS'] ?? '1,2').split(',').map(Number);
const steps = Number(process.env['DUET_BENCH_STEPS'] ?? 40);
const recipes = (process.env['DUET_BENCH_RECIPES'] ?? 'fashion-mnist-siglip,fashion-mnist-clip').split(',');
const WARM = 8; // steps excluded from the steady-state rate (worker start, wasm warm-up, first allocations)
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** Ring all-reduce bytes one rank sends for `n` floats (chunks of ⌈n/W⌉), as the threads group counts them. */
const ringAllReduceBytes = (n: number, w: number) => (w > 1 ? 2 * (w - 1) * Math.ceil(n / w) * 4 : 0);

/** Predicted gradient all-reduce bytes: the tower parameters of the saved model, in 25 MiB buckets. */
function gradModelBytes(modelDir: string, w: number): number {
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(modelDir, 'model.safetensors'))));
  const sizes = [...tensors].filter(([n]) => n !== 'logit_scale' && n !== 'logit_bias').map(([, t]) => t.shape.reduce((a, b) => a * b, 1));
  return planBuckets(sizes, DEFAULT_BUCKET_BYTES).reduce((s, idx) => s + ringAllReduceBytes(idx.reduce((a, i) => a + sizes[i]!, 0), w), 0);
}

const rows: Row[] = [];
const loadBefore = load();
for (const recipe of recipes) {
  let base = 0;
  for (const w of workers) {
    const out = mkdtempSync(join(tmpdir(), 'duet-bench-ddp-'));
    const config = resolveConfig(getRecipe(recipe), { steps, warmup: 5, evalData: 'none', workers: w, out, saveEvery: 0 });
    const loadStart = load();
    const r = await train(config, { onLog: () => undefined });
    const m = readMetrics(join(out, 'metrics.jsonl')).filter((x) => typeof x['loss'] === 'number');
    const a = m[WARM - 1]!, b = m.at(-1)!;
    const rate = ((b['samples_seen'] as number) - (a['samples_seen'] as number)) / ((b['time'] as number) - (a['time'] as number));
    if (w === workers[0]) base = rate;
    const steady = m.slice(WARM);
    const mean = (k: string) => steady.reduce((s, x) => s + ((x[k] as number) ?? 0), 0) / steady.length;
    const family = recipe.includes('clip') ? 'clip' : 'siglip';
    const dim = 64; // projection width of the recipes (modelOverrides: 64)
    const lossModel = w > 1 ? (family === 'clip' ? clipCommBytes : siglipCommBytes)({ worldSize: w, localBatch: config.batchSize / w, dim }) : 0;
    rows.push({
      recipe, workers: w, batch: config.batchSize, 'samples/s': +rate.toFixed(1), speedup: +(rate / base).toFixed(2),
      'loss comm B/step': w > 1 ? mean('loss_comm_bytes') : 0, 'cost model B': lossModel,
      'grad all-reduce B/step': w > 1 ? mean('grad_comm_bytes') : 0, 'all-reduce model B': gradModelBytes(r.modelDir, w),
      'loss comm ms': w > 1 ? +mean('loss_comm_ms').toFixed(2) : 0, 'all-reduce ms': w > 1 ? +mean('grad_comm_ms').toFixed(2) : 0,
      'last loss': +r.lastLoss.toFixed(4), 'load 1/5/15 min at start': loadStart,
    });
    process.stdout.write('.');
  }
}
printTable(`duet train throughput, ${steps} steps (rate over steps ${WARM}..${steps}), ${cpus().length} cores; load before ${loadBefore}, after ${load()}`, rows);
writeResult('distributed-training', { steps, warm: WARM, loadBefore, loadAfter: load(), rows });

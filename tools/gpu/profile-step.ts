// Per-kernel profile of one training step (trainer step: gradients, clipping, AdamW, clamp) of a preset dual encoder.
//   node --conditions=@duet/source --import tsx tools/gpu/profile-step.ts --backend webgpu --batch 2
// Options: --backend webgpu|wasm|cpu (default webgpu), --preset ViT-B-32, --loss siglip, --batch 2, --warmup 1,
//          --out bench-results (writes gpu-profile-<preset>-<backend>-b<batch>.json and .md).
// Times come from the backend's kernel timer: GPU timestamp queries on webgpu (when the adapter has
// 'timestamp-query'), wall time on wasm/cpu. On llvmpipe the "GPU" is the CPU (~1 GFLOP/s), so keep the batch small.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, profileKernels, tf, type BackendName, type KernelProfileRow } from '@duet/runtime/node';
import { createStepRunner, modelConfig } from './step.ts';

export interface ProfileReport {
  preset: string;
  loss: string;
  /** False when only the gradients were profiled (no clipping / AdamW / clamp). */
  optimizer: boolean;
  backend: string;
  device: string;
  batch: number;
  params: number;
  stepMs: number;
  totalKernelMs: number;
  kernels: number;
  rows: KernelProfileRow[];
}

/** Scope rows (custom-gradient ops, named functions) wrap kernels; older reports lack the flag (kernels are PascalCase). */
const isScope = (x: KernelProfileRow) => x.scope ?? !/^[A-Z]/.test(x.kernel);

export function profileMarkdown(r: ProfileReport, top = 25): string {
  const rows = r.rows.filter((x) => !isScope(x));
  const scopes = r.rows.filter(isScope);
  const total = rows.reduce((a, x) => a + (x.totalMs || 0), 0);
  const pct = (ms: number) => (total > 0 ? (100 * (ms || 0)) / total : Number.NaN).toFixed(1);
  const lines = [
    `### ${r.preset} (${r.loss}) ${r.optimizer !== false ? 'training step' : 'loss + gradients (no optimizer)'} on ${r.backend}: ${r.device}`,
    '',
    `batch ${r.batch}, ${(r.params / 1e6).toFixed(1)}M parameters; step wall time ${r.stepMs.toFixed(0)} ms, ` +
      `kernel time ${total.toFixed(0)} ms over ${rows.reduce((a, x) => a + x.calls, 0)} kernel calls`,
    '',
    '| kernel | calls | total ms | % | mean ms | slowest output |',
    '|---|---:|---:|---:|---:|---|',
    ...rows.slice(0, top).map((x) => `| ${x.kernel} | ${x.calls} | ${x.totalMs.toFixed(1)} | ${pct(x.totalMs)} | ${x.meanMs.toFixed(2)} | ${x.slowestOutput} |`),
  ];
  if (rows.length > top) {
    const rest = rows.slice(top);
    lines.push(`| (${rest.length} others) | ${rest.reduce((a, x) => a + x.calls, 0)} | ${rest.reduce((a, x) => a + (x.totalMs || 0), 0).toFixed(1)} | ${pct(rest.reduce((a, x) => a + (x.totalMs || 0), 0))} | | |`);
  }
  if (scopes.length) {
    lines.push('', `Not in the table: ${scopes.map((x) => `"${x.kernel}" (${x.calls} calls, ${x.totalMs.toFixed(1)} ms)`).join(', ')}: scopes around kernels ` +
      '(custom-gradient ops), whose time repeats the kernels they ran.');
  }
  return lines.join('\n') + '\n';
}

export async function profileStep(opts: { backend: BackendName; preset: string; loss: 'clip' | 'siglip'; batch: number; warmup: number; optimizer?: boolean; log?: (m: string) => void }): Promise<ProfileReport> {
  const log = opts.log ?? ((m: string) => console.error(m));
  const info = await initBackend({ backend: opts.backend });
  log(`backend ${info.backend}: ${info.device}`);
  const config = modelConfig(opts.preset, opts.loss);
  const runner = createStepRunner(config, opts.batch, { optimizer: opts.optimizer ?? true });
  for (let i = 0; i < opts.warmup; i++) {
    const t0 = performance.now();
    runner.step();
    log(`warmup step ${i + 1}: ${(performance.now() - t0).toFixed(0)} ms`);
  }
  const t0 = performance.now();
  const prof = await profileKernels(() => runner.step());
  const stepMs = performance.now() - t0;
  log(`profiled step: ${stepMs.toFixed(0)} ms wall (with profiling overhead)`);
  const kernels = prof.rows.reduce((a, r) => a + r.calls, 0);
  runner.dispose();
  return {
    preset: opts.preset, loss: opts.loss, optimizer: opts.optimizer ?? true, backend: info.backend, device: info.device, batch: opts.batch, params: runner.params,
    stepMs, totalKernelMs: prof.totalKernelMs, kernels, rows: prof.rows,
  };
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(path + '.tmp', text);
  renameSync(path + '.tmp', path);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'webgpu' },
      preset: { type: 'string', default: 'ViT-B-32' },
      loss: { type: 'string', default: 'siglip' },
      batch: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '1' },
      optimizer: { type: 'string', default: 'true' },
      out: { type: 'string', default: 'bench-results' },
    },
  });
  const report = await profileStep({
    backend: values.backend as BackendName, preset: values.preset!, loss: values.loss as 'clip' | 'siglip', batch: Number(values.batch), warmup: Number(values.warmup),
    optimizer: values.optimizer !== 'false',
  });
  const dir = resolve(values.out!);
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `gpu-profile-${report.preset}-${report.backend}-b${report.batch}${report.optimizer ? '' : '-grads'}`);
  writeAtomic(`${base}.json`, JSON.stringify({ date: new Date().toISOString(), ...report }, null, 2));
  const md = profileMarkdown(report);
  writeAtomic(`${base}.md`, md);
  console.log(md);
  console.error(`wrote ${base}.json and .md`);
  tf.disposeVariables();
}

if (process.argv[1]?.endsWith("profile-step.ts")) await main();

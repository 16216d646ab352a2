// Peak memory and throughput of loading/saving a large checkpoint with @duet/model-format.
// Each operation runs in a fresh child process so its peak RSS (maxRSS) is its own.
// `npm run bench model-format` (size via DUET_BENCH_MB, default 600).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  expectedTensors, loadModelFolder, openSafetensors, parseModelConfig, readSafetensors, saveModelFolder, writeSafetensors, writeSafetensorsFile,
  type RawTensor,
} from '@duet/model-format/node';
import { printTable, writeResult } from './report.ts';

const MB = 2 ** 20;
const op = process.argv[2];
const dir = process.argv[3];

/** A ViT-B-16-shaped CLIP config scaled so the F32 weights total about `mb` megabytes (hidden 768, 12+12 layers ≈ 600 MB). */
function bigModel(mb: number): { config: Record<string, unknown> } {
  const layers = Math.max(1, Math.round((12 * mb) / 600));
  const config = {
    model_type: 'clip', projection_dim: 512,
    text_config: { hidden_size: 512, intermediate_size: 2048, num_attention_heads: 8, num_hidden_layers: layers },
    vision_config: { hidden_size: 768, intermediate_size: 3072, num_attention_heads: 12, num_hidden_layers: layers, patch_size: 16 },
  };
  return { config };
}

async function child(): Promise<void> {
  const t0 = performance.now();
  const model = join(dir!, 'model');
  let bytes = 0;
  if (op === 'create') {
    const { config } = bigModel(Number(process.env['DUET_BENCH_MB'] ?? 600));
    const tensors = new Map<string, RawTensor>();
    for (const [n, shape] of expectedTensors(parseModelConfig(config))) {
      const numel = shape.reduce((a, d) => a * d, 1);
      tensors.set(n, { dtype: 'F32', shape, data: new Uint8Array(numel * 4).fill(n.length & 0xff) });
    }
    await saveModelFolder(model, { config, tensors });
  } else if (op === 'open-header') {
    await openSafetensors(join(model, 'model.safetensors'));
  } else if (op === 'lazy-each-tensor') {
    const f = await loadModelFolder(model);
    for (const n of f.tensorNames()) bytes += (await f.getTensor(n)).data.byteLength;
  } else if (op === 'lazy-getAllTensors') {
    const f = await loadModelFolder(model);
    for (const t of (await f.getAllTensors()).values()) bytes += t.data.byteLength;
  } else if (op === 'readFile+readSafetensors') {
    const { tensors } = readSafetensors(await readFile(join(model, 'model.safetensors'))); // a Buffer is a Uint8Array: no copy
    for (const t of tensors.values()) bytes += t.data.byteLength;
  } else if (op === 'load+saveModelFolder (streamed)') {
    const f = await loadModelFolder(model);
    await saveModelFolder(join(dir!, 'copy'), { config: f.rawConfig, tensors: await f.getAllTensors() });
  } else if (op === 'load+writeSafetensors (in-memory buffer)') {
    const f = await loadModelFolder(model);
    const out = writeSafetensors(await f.getAllTensors());
    await writeSafetensorsFile(join(dir!, 'copy.safetensors'), readSafetensors(out).tensors);
  }
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ ms, maxRssMB: process.resourceUsage().maxRSS / 1024, bytes }) + '\n');
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'duet-bench-mf-'));
  const self = fileURLToPath(import.meta.url);
  const run = (name: string): { ms: number; maxRssMB: number } => {
    const r = spawnSync(process.execPath, ['--conditions=@duet/source', '--import', 'tsx', self, name, work], { encoding: 'utf8', env: process.env, maxBuffer: 1 << 20 });
    if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  };
  try {
    const base = run('baseline');
    run('create');
    const fileMB = statSync(join(work, 'model', 'model.safetensors')).size / MB;
    const rows = [];
    for (const name of ['open-header', 'lazy-each-tensor', 'lazy-getAllTensors', 'readFile+readSafetensors', 'load+saveModelFolder (streamed)', 'load+writeSafetensors (in-memory buffer)']) {
      const r = run(name);
      const extra = r.maxRssMB - base.maxRssMB;
      rows.push({ operation: name, fileMB: +fileMB.toFixed(1), peakRssMB: +r.maxRssMB.toFixed(0), overBaselineMB: +extra.toFixed(0), xFileSize: +(extra / fileMB).toFixed(2), seconds: +(r.ms / 1000).toFixed(2) });
    }
    printTable(`model-format: peak memory over a ${base.maxRssMB.toFixed(0)} MB process baseline, ${fileMB.toFixed(0)} MB checkpoint`, rows);
    writeResult('model-format', { baselineRssMB: base.maxRssMB, fileMB, rows });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (op) await child();
else await main();

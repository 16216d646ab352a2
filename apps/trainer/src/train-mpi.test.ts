// `mpirun -n N duet train`: each MPI process is one data-parallel rank (discoverRank → createMpiGroup). The DDP step
// is the same code over any ProcessGroup, so N MPI ranks must end with exactly the weights of `--workers N` (threads);
// threads vs one process on the global batch is tested in @duet/training (ddp-equivalence.test.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSafetensors, toTypedArray } from '@duet/model-format';

const DUET = fileURLToPath(new URL('../bin/duet.js', import.meta.url));
const MPI_ENV = { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' };
// Containers: more ranks than cores, no CMA single-copy (ptrace is usually denied).
const MCA = ['--oversubscribe', '--mca', 'btl_vader_single_copy_mechanism', 'none'];

function requireMpirun(): void {
  const r = spawnSync('mpirun', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error('Open MPI is not installed (no mpirun on PATH): install it with `apt-get install libopenmpi-dev openmpi-bin`');
}

function train(argv: string[], out: string, ranks?: number): void {
  const args = ['train', ...argv, '--out', out, '--eval-data', 'none'];
  const r = ranks
    ? spawnSync('mpirun', ['-n', String(ranks), ...MCA, process.execPath, DUET, ...args], { encoding: 'utf8', env: { ...process.env, ...MPI_ENV }, timeout: 240_000 })
    : spawnSync(process.execPath, [DUET, ...args], { encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`duet train ${ranks ? `under mpirun -n ${ranks}` : ''} failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
}

function weights(dir: string): Map<string, Float32Array> {
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(dir, 'model', 'model.safetensors'))));
  return new Map([...tensors].map(([k, t]) => [k, toTypedArray(t) as Float32Array]));
}

/**
 * Tensors whose max |Δ| exceeds rtol·max|ref|. Attention key biases — `self_attn.k_proj.bias` and the key third of a
 * fused `in_proj_bias` (the MAP head) — have an exactly zero gradient (softmax ignores a per-query constant), so they
 * move only by Adam-amplified rounding noise (each step normalises that noise to a fraction of lr): they are held to
 * an absolute 1e-5 instead, far below their ~steps·lr worst case and above the observed 1.6e-6.
 */
function mismatches(a: Map<string, Float32Array>, b: Map<string, Float32Array>, rtol: number): string[] {
  const bad: string[] = [];
  const check = (name: string, x: Float32Array, y: Float32Array, keyBias: boolean) => {
    let diff = 0, ref = 0;
    for (let i = 0; i < x.length; i++) { diff = Math.max(diff, Math.abs(x[i]! - y[i]!)); ref = Math.max(ref, Math.abs(y[i]!)); }
    const allowed = keyBias ? Math.max(1e-5, rtol * ref) : rtol * ref;
    if (diff > allowed) bad.push(`${name}: max|Δ| ${diff.toExponential(2)} > ${allowed.toExponential(2)}`);
  };
  for (const [k, x] of a) {
    const y = b.get(k)!;
    if (k.endsWith('in_proj_bias')) {
      const d = x.length / 3; // [q; k; v]
      for (const [i, part] of ['q', 'k', 'v'].entries()) check(`${k}[${part}]`, x.subarray(i * d, (i + 1) * d), y.subarray(i * d, (i + 1) * d), part === 'k');
    } else check(k, x, y, k.endsWith('self_attn.k_proj.bias'));
  }
  return bad;
}

describe('mpirun -n N duet train', () => {
  for (const [preset, ranks] of [['tiny-clip', 2], ['tiny-siglip', 2], ['tiny-siglip', 4]] as const) {
    // Two ranks sum in the same order under both groups (bit-identical); at four, Open MPI's allreduce associates
    // the sum differently from the threads ring, so weights agree to float32 rounding (issue bound: 1e-5 relative).
    it(`${preset}, ${ranks} MPI ranks: same weights as --workers ${ranks} (${ranks === 2 ? 'bit-identical' : '≤ 1e-5 rel'})`, () => {
      requireMpirun();
      const root = mkdtempSync(join(tmpdir(), 'duet-mpi-train-'));
      const common = ['--preset', preset, '--steps', '4', '--batch-size', String(8 * ranks), '--warmup', '1'];
      train(common, join(root, 'mpi'), ranks);
      train([...common, '--workers', String(ranks)], join(root, 'threads'));
      const a = weights(join(root, 'mpi'));
      const b = weights(join(root, 'threads'));
      expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
      expect(mismatches(a, b, ranks === 2 ? 0 : 1e-5)).toEqual([]);
      // Rank 0 wrote the run folder (metrics, curves, model) once.
      expect(existsSync(join(root, 'mpi', 'metrics.jsonl'))).toBe(true);
      const lines = readFileSync(join(root, 'mpi', 'metrics.jsonl'), 'utf8').trim().split('\n').filter((l) => l.includes('"loss"'));
      expect(lines.length).toBe(4);
    }, 300_000);
  }
});

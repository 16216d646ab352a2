// DDP equivalence over MPI: 2 and 4 ranks (`mpirun -n N`, one process each, createMpiGroup()) × (CLIP all-gather,
// SigLIP ring) reproduce, over 5 steps, the losses and weights of one process training on the global batch of 8,
// within 1e-5 relative, every rank ending bit-identical. Same config, reference and checks as the threads test
// (ddp-equivalence.test.ts, whose comments explain lr 3e-3 and Adam ε 1e-3: the float32 floor of this config is
// ~1e-5 even between two single-process runs with different batch splits). Fails (never skips) without Open MPI.
import { beforeAll, describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireMpi, runMpi } from '@duet/distributed/testing';
import { resolveConfig } from '../config.js';
import { expectEquivalent, singleProcess, type RankOutcome, type RankRunner } from './testing/equivalence.js';

const tiny = {
  vision_config: { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, patch_size: 14 },
  text_config: { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 16, projection_size: 16 },
};
const config = (preset: string) => resolveConfig({
  preset, modelOverrides: tiny, data: 'shapes', evalData: 'none', trainLimit: 40, batchSize: 8, steps: 5, warmup: 1, lr: 0.003,
  backend: 'cpu', seed: 5, out: mkdtempSync(join(tmpdir(), 'duet-ddp-mpi-')), eps: 1e-3,
});

/** Each rank runs the threads test's worker module (rank-worker.ts `main` → rankOutcome) under mpirun. */
const mpiRunner: RankRunner = async (worldSize, cfg, opts = {}) => {
  const run = await runMpi<{ losses: number[]; tensors: Record<string, number[]> }>(
    worldSize, new URL('./testing/rank-worker.ts', import.meta.url), { config: cfg, ...opts }, { timeoutMs: 120_000 });
  expect(run.code, `mpirun -n ${worldSize} failed\n${run.stderr}`).toBe(0);
  // The results come back as JSON; float32 → double → float32 round-trips exactly.
  return run.results.map((r): RankOutcome => ({
    losses: r.losses,
    tensors: Object.fromEntries(Object.entries(r.tensors).map(([k, v]) => [k, Float32Array.from(v)])),
  }));
};

beforeAll(() => requireMpi());

describe('data-parallel training over mpi equals one process on the global batch', () => {
  for (const preset of ['tiny-clip', 'tiny-siglip']) {
    it(`${preset}: mpirun -n 2 and -n 4, 5 steps, batch 8`, async () => {
      const ref = await singleProcess(config(preset));
      expect(ref.losses).toHaveLength(5);
      for (const w of [2, 4]) {
        const ranks = await mpiRunner(w, config(preset));
        expect(ranks).toHaveLength(w);
        const { lossErr, weightErr } = expectEquivalent(ranks, ref, 1e-5);
        console.log(`${preset} ×${w} mpi ranks: loss rel err ${lossErr.toExponential(2)}, weight rel err ${weightErr.toExponential(2)}`);
      }
    }, 300_000);
  }
});

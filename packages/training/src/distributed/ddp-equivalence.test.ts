// DDP equivalence: 2 and 4 ranks (worker threads) × (CLIP all-gather, SigLIP ring) reproduce, over 5 steps, the
// losses and weights of one process training on the global batch of 8 (within 1e-5 relative; also with gradient
// accumulation inside each rank), every rank ending
// bit-identical (attention key biases, whose gradient is identically zero, compared in absolute terms). Parametrised by group kind (`runners`): an mpi runner plugs in with the same checks.
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../config.js';
import { expectEquivalent, singleProcess, threadsRunner, type RankOutcome, type RankRunner } from './testing/equivalence.js';

const tiny = {
  vision_config: { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, patch_size: 14 },
  text_config: { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 16, projection_size: 16 },
};
const config = (preset: string, accum = 1) => resolveConfig({
  preset, modelOverrides: tiny, data: 'shapes', evalData: 'none', trainLimit: 40, batchSize: 8, steps: 5, warmup: 1, lr: 0.003,
  backend: 'cpu', seed: 5, out: mkdtempSync(join(tmpdir(), 'duet-ddp-')),
  // lr 3e-3 as the Fashion-MNIST recipes: at 1e-2 this minuscule model's first steps amplify round-off ~3× per step
  // (step-1 weights agree to 5e-7, step 5 to 2e-5), for two single-process runs with different batch splits too.
  // At 3e-3 the float32 floor is ~1e-5 all the same: one process with --accum 4 vs --accum 1 differs by 8.9e-6
  // (tiny-clip, step 5, this metric), DDP ×2 by 9.1e-6 — the DDP gradients match to 6e-7 after one step.
  // Adam ε = 1e-3 instead of 1e-6: with a tiny ε the first steps move every parameter by ±lr·sign(g), so a gradient
  // component within round-off of zero flips sign between ANY two summation orders (two single-process runs with
  // different batch splits differ the same way); a larger ε keeps the update a smooth function of the gradient,
  // so the comparison measures the DDP gradients rather than sign noise.
  eps: 1e-3, accum,
});

const runners: [string, RankRunner][] = [['threads', threadsRunner]];

describe.each(runners)('data-parallel training over %s equals one process on the global batch', (_kind, run) => {
  for (const preset of ['tiny-clip', 'tiny-siglip']) {
    it(`${preset}: 2 and 4 ranks, and 2 ranks × 2 accumulation steps, 5 steps, batch 8`, async () => {
      const ref: RankOutcome = await singleProcess(config(preset));
      expect(ref.losses).toHaveLength(5);
      // [ranks, accumulation steps per rank]: accum 2 takes the cached-features path (re-forward per micro-batch),
      // accum 1 the single forward with a deferred backward.
      for (const [w, accum] of [[2, 1], [4, 1], [2, 2]] as const) {
        const ranks = await run(w, config(preset, accum));
        expect(ranks).toHaveLength(w);
        const { lossErr, weightErr } = expectEquivalent(ranks, ref, 1e-5);
        console.log(`${preset} ×${w} ranks, accum ${accum}: loss rel err ${lossErr.toExponential(2)}, weight rel err ${weightErr.toExponential(2)}`);
      }
    });
  }
});

// @duet/losses' distributed forms over the mpi group (mpirun -n 2 and -n 4) equal the single-process HF/torch
// reference (float64 fixture) on the concatenated batch, like losses.test.ts does over threads.
import { beforeAll, describe, expect, it } from 'vitest';
import { clipCommBytes, siglipCommBytes } from '@duet/losses';
import { expectClose } from '../test/expect-close.js';
import { ref } from '../test/fixture.js';
import { requireMpi, runMpi } from './testing.js';
import type { LossArgs } from '../test/workers/losses.js';

const WORKER = new URL('../test/workers/mpi-losses.ts', import.meta.url);
const N = 8;
const D = 16;

type Out = { loss: number; gradImg: number[]; gradTxt: number[]; gradScale: number; gradBias?: number; bytes: number };

beforeAll(() => requireMpi());

describe('distributed losses over the mpi group', () => {
  const launches: { w: number; cases: LossArgs[] }[] = [
    { w: 2, cases: [{ family: 'clip', n: N, d: D }, { family: 'siglip', n: N, d: D }] },
    { w: 4, cases: [{ family: 'clip', n: N, d: D }, { family: 'siglip', n: N, d: D }, { family: 'siglip', n: N, d: D, bidirectional: true }] },
  ];
  for (const { w, cases } of launches) {
    it(`mpirun -n ${w}, N=${N}: CLIP and SigLIP (ring${w > 2 ? ', bidirectional ring' : ''}) losses and gradients equal the single-process reference`, async () => {
      const run = await runMpi<Out[]>(w, WORKER, cases);
      expect(run.code, run.stderr).toBe(0);
      expect(run.results).toHaveLength(w);
      cases.forEach((c, k) => {
        const f = c.family;
        const what = `${f}${c.bidirectional ? ' bidirectional' : ''}`;
        const res = run.results.map((perRank) => perRank[k]!);
        for (const r of res) {
          expectClose([r.loss], ref(N, D, `${f}_loss`), 1e-5, `${what} loss`);
          expectClose([r.gradScale], ref(N, D, f === 'clip' ? 'clip_grad_logit_scale' : 'siglip_grad_t_prime'), 1e-4, `${what} ∂logitScale`);
          if (f === 'siglip') expectClose([r.gradBias!], ref(N, D, 'siglip_grad_bias'), 1e-4, `${what} ∂logitBias`);
        }
        expectClose(res.flatMap((r) => r.gradImg), ref(N, D, `${f}_grad_img`), 1e-4, `${what} ∂imageEmbeds`);
        expectClose(res.flatMap((r) => r.gradTxt), ref(N, D, `${f}_grad_txt`), 1e-4, `${what} ∂textEmbeds`);
        if (!c.bidirectional) {
          // The cost model with its scalar all-reduce term as an upper bound (⌈k/W⌉-float chunks for k scalars).
          const model = (f === 'clip' ? clipCommBytes : siglipCommBytes)({ worldSize: w, localBatch: N / w, dim: D });
          const scalarBound = 2 * (w - 1) * Math.ceil((f === 'clip' ? 2 : 4) / w) * 4;
          for (const r of res) {
            expect(r.bytes, what).toBeLessThanOrEqual(model);
            expect(r.bytes, what).toBeGreaterThanOrEqual(model - scalarBound);
          }
        }
      });
    });
  }
});

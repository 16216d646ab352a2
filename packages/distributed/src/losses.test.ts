// @duet/losses' distributed forms over real worker threads equal the single-process HF/torch reference
// (float64 fixture) on the concatenated batch: loss on every rank, local gradients concatenated over ranks.
import { describe, expect, it } from 'vitest';
import { launchThreads } from './index.js';
import { expectClose } from '../test/expect-close.js';
import { ref } from '../test/fixture.js';
import type { LossArgs } from '../test/workers/losses.js';

const WORKER = new URL('../test/workers/losses.ts', import.meta.url);
const N = 8;
const D = 16;

type Out = { loss: number; gradImg: Float32Array; gradTxt: Float32Array; gradScale: number; gradBias?: number; bytes: number };
const concat = (xs: Float32Array[]) => Float32Array.from(xs.flatMap((x) => [...x]));

describe('distributed losses over the threads group', () => {
  const cases: (LossArgs & { w: number })[] = [
    { family: 'clip', n: N, d: D, w: 2 },
    { family: 'siglip', n: N, d: D, w: 2 },
    { family: 'clip', n: N, d: D, w: 3 },
    { family: 'siglip', n: N, d: D, w: 3, bidirectional: true },
  ];
  for (const c of cases) {
    it(`${c.family}${c.bidirectional ? ' (bidirectional ring)' : ''}, N=${N}, ${c.w} worker threads: loss and gradients equal the single-process reference`, async () => {
      const res = await launchThreads<Out>(WORKER, c.w, c);
      const f = c.family;
      for (const r of res) {
        expectClose([r.loss], ref(N, D, `${f}_loss`), 1e-5, 'loss');
        expectClose([r.gradScale], ref(N, D, f === 'clip' ? 'clip_grad_logit_scale' : 'siglip_grad_t_prime'), 1e-4, '∂logitScale');
        if (f === 'siglip') expectClose([r.gradBias!], ref(N, D, 'siglip_grad_bias'), 1e-4, '∂logitBias');
        expect(r.bytes).toBeGreaterThan(0);
      }
      expectClose(concat(res.map((r) => r.gradImg)), ref(N, D, `${f}_grad_img`), 1e-4, '∂imageEmbeds');
      expectClose(concat(res.map((r) => r.gradTxt)), ref(N, D, `${f}_grad_txt`), 1e-4, '∂textEmbeds');
    });
  }
});

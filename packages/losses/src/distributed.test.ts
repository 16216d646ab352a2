// Simulated-distributed forms equal the single-process reference on the concatenated batch, and report the
// bytes their ring collectives send.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@duet/runtime';
import { useWasm } from '../test/backend.js';
import { createSimulatedGroups, distributedClipLoss, distributedSiglipLoss, type DistributedResult, type ProcessGroup } from './index.js';
import { FIXTURE_SETS, expectClose, ref, refScalar } from '../test/fixture.js';
import { fixtureInputs } from '../test/inputs.js';

beforeAll(async () => {
  await useWasm();
});

/** Near-equal contiguous split of n rows over w ranks (uneven when w does not divide n). */
function splits(n: number, w: number): [number, number][] {
  return Array.from({ length: w }, (_, r) => [Math.floor((n * r) / w), Math.floor((n * (r + 1)) / w)]);
}

type Variant = { family: 'clip' | 'siglip'; bidirectional?: boolean; label: string };
const VARIANTS: Variant[] = [
  { family: 'clip', label: 'CLIP all-gather' },
  { family: 'siglip', label: 'SigLIP ring' },
  { family: 'siglip', bidirectional: true, label: 'SigLIP bidirectional ring' },
];

async function runDistributed(v: Variant, n: number, d: number, w: number): Promise<DistributedResult[]> {
  const groups = createSimulatedGroups(w);
  return Promise.all(
    groups.map((g, r) => {
      const local = fixtureInputs(n, d, v.family, splits(n, w)[r]);
      return v.family === 'clip' ? distributedClipLoss(local, g) : distributedSiglipLoss(local, g, { bidirectional: v.bidirectional });
    }),
  );
}

function concatRows(parts: tf.Tensor[]): Float32Array {
  return tf.tidy(() => tf.concat(parts, 0).dataSync() as Float32Array);
}

for (const { n, d } of FIXTURE_SETS) {
  for (const w of [2, 3, 4]) {
    for (const v of VARIANTS) {
      it(`${v.label}, N=${n} D=${d}, worldSize ${w}: every rank matches the single-process reference`, async () => {
        const res = await runDistributed(v, n, d, w);
        const f = v.family;
        for (const r of res) {
          expectClose(r.loss.dataSync()[0]!, refScalar(n, d, `${f}_loss`), 1e-5, `rank loss`);
          expectClose(r.gradLogitScale.dataSync()[0]!, refScalar(n, d, f === 'clip' ? 'clip_grad_logit_scale' : 'siglip_grad_t_prime'), 1e-4, 'rank ∂t′');
          if (f === 'siglip') expectClose(r.gradLogitBias!.dataSync()[0]!, refScalar(n, d, 'siglip_grad_bias'), 1e-4, 'rank ∂b');
        }
        expectClose(concatRows(res.map((r) => r.gradImageEmbeds)), ref(n, d, `${f}_grad_img`).data, 1e-4, '∂img (ranks concatenated)');
        expectClose(concatRows(res.map((r) => r.gradTextEmbeds)), ref(n, d, `${f}_grad_txt`).data, 1e-4, '∂txt (ranks concatenated)');
        tf.dispose(res.flatMap((r) => [r.loss, r.localLoss, r.gradImageEmbeds, r.gradTextEmbeds, r.gradLogitScale, r.gradLogitBias ?? []]));
      });
    }
  }
}

describe('loss semantics and communication', () => {
  it('with equal local batches the mean of the per-rank (open_clip) local losses is the global loss', async () => {
    for (const v of VARIANTS) {
      const res = await runDistributed(v, 64, 32, 4);
      const mean = res.reduce((a, r) => a + r.localLoss.dataSync()[0]!, 0) / 4;
      expectClose(mean, refScalar(64, 32, `${v.family}_loss`), 1e-5, `${v.label} mean local loss`);
    }
  });

  // Closed forms for equal local batches b, width E, float32; plus at most 2·len·4 bytes of scalar all-reduce.
  const cases = [
    { w: 2, b: 32 },
    { w: 4, b: 16 },
  ];
  for (const { w, b } of cases) {
    it(`counted bytes at worldSize ${w}: CLIP 4·(W−1)·b·E·4, SigLIP ring 2·(W−1)·b·E·4 (both directions)`, async () => {
      const e = 32;
      for (const v of VARIANTS) {
        const res = await runDistributed(v, 64, 32, w);
        const data = (v.family === 'clip' ? 4 : 2) * (w - 1) * b * e * 4;
        for (const r of res) {
          expect(r.bytesCommunicated).toBeGreaterThanOrEqual(data);
          expect(r.bytesCommunicated).toBeLessThanOrEqual(data + 2 * 4 * 4);
        }
      }
    });
  }

  it('CLIP falls back to all-reduce when the group has no reduceScatter (same gradients, more bytes)', async () => {
    const w = 4;
    const groups: ProcessGroup[] = createSimulatedGroups(w).map((g) => ({
      rank: g.rank,
      worldSize: g.worldSize,
      allGather: (x) => g.allGather(x),
      allReduce: (x, op) => g.allReduce(x, op),
      broadcast: (x, root) => g.broadcast(x, root),
      sendRecv: (x, to, from) => g.sendRecv(x, to, from),
      barrier: () => g.barrier(),
      get bytesSent() {
        return g.bytesSent;
      },
    }));
    const res = await Promise.all(groups.map((g, r) => distributedClipLoss(fixtureInputs(64, 32, 'clip', splits(64, w)[r]), g)));
    expectClose(concatRows(res.map((r) => r.gradTextEmbeds)), ref(64, 32, 'clip_grad_txt').data, 1e-4, '∂txt via all-reduce');
    // all-gather (W−1)·b·2E·4 + ring all-reduce of [N, 2E]: 2·(W−1)/W·N·2E·4, plus the scalar all-reduce
    const data = (w - 1) * 16 * 64 * 4 + 2 * (w - 1) * 16 * 64 * 4;
    for (const r of res) expect(r.bytesCommunicated - data).toBeLessThanOrEqual(2 * 4 * 4);
    for (const r of res) expect(r.bytesCommunicated).toBeGreaterThanOrEqual(data);
  });

  it('worldSize 1 degenerates to the single-process loss with no communication', async () => {
    const [g] = createSimulatedGroups(1);
    const r = await distributedSiglipLoss(fixtureInputs(8, 16, 'siglip'), g!);
    expectClose(r.loss.dataSync()[0]!, refScalar(8, 16, 'siglip_loss'), 1e-5, 'loss');
    expect(r.bytesCommunicated).toBe(0);
  });
});

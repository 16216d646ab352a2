// Data-parallel equivalence harness (tests only): N ranks of any process-group kind must reproduce the losses and
// weights of one process training on the global batch. A group kind plugs in as a RankRunner (threads here; an
// mpi runner would spawn `mpirun -n N` on an entry that calls rankOutcome(await createMpiGroup(), args) and collect
// the same outcomes).
import { expect } from 'vitest';
import { launchThreads } from '@duet/distributed';
import type { TrainConfig } from '../../config.js';
import { rankOutcome, type RankArgs } from './rank-worker.js';

export interface RankOutcome {
  /** Global loss per step. */
  losses: number[];
  /** Every parameter after the run, by HF name. */
  tensors: Record<string, Float32Array>;
}

/** Runs `config` on `worldSize` ranks of one group kind and returns each rank's outcome (index = rank). */
export type RankRunner = (worldSize: number, config: TrainConfig, opts?: Omit<RankArgs, 'config'>) => Promise<RankOutcome[]>;

export const threadsRunner: RankRunner = (worldSize, config, opts = {}) =>
  launchThreads<RankOutcome>(new URL('./rank-worker.ts', import.meta.url), worldSize, { config, ...opts }, { timeoutMs: 60_000 });

/** The reference: this process, the ordinary single-process step (no group at all). */
export const singleProcess = (config: TrainConfig): Promise<RankOutcome> => rankOutcome(undefined, { config });

/** max |a − b| / max |b| (the scale of the reference tensor), so tiny entries do not dominate. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0, err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  return scale === 0 ? err : err / scale;
}

/**
 * Attention key biases have an identically zero gradient (adding q·b_k to every logit of a softmax row changes
 * nothing), so their values after training are round-off in any run, single or distributed alike.
 */
const ZERO_GRADIENT = /self_attn\.k_proj\.bias$/;

/** Every rank bit-identical to rank 0, and rank 0 equal to the reference within `tol` (losses and weights). */
export function expectEquivalent(ranks: RankOutcome[], ref: RankOutcome, tol: number): { lossErr: number; weightErr: number } {
  const r0 = ranks[0]!;
  for (const [k, r] of ranks.entries()) {
    expect(r.losses, `rank ${k} losses`).toEqual(r0.losses);
    for (const [name, t] of Object.entries(r0.tensors)) expect(Buffer.from(r.tensors[name]!.buffer).equals(Buffer.from(t.buffer)), `rank ${k} ${name}`).toBe(true);
  }
  expect(r0.losses.length).toBe(ref.losses.length);
  const lossErr = Math.max(...r0.losses.map((l, i) => Math.abs(l - ref.losses[i]!) / Math.abs(ref.losses[i]!)));
  expect(lossErr, `losses ${r0.losses} vs single process ${ref.losses}`).toBeLessThanOrEqual(tol);
  expect(Object.keys(r0.tensors).sort()).toEqual(Object.keys(ref.tensors).sort());
  let weightErr = 0;
  for (const [name, t] of Object.entries(ref.tensors)) {
    if (ZERO_GRADIENT.test(name)) {
      // Identically zero gradient: both runs only accumulate round-off, so compare in absolute terms.
      const scale = Math.max(1, ...Array.from(t, Math.abs));
      expect(relErr(r0.tensors[name]!, t) * Math.max(...Array.from(t, Math.abs), 0) / scale, name).toBeLessThanOrEqual(tol);
      continue;
    }
    const e = relErr(r0.tensors[name]!, t);
    weightErr = Math.max(weightErr, e);
    expect(e, name).toBeLessThanOrEqual(tol);
  }
  return { lossErr, weightErr };
}

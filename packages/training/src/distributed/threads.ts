// `duet train --workers N`: N worker threads, each with its own TensorFlow.js instance (the wasm backend is
// single-threaded in Node, so threads are how a multi-core machine gets used), joined by @duet/distributed's
// threads group. The main thread validates first, relays Ctrl-C to the ranks and rank 0's progress to the caller
// through shared memory, and returns rank 0's result. A rank that dies fails the run naming it.
// (train() validates the config, data and --resume folder before calling this.)
import { launchThreads } from '@duet/distributed';
import type { TrainConfig } from '../config.js';
import type { TrainHooks, TrainProgress, TrainResult } from '../loop.js';

export interface ThreadsTrainArgs {
  config: TrainConfig;
  /** Int32 [stop] then Float64 [seq, step, totalSteps, epoch, samplesSeen, loss, lr] (rank 0 writes). */
  control: SharedArrayBuffer;
}

export const CONTROL_BYTES = 8 + 7 * 8;

/** Collectives time out after this long without an answer (a hung rank); dead ranks are detected at once. */
const COLLECTIVE_TIMEOUT_MS = 300_000;

/**
 * Young-generation size of each rank's V8 heap. TensorFlow.js allocates a few JS objects per op, and a step's tape
 * keeps many of them alive, so each scavenge copies a tape's worth of live objects whenever it runs: its cost is per
 * scavenge, and a larger young generation means fewer of them (measured on the Fashion-MNIST recipe at 2 ranks:
 * 76 → 43 scavenges and ~45 % less scavenge pause over 48 steps; old-generation collections unchanged). Worth it
 * here because GC work is a per-step cost that does not shrink with the per-rank batch, and V8's parallel GC
 * helpers compete with the other rank for the cores. (The main thread's is a Node flag, --max-semi-space-size.)
 */
const RANK_YOUNG_GENERATION_MB = 160;

/** The rank threads' resourceLimits (DUET_RANK_YOUNG_MB overrides the young generation size, 0 = V8's default, for measuring the trade-off). */
export function rankHeapLimits(): { resourceLimits?: { maxYoungGenerationSizeMb: number } } {
  const env = process.env['DUET_RANK_YOUNG_MB'];
  const mb = env !== undefined && env !== '' ? Number(env) : RANK_YOUNG_GENERATION_MB;
  return Number.isFinite(mb) && mb > 0 ? { resourceLimits: { maxYoungGenerationSizeMb: mb } } : {};
}

const WORKER = new URL(`./train-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

export async function trainThreads(config: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const stop = new Int32Array(control, 0, 1);
  const progress = new Float64Array(control, 8, 7);
  let seen = 0;
  const poll = () => {
    const seq = progress[0]!;
    if (seq === seen || !hooks.onProgress) return;
    seen = seq;
    const [, step, totalSteps, epoch, samplesSeen, loss, lr] = progress;
    hooks.onProgress({ step: step!, totalSteps: totalSteps!, epoch: epoch!, samplesSeen: samplesSeen!, loss: loss!, lr: lr! });
  };
  const onAbort = () => Atomics.store(stop, 0, 1);
  if (hooks.signal?.aborted) onAbort();
  hooks.signal?.addEventListener('abort', onAbort);
  const timer = setInterval(poll, 250);
  try {
    const args: ThreadsTrainArgs = { config, control };
    const results = await launchThreads<TrainResult>(WORKER, config.workers, args, { timeoutMs: COLLECTIVE_TIMEOUT_MS, graceMs: 5000, ...rankHeapLimits() });
    poll();
    return results[0]!;
  } finally {
    clearInterval(timer);
    hooks.signal?.removeEventListener('abort', onAbort);
  }
}

/** Rank 0's side of the progress relay. */
export function writeProgress(control: SharedArrayBuffer, p: TrainProgress): void {
  const a = new Float64Array(control, 8, 7);
  a.set([p.step, p.totalSteps, p.epoch, p.samplesSeen, p.loss, p.lr], 1);
  a[0] = a[0]! + 1; // published last: the poller reads a complete record (at worst one step stale)
}

// Shared state of a threads world: one status word per rank plus a pipe per ordered rank pair. Created by the
// launcher, handed to every worker through workerData (SharedArrayBuffers are shared, not copied).
import { pipeBufferBytes } from './pipe.js';

/** Status word values (per rank). */
export const RUNNING = 0;
export const DONE = 1;
export const FAILED = 2;

export interface ThreadWorld {
  worldSize: number;
  /** Int32: [0] = first failed rank + 1 (0 = none), [1 + r] = status of rank r. */
  control: SharedArrayBuffer;
  /** pipes[from * worldSize + to]. */
  pipes: SharedArrayBuffer[];
  /** A wait that sees no progress for this long fails (ms). */
  timeoutMs: number;
}

export interface ThreadWorldOptions {
  /** Slot size of each pipe; larger messages travel in chunks. Default 1 MiB. */
  pipeBytes?: number;
  /** Collective timeout: a wait with no progress for this long fails naming the peer. Default 120 000 ms. */
  timeoutMs?: number;
}

export function createThreadWorld(worldSize: number, opts: ThreadWorldOptions = {}): ThreadWorld {
  if (!Number.isInteger(worldSize) || worldSize < 1) throw new Error(`threads group: worldSize must be a positive integer, got ${worldSize}`);
  const pipeBytes = opts.pipeBytes ?? 1 << 20;
  if (!Number.isInteger(pipeBytes) || pipeBytes < 4) throw new Error(`threads group: pipeBytes must be an integer ≥ 4, got ${pipeBytes}`);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  if (!(timeoutMs > 0)) throw new Error(`threads group: timeoutMs must be > 0, got ${timeoutMs}`);
  return {
    worldSize,
    control: new SharedArrayBuffer(4 * (1 + worldSize)),
    pipes: Array.from({ length: worldSize * worldSize }, () => new SharedArrayBuffer(pipeBufferBytes(pipeBytes))),
    timeoutMs,
  };
}

/** Marks a rank's final status; the first failure is recorded so every waiter can name it. */
export function markRank(world: ThreadWorld, rank: number, status: typeof DONE | typeof FAILED): void {
  const ctl = new Int32Array(world.control);
  if (status === FAILED) Atomics.compareExchange(ctl, 0, 0, rank + 1);
  // A failure is never overwritten by a later "done" (the launcher may learn of an exit after the worker did).
  Atomics.compareExchange(ctl, 1 + rank, RUNNING, status);
  if (status === FAILED) Atomics.store(ctl, 1 + rank, FAILED);
}

// What the training loop needs to run as one rank of a data-parallel job: the DDP gradient step, rank-0-only
// writing, ranks ending an epoch (or stopping on Ctrl-C) at the same step, and every rank's data-loader position
// gathered into the checkpoint so each rank resumes exactly where it was.
import type { ProcessGroup } from '@duet/losses';
import type { Gradient } from '../optim/storage.js';
import type { TensorBatch, TrainableDualEncoder } from '../model.js';
import type { BatchSource, LoaderBatch } from '../loop.js';
import { ddpGradients, type DdpStepOptions } from './ddp-step.js';
import { stepProfiler as prof } from '../profile.js';

/** The data position a distributed checkpoint stores: one loader position per rank. */
export interface RankPositions {
  worldSize: number;
  ranks: unknown[];
}

export interface DataParallel {
  readonly group: ProcessGroup;
  readonly rank: number;
  readonly worldSize: number;
  /** Gradients of the global batch's loss (see ddpGradients); identical on every rank. */
  computeGradients(model: TrainableDualEncoder, micro: TensorBatch[]): Promise<{ loss: number; grads: Map<string, Gradient> }>;
  /** Wraps one epoch's loader: a batch is used only when every rank has one and no rank asked to stop. */
  syncLoader(src: BatchSource): BatchSource;
  /** True once any rank asked to stop (set by syncLoader, so every rank sees it at the same step). */
  readonly stopRequested: boolean;
  /** Every rank's position (collective), for the checkpoint. */
  gatherPositions(local: unknown): Promise<RankPositions | null>;
  /** This rank's position from a checkpoint's gathered positions (undefined = start of the epoch). */
  localPosition(saved: unknown): unknown;
  barrier(): Promise<void>;
  /** Communication of the last step: bytes sent and wall ms, for the loss exchange and the gradient all-reduce. */
  readonly lastStep: { lossBytes: number; reduceBytes: number; lossMs: number; reduceMs: number };
}

export interface DataParallelOptions extends DdpStepOptions {
  /** Polled once per step; when true on any rank, every rank stops after the same step (Ctrl-C). */
  shouldStop?: () => boolean;
}

export function isRankPositions(x: unknown): x is RankPositions {
  return !!x && typeof x === 'object' && Array.isArray((x as RankPositions).ranks) && typeof (x as RankPositions).worldSize === 'number';
}

/** Resuming needs the same number of ranks: loader positions are per rank. */
export function checkResumeWorld(dataPosition: unknown, worldSize: number, dir: string): void {
  const saved = isRankPositions(dataPosition) ? dataPosition.worldSize : 1;
  if (saved !== worldSize) {
    throw new Error(`--resume ${dir}: the checkpoint was written by ${saved} rank${saved === 1 ? '' : 's'} but this run has ${worldSize}; ` +
      `resume with the same number of workers (--workers ${saved}${saved === 1 ? ', or none' : ''}), since every rank continues from its own data position`);
  }
}

export function createDataParallel(group: ProcessGroup, opts: DataParallelOptions = {}): DataParallel {
  const { rank, worldSize } = group;
  let stop = false;
  let last = { lossBytes: 0, reduceBytes: 0, lossMs: 0, reduceMs: 0 };
  // Set by syncLoader while a batch is out: fetches the next batch and returns this rank's votes for it, which the
  // step's gradient all-reduce carries (no separate collective, and no wait at one, per step).
  let prefetch: (() => Promise<Float32Array>) | undefined;
  let carried: Float32Array | undefined;
  const voteOf = (next: IteratorResult<LoaderBatch>) => Float32Array.of(next.done ? 0 : 1, opts.shouldStop?.() ? 1 : 0);
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  return {
    group, rank, worldSize,
    get stopRequested() { return stop; },
    get lastStep() { return { ...last }; },
    async computeGradients(model, micro) {
      const ask = prefetch;
      prefetch = undefined;
      const r = await ddpGradients(model, micro, group, opts, ask);
      if (ask) carried = r.extra;
      last = { lossBytes: r.lossBytes, reduceBytes: r.reduceBytes, lossMs: r.lossMs, reduceMs: r.reduceMs };
      return { loss: r.loss, grads: r.grads };
    },
    syncLoader(src) {
      // The position after the batch last handed out (the source itself may be one batch further, prefetched).
      let position: unknown = src.position();
      return {
        position: () => position,
        ...(src.close ? { close: () => src.close!() } : {}),
        async *[Symbol.asyncIterator](): AsyncGenerator<LoaderBatch> {
          const it = src[Symbol.asyncIterator]();
          let next!: IteratorResult<LoaderBatch>;
          let nextPos: unknown;
          let fetched = false;
          /** Fetches the batch after the one handed out, and the source's position after it. */
          const advance = async () => {
            next = await it.next();
            nextPos = src.position();
            fetched = true;
          };
          await advance();
          prof.lap('data');
          // [ranks with a batch, ranks asking to stop]: ranks can run out at different points of an epoch
          // (shards balanced to within one sample), and a stop must happen at the same step everywhere. The first
          // batch's votes take a collective of their own; later ones ride on the previous step's all-reduce.
          let votes = await group.allReduce(voteOf(next), 'sum');
          prof.lap('vote');
          try {
            for (;;) {
              if (votes[1]! > 0) stop = true;
              if (stop || votes[0]! < worldSize) return;
              const batch = next.value as LoaderBatch;
              position = nextPos;
              fetched = false;
              carried = undefined;
              prefetch = async () => {
                await advance();
                prof.lap('data');
                return voteOf(next);
              };
              yield batch;
              prefetch = undefined;
              if (carried) {
                votes = carried;
                carried = undefined;
              } else {
                // the step did not carry the votes (no computeGradients between two batches): vote on its own
                if (!fetched) await advance();
                votes = await group.allReduce(voteOf(next), 'sum');
                prof.lap('vote');
              }
            }
          } finally {
            prefetch = undefined;
            carried = undefined;
            await it.return?.();
          }
        },
      };
    },
    async gatherPositions(local) {
      const parts = await group.allGather(Float32Array.from(enc.encode(JSON.stringify(local ?? null))));
      return { worldSize, ranks: parts.map((p) => JSON.parse(dec.decode(Uint8Array.from(p))) as unknown) };
    },
    localPosition(saved) {
      if (saved === undefined || saved === null) return undefined;
      if (!isRankPositions(saved)) throw new Error(`data position: expected one position per rank (a distributed checkpoint), got ${JSON.stringify(saved).slice(0, 120)}`);
      checkResumeWorld(saved, worldSize, 'checkpoint');
      return saved.ranks[rank] ?? undefined;
    },
    barrier: () => group.barrier(),
  };
}

// The training input pipeline: per-epoch seeded shard order and shuffle buffer, rank split, decode + augment +
// preprocess in worker threads with prefetch, batching with the model's ImageProcessor and TextTokenizer, and an
// exact resume point after every batch.
import { cpus } from 'node:os';
import { createTransform, probeOutputSize, type AugmentOptions, type ImageProcessorLike, type SampleTransform } from './image-transform.js';
import { hashSeed } from './rng.js';
import { runSampleJob, type JobFailure, type JobResult } from './sample-job.js';
import { ShuffleStream, type StreamSnapshot } from './shuffle-stream.js';
import { SkipLog, type SkipReport, type SkippedSample } from './skip-log.js';
import type { DataRecord, Dataset } from './types.js';
import { WorkerPool } from './worker-pool.js';

export interface TokenizerLike {
  encode(texts: string[], opts?: { maxLength?: number; padding?: boolean | 'max_length' | 'longest' }): { inputIds: Int32Array; attentionMask: Int32Array; shape: readonly number[] };
}

export interface LoaderOptions {
  batchSize: number;
  seed: number;
  /** Records held in the shuffle buffer (default 0 for indexed datasets, whose shard order is already a full permutation; 1000 otherwise). */
  shuffleBuffer?: number;
  /** Shuffle at all (default true). */
  shuffle?: boolean;
  rank?: number;
  worldSize?: number;
  /** 'sample': every rank reads the stream and keeps every worldSize-th record (balanced to within one). 'shard': ranks take disjoint shards (less I/O, uneven counts). Default 'sample'. */
  splitBy?: 'sample' | 'shard';
  /** Worker threads for decode/augment/preprocess; 0 = on the calling thread (default min(2, cores - 1)). */
  workers?: number;
  /** Drop the last incomplete batch of each epoch (default false). */
  drop_last?: boolean;
  /** Epochs to run before the iterator ends, counted from 0 (default 1; Infinity for endless). */
  epochs?: number;
  /** Records decoded ahead of the consumer (default 2 × batchSize). */
  prefetch?: number;
  imageProcessor: ImageProcessorLike;
  /** The processor's preprocessor_config.json; needed with workers > 0 unless imageProcessor has a `config` field. */
  preprocessorConfig?: unknown;
  tokenizer: TokenizerLike;
  /** Passed to tokenizer.encode (default: the tokenizer's own convention). */
  maxLength?: number;
  augment?: boolean | AugmentOptions;
  resumeFrom?: LoaderPosition;
  /** Module URL exporting `createTransform(init)` to use instead of the built-in image pipeline. */
  transformModule?: string | URL;
  /** Called for every skipped record as it happens. */
  onSkip?: (s: SkippedSample) => void;
}

export interface LoaderPosition {
  version: 1;
  seed: number;
  rank: number;
  worldSize: number;
  /** Batches yielded so far in this epoch. */
  batchInEpoch: number;
  stream: StreamSnapshot | { epoch: number; start: true };
}

export interface Batch {
  pixelValues: Float32Array;
  pixelShape: [number, number, number, number]; // [B, 3, H, W]
  inputIds: Int32Array;
  attentionMask: Int32Array;
  textShape: [number, number]; // [B, L]
  captions: string[];
  labels?: Int32Array;
  keys: string[];
  metas: (Record<string, unknown> | undefined)[];
  epoch: number;
  /** Resume point after this batch (same as loader.position() right after it was yielded). */
  position: LoaderPosition;
}

export interface Loader extends AsyncIterable<Batch> {
  /** Resume point after the last batch yielded (JSON-serialisable). */
  position(): LoaderPosition;
  /** Skipped records so far: count, by reason, and examples with file and reason. */
  errors(): SkipReport;
  /** Ends the workers; iteration after close() is an error. */
  close(): Promise<void>;
}

/** The position at the start of `epoch` (to begin a loader at a later epoch without replaying earlier ones). */
export function epochStartPosition(o: { seed: number; epoch: number; rank?: number; worldSize?: number }): LoaderPosition {
  if (!Number.isInteger(o.epoch) || o.epoch < 0) throw new Error(`epochStartPosition: epoch must be an integer >= 0, got ${o.epoch}`);
  return { version: 1, seed: o.seed, rank: o.rank ?? 0, worldSize: o.worldSize ?? 1, batchInEpoch: 0, stream: { epoch: o.epoch, start: true } };
}

const DEFAULT_TRANSFORM = new URL('./image-transform.js', import.meta.url).href.replace(/\.js$/, import.meta.url.endsWith('.ts') ? '.ts' : '.js');

function positiveInt(name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`createLoader: ${name} must be a positive integer, got ${String(v)}`);
  return v as number;
}

export function createLoader(dataset: Dataset, opts: LoaderOptions): Loader {
  const batchSize = positiveInt('batchSize', opts.batchSize);
  const worldSize = positiveInt('worldSize', opts.worldSize ?? 1);
  const rank = opts.rank ?? 0;
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new Error(`createLoader: rank must be in [0, ${worldSize}), got ${rank}`);
  if (!Number.isFinite(opts.seed)) throw new Error(`createLoader: seed must be a number, got ${opts.seed}`);
  const workers = opts.workers ?? Math.max(0, Math.min(2, cpus().length - 1));
  if (!Number.isInteger(workers) || workers < 0) throw new Error(`createLoader: workers must be an integer >= 0, got ${workers}`);
  const epochs = opts.epochs ?? 1;
  const prefetch = opts.prefetch ?? 2 * batchSize;
  const splitBy = opts.splitBy ?? 'sample';
  if (splitBy !== 'sample' && splitBy !== 'shard') throw new Error(`createLoader: splitBy must be "sample" or "shard", got ${String(splitBy)}`);
  const augment = opts.augment === true ? {} : opts.augment || false;
  if (!opts.imageProcessor || typeof opts.imageProcessor.process !== 'function') throw new Error('createLoader: imageProcessor with process(images) is required');
  if (!opts.tokenizer || typeof opts.tokenizer.encode !== 'function') throw new Error('createLoader: tokenizer with encode(texts) is required');
  const skips = new SkipLog(1000, opts.onSkip);

  let pos: LoaderPosition = opts.resumeFrom ? checkPosition(opts.resumeFrom) : epochStartPosition({ seed: opts.seed, epoch: 0, rank, worldSize });
  let pool: WorkerPool | undefined;
  let inline: Promise<SampleTransform> | undefined;
  let closed = false;

  function checkPosition(p: LoaderPosition): LoaderPosition {
    if (p?.version !== 1 || !p.stream) throw new Error(`createLoader: resumeFrom is not a loader position (version 1), got ${JSON.stringify(p)?.slice(0, 200)}`);
    if (p.seed !== opts.seed || p.rank !== rank || p.worldSize !== worldSize) {
      throw new Error(`createLoader: resumeFrom was saved with seed ${p.seed}, rank ${p.rank}/${p.worldSize}; this loader has seed ${opts.seed}, rank ${rank}/${worldSize}`);
    }
    return structuredClone(p);
  }

  const preprocessorConfig = opts.preprocessorConfig ?? (opts.imageProcessor as { config?: unknown }).config;
  if (workers > 0 && preprocessorConfig === undefined && !opts.transformModule) {
    throw new Error('createLoader: workers > 0 need preprocessorConfig (or an imageProcessor with a config field); use workers: 0 to run the processor instance inline');
  }

  function startJob(rec: DataRecord, epoch: number): Promise<JobResult | JobFailure> {
    // Augmentation randomness is a function of (seed, epoch, sample), never of scheduling or rank.
    const seed = hashSeed(opts.seed, epoch, rec.shard, rec.offset, 'augment');
    if (pool) return pool.run(rec.image, seed);
    inline ??= opts.transformModule
      ? import(String(opts.transformModule)).then((m: { createTransform: typeof createTransform }) => m.createTransform({ augment }, opts.imageProcessor))
      : createTransform({ augment }, opts.imageProcessor);
    return inline.then((t) => runSampleJob(rec.image, seed, t));
  }

  function makeBatch(items: { rec: DataRecord; px: Float32Array }[], epoch: number, position: LoaderPosition): Batch {
    const b = items.length;
    const per = items[0]!.px.length;
    const pixelValues = new Float32Array(b * per);
    items.forEach((it, i) => {
      if (it.px.length !== per) throw new Error(`loader: sample ${it.rec.source} has ${it.px.length} pixel values, expected ${per} like the rest of the batch`);
      pixelValues.set(it.px, i * per);
    });
    const shape = pixelShape!;
    if (per !== shape[0] * shape[1] * shape[2]) throw new Error(`loader: transform output has ${per} values per sample, expected 3×${shape[1]}×${shape[2]} like imageProcessor`);
    const captions = items.map((it) => it.rec.caption);
    const enc = opts.tokenizer.encode(captions, opts.maxLength !== undefined ? { maxLength: opts.maxLength } : undefined);
    const hasLabels = items.every((it) => it.rec.label !== undefined);
    return {
      pixelValues, pixelShape: [b, shape[0], shape[1], shape[2]],
      inputIds: enc.inputIds, attentionMask: enc.attentionMask, textShape: [enc.shape[0]!, enc.shape[1]!],
      captions, ...(hasLabels ? { labels: Int32Array.from(items, (it) => it.rec.label!) } : {}),
      keys: items.map((it) => it.rec.key), metas: items.map((it) => it.rec.meta), epoch, position,
    };
  }

  let pixelShape: [number, number, number] | undefined;

  async function* iterate(): AsyncGenerator<Batch> {
    if (closed) throw new Error('loader: closed');
    // [3, H, W] from the processor itself, so any config (and non-square output) works.
    const { height, width } = await probeOutputSize(opts.imageProcessor);
    pixelShape = [3, height, width];
    if (workers > 0) pool = new WorkerPool(workers, String(opts.transformModule ?? DEFAULT_TRANSFORM), { preprocessorConfig, augment });
    try {
      await pool?.whenReady();
      while ((pos.stream.epoch) < epochs) {
        const epoch = pos.stream.epoch;
        const from = 'start' in pos.stream ? undefined : pos.stream;
        const stream = await ShuffleStream.open(dataset, epoch, {
          seed: opts.seed, shuffle: opts.shuffle ?? true, rank, worldSize, splitBy,
          shuffleBuffer: opts.shuffleBuffer ?? (dataset.indexed ? 0 : 1000),
        }, { epoch, skips }, from);
        const inflight: { rec: DataRecord; snap: StreamSnapshot; job: Promise<JobResult | JobFailure> }[] = [];
        let done = false;
        let batchInEpoch = pos.batchInEpoch;
        let items: { rec: DataRecord; px: Float32Array }[] = [];
        try {
          for (;;) {
            while (!done && inflight.length < Math.max(prefetch, 1)) {
              const rec = await stream.next();
              if (!rec) { done = true; break; }
              const job = startJob(rec, epoch);
              inflight.push({ rec, snap: stream.snapshot(epoch), job });
            }
            const head = inflight.shift();
            if (!head) break;
            const r = await head.job;
            if (!r.ok) { skips.add({ source: head.rec.source, key: head.rec.key, reason: r.error }); continue; }
            items.push({ rec: head.rec, px: r.pixels });
            if (items.length === batchSize) {
              batchInEpoch++;
              pos = { version: 1, seed: opts.seed, rank, worldSize, batchInEpoch, stream: head.snap };
              const batch = makeBatch(items, epoch, structuredClone(pos));
              items = [];
              yield batch;
            }
          }
        } finally {
          await stream.close();
        }
        const next = epochStartPosition({ seed: opts.seed, epoch: epoch + 1, rank, worldSize });
        pos = next;
        const startedEmpty = batchInEpoch === 0;
        if (items.length && !opts.drop_last) yield makeBatch(items, epoch, structuredClone(next));
        else if (startedEmpty && epochs > epoch + 1) {
          // A whole epoch without a batch would repeat forever (everything skipped, or fewer samples than a batch with drop_last).
          throw new Error(`loader: epoch ${epoch} of ${dataset.name} produced no batch (${skips.total} records skipped so far, see errors()); stopping instead of looping`);
        }
      }
    } finally {
      await pool?.close();
      pool = undefined;
    }
  }

  return {
    [Symbol.asyncIterator]: () => iterate(),
    position: () => structuredClone(pos),
    errors: () => skips.report(),
    async close() {
      closed = true;
      await pool?.close();
      pool = undefined;
    },
  };
}

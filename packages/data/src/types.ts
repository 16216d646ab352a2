// Shared data types. RawImage matches @duet/preprocess's RawImage (HWC, interleaved) structurally.
import type { SkipLog } from './skip-log.js';

export interface RawImage { data: Uint8Array | Uint8ClampedArray; width: number; height: number; channels: 1 | 3 | 4 }

/** A decoded example (contract type). */
export interface Sample { key: string; image: RawImage; caption: string; label?: number; meta?: Record<string, unknown> }

/** Where a record's pixels come from; decoding happens later (in a worker when the loader has workers). */
export type ImageSource =
  | { kind: 'raw'; image: RawImage }
  | { kind: 'bytes'; bytes: Uint8Array; ext: string }
  | { kind: 'file'; path: string };

/** An undecoded record. (shard, offset) locates it again, which is what makes exact resume possible. */
export interface DataRecord {
  key: string;
  caption: string;
  image: ImageSource;
  label?: number;
  meta?: Record<string, unknown>;
  /** Human-readable origin for error reports (file, shard or generator). */
  source: string;
  shard: number;
  offset: number;
}

export interface ReadContext {
  /** Epoch being read (datasets that sample captions per example use it so each epoch can differ). */
  epoch: number;
  skips: SkipLog;
}

/**
 * A dataset is a list of shards, each read sequentially. Indexed datasets (CSV, Fashion-MNIST, shapes) use one
 * record per shard, so the loader's shard permutation is a full per-sample permutation.
 */
export interface Dataset {
  readonly name: string;
  /** Number of shards. */
  shardCount(): Promise<number>;
  /** Label of shard i for reports (file path or index range). */
  shardName(i: number): string;
  /** Records of shard i starting at record offset `from`. Unreadable parts are reported to ctx.skips, never thrown. */
  readShard(i: number, from: number, ctx: ReadContext): AsyncIterable<DataRecord>;
  /** Records at the given offsets of shard i, in the order asked (used to rebuild a shuffle buffer on resume). */
  readRecords(i: number, offsets: readonly number[], ctx: ReadContext): Promise<DataRecord[]>;
  /** True when every shard is one record with random access (the shard permutation is then a full shuffle). */
  readonly indexed?: boolean;
  /** Total record count when known without a scan. */
  knownSize?(): number | undefined;
  /** Class names when the dataset is labelled (for zero-shot evaluation). */
  readonly classNames?: readonly string[];
}

/** Generic readRecords for sequential datasets: one scan of the shard from the smallest offset. */
export async function readRecordsByScan(ds: Dataset, i: number, offsets: readonly number[], ctx: ReadContext): Promise<DataRecord[]> {
  if (!offsets.length) return [];
  const want = new Set(offsets);
  const got = new Map<number, DataRecord>();
  const from = Math.min(...offsets);
  for await (const r of ds.readShard(i, from, ctx)) {
    if (want.has(r.offset)) got.set(r.offset, r);
    if (got.size === want.size) break;
  }
  const missing = offsets.filter((o) => !got.has(o));
  if (missing.length) throw new Error(`${ds.name}: shard ${ds.shardName(i)} no longer has records at offsets ${missing.slice(0, 5).join(', ')} (dataset changed since the position was saved?)`);
  return offsets.map((o) => got.get(o)!);
}

// The per-epoch record stream of one rank: seeded shard permutation → rank split → shuffle buffer.
// Its whole state (shard cursor, offset, records read, RNG, buffer locators) is a small JSON snapshot, and
// reopening from a snapshot continues with exactly the records the uninterrupted stream would have produced.
import { DataRng, hashSeed, type DataRngState } from './rng.js';
import type { DataRecord, Dataset, ReadContext } from './types.js';

export interface StreamSnapshot {
  epoch: number;
  /** Index into this epoch's shard order. */
  shardCursor: number;
  /** Next record offset to read within that shard. */
  offset: number;
  /** Records read so far this epoch, all ranks counted (the sample-level rank split uses it). */
  streamIndex: number;
  /** Shuffle-buffer RNG state. */
  rng: DataRngState;
  /** Buffer contents as flat [shard, offset, shard, offset, ...]. */
  buffer: number[];
}

export interface StreamOptions {
  seed: number;
  shuffle: boolean;
  shuffleBuffer: number;
  rank: number;
  worldSize: number;
  splitBy: 'sample' | 'shard';
}

export class ShuffleStream {
  private iter: AsyncIterator<DataRecord> | undefined;
  private exhausted = false;
  private readonly buf: DataRecord[] = [];

  private constructor(
    private readonly ds: Dataset,
    private readonly order: number[],
    private readonly opts: StreamOptions,
    private readonly ctx: ReadContext,
    private shardCursor: number,
    private offset: number,
    private streamIndex: number,
    private readonly rng: DataRng,
  ) {}

  static async open(ds: Dataset, epoch: number, opts: StreamOptions, ctx: ReadContext, from?: StreamSnapshot): Promise<ShuffleStream> {
    const n = await ds.shardCount();
    if (opts.splitBy === 'shard' && n < opts.worldSize) {
      throw new Error(`loader: splitBy "shard" needs at least worldSize (${opts.worldSize}) shards, ${ds.name} has ${n}; use splitBy "sample"`);
    }
    let order = Array.from({ length: n }, (_, i) => i);
    if (opts.shuffle) new DataRng(hashSeed(opts.seed, epoch, 'shards')).shuffle(order);
    if (opts.splitBy === 'shard') order = order.filter((_, j) => j % opts.worldSize === opts.rank);
    const rng = from ? DataRng.fromState(from.rng) : new DataRng(hashSeed(opts.seed, epoch, 'buffer', opts.rank));
    const s = new ShuffleStream(ds, order, opts, ctx, from?.shardCursor ?? 0, from?.offset ?? 0, from?.streamIndex ?? 0, rng);
    if (from?.buffer.length) {
      // Rebuild the buffer: group locators by shard so each shard is read once.
      const byShard = new Map<number, number[]>();
      for (let k = 0; k < from.buffer.length; k += 2) {
        const list = byShard.get(from.buffer[k]!) ?? [];
        list.push(from.buffer[k + 1]!);
        byShard.set(from.buffer[k]!, list);
      }
      const got = new Map<string, DataRecord>();
      for (const [shard, offsets] of byShard) {
        const recs = await ds.readRecords(shard, offsets, ctx);
        recs.forEach((r, k) => got.set(`${shard}:${offsets[k]}`, r));
      }
      for (let k = 0; k < from.buffer.length; k += 2) s.buf.push(got.get(`${from.buffer[k]}:${from.buffer[k + 1]}`)!);
    }
    return s;
  }

  /** Next record of this rank in read order (before the shuffle buffer), or undefined at the end of the epoch. */
  private async read(): Promise<DataRecord | undefined> {
    const { rank, worldSize, splitBy } = this.opts;
    while (this.shardCursor < this.order.length) {
      if (!this.iter) this.iter = this.ds.readShard(this.order[this.shardCursor]!, this.offset, this.ctx)[Symbol.asyncIterator]();
      const r = await this.iter.next();
      if (r.done) {
        this.iter = undefined;
        this.shardCursor++;
        this.offset = 0;
        continue;
      }
      this.offset = r.value.offset + 1;
      const g = this.streamIndex++;
      if (splitBy === 'sample' && g % worldSize !== rank) continue;
      return r.value;
    }
    return undefined;
  }

  /** Next record of the shuffled stream, or undefined at the end of the epoch. */
  async next(): Promise<DataRecord | undefined> {
    const cap = this.opts.shuffle ? Math.max(1, this.opts.shuffleBuffer) : 1;
    while (!this.exhausted && this.buf.length < cap) {
      const r = await this.read();
      if (!r) this.exhausted = true;
      else this.buf.push(r);
    }
    if (!this.buf.length) return undefined;
    const j = cap > 1 ? this.rng.int(this.buf.length) : 0;
    const out = this.buf[j]!;
    this.buf[j] = this.buf[this.buf.length - 1]!;
    this.buf.pop();
    return out;
  }

  snapshot(epoch: number): StreamSnapshot {
    const buffer = new Array<number>(this.buf.length * 2);
    for (let k = 0; k < this.buf.length; k++) { buffer[2 * k] = this.buf[k]!.shard; buffer[2 * k + 1] = this.buf[k]!.offset; }
    return { epoch, shardCursor: this.shardCursor, offset: this.offset, streamIndex: this.streamIndex, rng: this.rng.state(), buffer };
  }

  async close(): Promise<void> {
    await this.iter?.return?.();
    this.iter = undefined;
  }
}

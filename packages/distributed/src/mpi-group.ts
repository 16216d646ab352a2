// ProcessGroup over MPI (Open MPI through the N-API binding). Collectives are MPI's non-blocking ones, run on the
// binding's communication thread, so they overlap whatever the JS thread computes meanwhile. bytesSent counts what
// the ring algorithms of @duet/losses' cost model send (the threads group sends exactly that), so the distributed
// losses' bytesCommunicated agrees across groups; the bytes MPI really puts on the wire depend on its algorithm
// choice (see tools/bench/mpi-netns.bench.ts for measurements).
import type { ProcessGroup, ReduceOp } from '@duet/losses';
import { CollectiveError } from './thread-group.js';
import type { MpiInitInfo, MpiNative } from './mpi-native.js';

type Op = 'allGather' | 'allReduce' | 'reduceScatter' | 'broadcast' | 'sendRecv' | 'barrier';

function evenCounts(len: number, w: number): number[] {
  return Array.from({ length: w }, (_, i) => Math.floor((len * (i + 1)) / w) - Math.floor((len * i) / w));
}

export class MpiGroup implements ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  /** Ranks' process ids and host names (from MPI_Init time), for failure messages. */
  readonly pids: Int32Array;
  readonly hosts: string[];
  readonly libraryVersion: string;
  readonly threadLevel: number;
  private sent = 0;
  private seq = 0;
  /** Operations in flight, by sequence number: what this rank was waiting in when it is stopped. */
  readonly inFlight = new Map<number, Op>();
  private failure: CollectiveError | undefined;

  constructor(
    private readonly native: MpiNative,
    info: MpiInitInfo,
  ) {
    this.rank = info.rank;
    this.worldSize = info.size;
    this.pids = info.pids;
    this.hosts = info.hosts;
    this.libraryVersion = info.libraryVersion;
    this.threadLevel = info.threadLevel;
  }

  get bytesSent(): number {
    return this.sent;
  }

  /** The first collective failure (timeout, MPI error); later calls fail with it. */
  get failed(): CollectiveError | undefined {
    return this.failure;
  }

  async allGather(x: Float32Array): Promise<Float32Array[]> {
    this.checkBuffer('allGather', x);
    const { data, counts } = await this.track('allGather', () => this.native.allgatherv(x));
    // Ring all-gather: every block but the right neighbour's passes through this rank once.
    if (this.worldSize > 1) this.sent += 4 * (data.length - counts[(this.rank + 1) % this.worldSize]!);
    const out: Float32Array[] = [];
    let off = 0;
    for (const c of counts) {
      out.push(data.subarray(off, off + c));
      off += c;
    }
    return out;
  }

  async allReduce(x: Float32Array, op: ReduceOp = 'sum'): Promise<Float32Array> {
    this.checkBuffer('allReduce', x);
    this.checkOp('allReduce', op);
    const out = await this.track('allReduce', () => this.native.allreduce(x));
    if (out.length !== x.length) throw new CollectiveError(`mpi group: allReduce returned ${out.length} values for ${x.length}`, -1);
    const c = evenCounts(x.length, this.worldSize);
    // Ring all-reduce = reduce-scatter (every chunk but our own) + all-gather (every chunk but the right neighbour's).
    if (this.worldSize > 1) this.sent += 4 * (2 * x.length - c[this.rank]! - c[(this.rank + 1) % this.worldSize]!);
    if (op === 'mean') for (let i = 0; i < out.length; i++) out[i]! /= this.worldSize;
    return out;
  }

  async reduceScatter(x: Float32Array, counts: number[], op: ReduceOp = 'sum'): Promise<Float32Array> {
    this.checkBuffer('reduceScatter', x);
    this.checkOp('reduceScatter', op);
    if (counts.length !== this.worldSize || counts.some((c) => !Number.isInteger(c) || c < 0) || counts.reduce((a, b) => a + b, 0) !== x.length) {
      throw new Error(`reduceScatter: counts must be ${this.worldSize} non-negative integers summing to ${x.length}, got [${counts.join(', ')}]`);
    }
    const out = await this.track('reduceScatter', () => this.native.reduceScatter(x, counts));
    if (this.worldSize > 1) this.sent += 4 * (x.length - counts[this.rank]!);
    if (op === 'mean') for (let i = 0; i < out.length; i++) out[i]! /= this.worldSize;
    return out;
  }

  async broadcast(x: Float32Array, root: number): Promise<Float32Array> {
    this.checkBuffer('broadcast', x);
    this.checkRank(root, 'broadcast root');
    const out = await this.track('broadcast', () => this.native.bcast(x, root));
    // Ring pipeline from the root: every rank but the last in the chain forwards the buffer once.
    if ((this.rank - root + this.worldSize) % this.worldSize < this.worldSize - 1) this.sent += out.byteLength;
    return out;
  }

  async sendRecv(x: Float32Array, to: number, from: number): Promise<Float32Array> {
    this.checkBuffer('sendRecv', x);
    this.checkRank(to, 'sendRecv to');
    this.checkRank(from, 'sendRecv from');
    this.sent += x.byteLength;
    return this.track('sendRecv', () => this.native.sendrecv(x, to, from));
  }

  async barrier(): Promise<void> {
    await this.track('barrier', () => this.native.barrier());
  }

  private async track<T>(op: Op, call: () => Promise<T>): Promise<T> {
    if (this.failure) throw this.failure;
    const seq = this.seq++;
    this.inFlight.set(seq, op);
    try {
      return await call();
    } catch (e) {
      const err = e as Error & { blamedRank?: number; seq?: number };
      if (typeof err.seq !== 'number') throw e; // bad arguments, rejected before reaching MPI: the group is fine
      const ce = new CollectiveError(err.message, typeof err.blamedRank === 'number' ? err.blamedRank : -1);
      this.failure ??= ce;
      throw ce;
    } finally {
      this.inFlight.delete(seq);
    }
  }

  private checkBuffer(what: string, x: unknown): void {
    if (!(x instanceof Float32Array)) {
      const got = x === null ? 'null' : ArrayBuffer.isView(x) ? x.constructor.name : Array.isArray(x) ? 'an array' : typeof x;
      throw new TypeError(`${what}: expected a Float32Array, got ${got}`);
    }
  }

  private checkOp(what: string, op: ReduceOp): void {
    if (op !== 'sum' && op !== 'mean') throw new Error(`${what}: op must be 'sum' or 'mean', got ${String(op)}`);
  }

  private checkRank(r: number, what: string): void {
    if (!Number.isInteger(r) || r < 0 || r >= this.worldSize) throw new Error(`${what}: expected a rank in [0, ${this.worldSize}), got ${r}`);
  }
}

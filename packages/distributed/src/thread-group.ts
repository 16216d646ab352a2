// ProcessGroup over a ThreadWorld (SharedArrayBuffer pipes between worker threads). Collectives follow the ring
// algorithms NCCL/Gloo use (and @duet/losses' simulated group models), so bytesSent matches the cost model:
// all-gather W−1 steps, all-reduce = reduce-scatter + all-gather, broadcast a ring pipeline from the root,
// barrier a dissemination barrier (⌈log2 W⌉ rounds of empty messages).
import type { ProcessGroup, ReduceOp } from '@duet/losses';
import { Pipe } from './pipe.js';
import { DONE, FAILED, type ThreadWorld } from './world.js';

const TAGS = { allGather: 1, allReduce: 2, reduceScatter: 3, broadcast: 4, barrier: 5, sendRecv: 6 } as const;
type Op = keyof typeof TAGS;
const TAG_NAMES = Object.fromEntries(Object.entries(TAGS).map(([k, v]) => [v, k])) as Record<number, Op>;

/** Thrown when a peer failed, finished early, or did not answer within the timeout. */
export class CollectiveError extends Error {
  constructor(
    message: string,
    /** The rank blamed: the first rank that failed, or the peer that did not answer. */
    readonly blamedRank: number,
  ) {
    super(message);
    this.name = 'CollectiveError';
  }
}

function evenCounts(len: number, w: number): number[] {
  return Array.from({ length: w }, (_, i) => Math.floor((len * (i + 1)) / w) - Math.floor((len * i) / w));
}

export class ThreadGroup implements ProcessGroup {
  readonly worldSize: number;
  private sent = 0;
  private readonly control: Int32Array;
  private readonly pipes: Pipe[];

  constructor(
    readonly rank: number,
    private readonly world: ThreadWorld,
  ) {
    this.worldSize = world.worldSize;
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.worldSize) throw new Error(`threads group: rank must be in [0, ${this.worldSize}), got ${rank}`);
    this.control = new Int32Array(world.control);
    this.pipes = world.pipes.map((b) => new Pipe(b));
  }

  get bytesSent(): number {
    return this.sent;
  }

  async allGather(x: Float32Array): Promise<Float32Array[]> {
    const { rank: r, worldSize: w } = this;
    const have: Float32Array[] = new Array<Float32Array>(w);
    have[r] = x.slice();
    for (let s = 0; s < w - 1; s++) {
      // Step s: forward block (r − s) to the right, receive block (r − s − 1) from the left.
      const [, got] = await Promise.all([this.send('allGather', have[(r - s + w) % w]!, (r + 1) % w), this.recv('allGather', (r - 1 + w) % w)]);
      have[(r - s - 1 + w) % w] = got;
    }
    return have;
  }

  async allReduce(x: Float32Array, op: ReduceOp = 'sum'): Promise<Float32Array> {
    return this.ringReduce('allReduce', x.slice(), evenCounts(x.length, this.worldSize), op, true);
  }

  /**
   * allReduce that overwrites `x` with the result and returns it: no buffer is allocated (received chunks are
   * added or copied straight from the shared slot). For per-step gradient buffers, whose allocation churn
   * (ArrayBuffers count as external memory) otherwise drives extra GCs.
   */
  async allReduceInPlace(x: Float32Array, op: ReduceOp = 'sum'): Promise<Float32Array> {
    return this.ringReduce('allReduce', x, evenCounts(x.length, this.worldSize), op, true);
  }

  async reduceScatter(x: Float32Array, counts: number[], op: ReduceOp = 'sum'): Promise<Float32Array> {
    if (counts.length !== this.worldSize || counts.some((c) => !Number.isInteger(c) || c < 0) || counts.reduce((a, b) => a + b, 0) !== x.length) {
      throw new Error(`reduceScatter: counts must be ${this.worldSize} non-negative integers summing to ${x.length}, got [${counts.join(', ')}]`);
    }
    return this.ringReduce('reduceScatter', x.slice(), counts, op, false);
  }

  async broadcast(x: Float32Array, root: number): Promise<Float32Array> {
    this.checkRank(root, 'broadcast root');
    const { rank: r, worldSize: w } = this;
    const pos = (r - root + w) % w; // position in the chain root → root+1 → …
    const data = pos === 0 ? x.slice() : await this.recv('broadcast', (r - 1 + w) % w);
    if (pos < w - 1) await this.send('broadcast', data, (r + 1) % w);
    return data;
  }

  async sendRecv(x: Float32Array, to: number, from: number): Promise<Float32Array> {
    this.checkRank(to, 'sendRecv to');
    this.checkRank(from, 'sendRecv from');
    const [, got] = await Promise.all([this.send('sendRecv', x, to), this.recv('sendRecv', from)]);
    return got;
  }

  async barrier(): Promise<void> {
    const { rank: r, worldSize: w } = this;
    const empty = new Float32Array(0);
    for (let k = 1; k < w; k *= 2) await Promise.all([this.send('barrier', empty, (r + k) % w), this.recv('barrier', (r - k + w) % w)]);
  }

  /** Ring reduce over `buf` in place (callers pass a copy unless the caller's buffer may be overwritten). */
  private async ringReduce(op: Op, buf: Float32Array, counts: number[], reduce: ReduceOp, gather: boolean): Promise<Float32Array> {
    const { rank: r, worldSize: w } = this;
    if (reduce !== 'sum' && reduce !== 'mean') throw new Error(`${op}: op must be 'sum' or 'mean', got ${String(reduce)}`);
    const starts = counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0));
    const chunk = (c: number) => buf.subarray(starts[c]!, starts[c]! + counts[c]!);
    const right = (r + 1) % w;
    const left = (r - 1 + w) % w;
    const expect = (dst: Float32Array, total: number) => {
      if (total !== dst.length) throw new Error(`${op}: rank ${left} sent ${total} values where rank ${r} expected ${dst.length} (buffers must have equal lengths on every rank)`);
    };
    // Reduce-scatter: at step s send chunk (r − s − 1) right, add chunk (r − s − 2) from the left; rank r ends owning chunk r.
    // Received values are added straight out of the shared slot (no intermediate array).
    for (let s = 0; s < w - 1; s++) {
      const dst = chunk((r - s - 2 + 2 * w) % w);
      await Promise.all([this.send(op, chunk((r - s - 1 + 2 * w) % w), right), this.recvWith(op, left, (c, off, total) => {
        expect(dst, total);
        for (let i = 0; i < c.length; i++) dst[off + i]! += c[i]!;
      })]);
    }
    const own = chunk(r);
    if (reduce === 'mean') for (let i = 0; i < own.length; i++) own[i]! /= w;
    if (!gather) return own.slice();
    for (let s = 0; s < w - 1; s++) {
      const dst = chunk((r - s - 1 + w) % w);
      await Promise.all([this.send(op, chunk((r - s + w) % w), right), this.recvWith(op, left, (c, off, total) => {
        expect(dst, total);
        dst.set(c, off);
      })]);
    }
    return buf;
  }

  private send(op: Op, x: Float32Array, to: number): Promise<void> {
    this.sent += x.byteLength;
    return this.pipes[this.rank * this.worldSize + to]!.send(x, TAGS[op], this.guard(op, to, 'send to'));
  }

  private recv(op: Op, from: number): Promise<Float32Array> {
    return this.pipes[from * this.worldSize + this.rank]!.recv(TAGS[op], this.guard(op, from, 'receive from'), this.mismatch(op, from));
  }

  private recvWith(op: Op, from: number, sink: (chunk: Float32Array, offset: number, total: number) => void): Promise<number> {
    return this.pipes[from * this.worldSize + this.rank]!.recvWith(TAGS[op], this.guard(op, from, 'receive from'), this.mismatch(op, from), sink);
  }

  private mismatch(op: Op, from: number): (sentTag: number) => never {
    return (sentTag) => {
      throw new Error(`threads group: rank ${this.rank} is in ${op} but rank ${from} sent a message for ${TAG_NAMES[sentTag] ?? `tag ${sentTag}`} (ranks must call collectives in the same order)`);
    };
  }

  /** Fails a wait when any rank failed, the awaited peer already finished, or nothing arrived in time. */
  private guard(op: Op, peer: number, what: string): () => void {
    const deadline = Date.now() + this.world.timeoutMs;
    return () => {
      const failed = Atomics.load(this.control, 0) - 1;
      if (failed >= 0 && failed !== this.rank) {
        throw new CollectiveError(`threads group: rank ${failed} failed while rank ${this.rank} was in ${op} waiting to ${what} rank ${peer}`, failed);
      }
      const peerStatus = Atomics.load(this.control, 1 + peer);
      if (peer !== this.rank && peerStatus === DONE) throw new CollectiveError(`threads group: rank ${peer} finished without joining ${op} (rank ${this.rank} waited to ${what} it)`, peer);
      if (peer !== this.rank && peerStatus === FAILED) throw new CollectiveError(`threads group: rank ${peer} failed while rank ${this.rank} was in ${op} waiting to ${what} it`, peer);
      if (Date.now() > deadline) {
        throw new CollectiveError(`threads group: timed out after ${this.world.timeoutMs} ms: rank ${this.rank} in ${op} waiting to ${what} rank ${peer}`, peer);
      }
    };
  }

  private checkRank(r: number, what: string): void {
    if (!Number.isInteger(r) || r < 0 || r >= this.worldSize) throw new Error(`${what}: expected a rank in [0, ${this.worldSize}), got ${r}`);
  }
}

/** The ProcessGroup of `rank` in a world made by createThreadWorld (call inside the rank's thread). */
export function createThreadGroup(world: ThreadWorld, rank: number): ProcessGroup {
  return new ThreadGroup(rank, world);
}

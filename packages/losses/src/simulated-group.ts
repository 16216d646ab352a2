// In-process ProcessGroup: `worldSize` ranks in one JS realm (run them concurrently, e.g. Promise.all).
// Collectives really move copies between per-rank buffers following the ring algorithms a real backend
// uses (NCCL/Gloo-style), and each rank's sent bytes are counted as those algorithms send them.
import type { ProcessGroup, ReduceOp } from './process-group.js';

type Kind = 'allGather' | 'allReduce' | 'reduceScatter' | 'broadcast' | 'barrier';

interface Pending {
  kind: Kind;
  inputs: (Float32Array | undefined)[];
  arg: unknown;
  resolvers: ((v: Float32Array | Float32Array[]) => void)[];
  rejecters: ((e: Error) => void)[];
  arrived: number;
  failed?: Error;
}

class World {
  readonly sent: number[];
  private readonly pending = new Map<number, Pending>();
  private readonly seq: number[];
  private readonly mail = new Map<string, { queue: Float32Array[]; waiters: ((v: Float32Array) => void)[] }>();

  constructor(readonly size: number) {
    this.sent = new Array<number>(size).fill(0);
    this.seq = new Array<number>(size).fill(0);
  }

  collective(rank: number, kind: Kind, x: Float32Array | undefined, arg: unknown): Promise<Float32Array | Float32Array[]> {
    const id = this.seq[rank]!++;
    let p = this.pending.get(id);
    if (!p) {
      p = { kind, inputs: new Array(this.size), arg, resolvers: new Array(this.size), rejecters: new Array(this.size), arrived: 0 };
      this.pending.set(id, p);
    }
    const entry = p;
    return new Promise((resolve, reject) => {
      if (entry.failed) {
        if (++entry.arrived === this.size) this.pending.delete(id);
        return reject(entry.failed);
      }
      if (entry.kind !== kind) {
        // Fail the whole collective so that no rank waits forever for a partner that went elsewhere.
        entry.failed = new Error(`simulated group: rank ${rank} called ${kind} while other ranks called ${entry.kind} (collective #${id})`);
        entry.rejecters.forEach((rej) => rej(entry.failed!));
        if (++entry.arrived === this.size) this.pending.delete(id);
        return reject(entry.failed);
      }
      entry.inputs[rank] = x ? x.slice() : undefined; // the rank's buffer is copied out
      entry.resolvers[rank] = resolve;
      entry.rejecters[rank] = reject;
      if (++entry.arrived < this.size) return;
      this.pending.delete(id);
      try {
        const out = this.run(entry);
        out.forEach((v, r) => entry.resolvers[r]!(v));
      } catch (e) {
        entry.rejecters.forEach((rej) => rej(e as Error));
      }
    });
  }

  private run(p: Pending): (Float32Array | Float32Array[])[] {
    const w = this.size;
    const xs = p.inputs as Float32Array[];
    switch (p.kind) {
      case 'barrier':
        return xs.map(() => new Float32Array(0));
      case 'broadcast': {
        const root = p.arg as number;
        // Ring pipeline: every rank except the last in the chain forwards the buffer once.
        for (let k = 0; k < w - 1; k++) this.sent[(root + k) % w]! += xs[root]!.byteLength;
        return xs.map(() => xs[root]!.slice());
      }
      case 'allGather': {
        // Ring all-gather: W−1 steps; at step s rank r forwards block (r − s) to r + 1.
        const have: (Float32Array | undefined)[][] = xs.map((x, r) => xs.map((_, q) => (q === r ? x : undefined)));
        for (let s = 0; s < w - 1; s++) {
          const moves = xs.map((_, r) => ({ to: (r + 1) % w, block: (r - s + w) % w, data: have[r]![(r - s + w) % w]! }));
          for (const m of moves) {
            this.sent[(m.to - 1 + w) % w]! += m.data.byteLength;
            have[m.to]![m.block] = m.data.slice();
          }
        }
        return have.map((h) => h.map((b) => b!));
      }
      case 'allReduce':
      case 'reduceScatter': {
        const len = xs[0]!.length;
        if (xs.some((x) => x.length !== len)) throw new Error(`simulated group: ${p.kind} needs equal lengths, got ${xs.map((x) => x.length).join(', ')}`);
        const { op, counts } = p.arg as { op: ReduceOp; counts: number[] };
        const starts = counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0));
        const bufs = xs.map((x) => x.slice());
        const chunk = (r: number, c: number) => bufs[r]!.subarray(starts[c]!, starts[c]! + counts[c]!);
        // Reduce-scatter: at step s rank r sends chunk (r − s − 1) to r + 1, which adds it; rank r ends owning chunk r.
        for (let s = 0; s < w - 1; s++) {
          const moves = xs.map((_, r) => ({ from: r, c: (r - s - 1 + 2 * w) % w, data: chunk(r, (r - s - 1 + 2 * w) % w).slice() }));
          for (const m of moves) {
            this.sent[m.from]! += m.data.byteLength;
            const dst = chunk((m.from + 1) % w, m.c);
            for (let i = 0; i < dst.length; i++) dst[i]! += m.data[i]!;
          }
        }
        if (op === 'mean') for (let r = 0; r < w; r++) chunk(r, r).forEach((v, i, a) => (a[i] = v / w));
        if (p.kind === 'reduceScatter') return bufs.map((_, r) => chunk(r, r).slice());
        // All-gather of the reduced chunks: at step s rank r sends chunk (r − s) to r + 1.
        for (let s = 0; s < w - 1; s++) {
          const moves = xs.map((_, r) => ({ from: r, c: (r - s + w) % w, data: chunk(r, (r - s + w) % w).slice() }));
          for (const m of moves) {
            this.sent[m.from]! += m.data.byteLength;
            chunk((m.from + 1) % w, m.c).set(m.data);
          }
        }
        return bufs;
      }
    }
  }

  send(from: number, to: number, x: Float32Array): void {
    this.sent[from]! += x.byteLength;
    const box = this.box(from, to);
    const copy = x.slice();
    const waiter = box.waiters.shift();
    if (waiter) waiter(copy);
    else box.queue.push(copy);
  }

  recv(from: number, to: number): Promise<Float32Array> {
    const box = this.box(from, to);
    const msg = box.queue.shift();
    return msg ? Promise.resolve(msg) : new Promise((resolve) => box.waiters.push(resolve));
  }

  private box(from: number, to: number) {
    const key = `${from}>${to}`;
    let b = this.mail.get(key);
    if (!b) this.mail.set(key, (b = { queue: [], waiters: [] }));
    return b;
  }
}

function evenCounts(len: number, w: number): number[] {
  return Array.from({ length: w }, (_, i) => Math.floor((len * (i + 1)) / w) - Math.floor((len * i) / w));
}

class SimulatedGroup implements ProcessGroup {
  constructor(
    readonly rank: number,
    private readonly world: World,
  ) {}
  get worldSize(): number {
    return this.world.size;
  }
  get bytesSent(): number {
    return this.world.sent[this.rank]!;
  }
  async allGather(x: Float32Array): Promise<Float32Array[]> {
    return (await this.world.collective(this.rank, 'allGather', x, undefined)) as Float32Array[];
  }
  async allReduce(x: Float32Array, op: ReduceOp = 'sum'): Promise<Float32Array> {
    const all = (await this.world.collective(this.rank, 'allReduce', x, { op, counts: evenCounts(x.length, this.worldSize) })) as Float32Array;
    return all;
  }
  async reduceScatter(x: Float32Array, counts: number[], op: ReduceOp = 'sum'): Promise<Float32Array> {
    if (counts.length !== this.worldSize || counts.reduce((a, b) => a + b, 0) !== x.length) {
      throw new Error(`reduceScatter: counts must have ${this.worldSize} entries summing to ${x.length}, got [${counts.join(', ')}]`);
    }
    return (await this.world.collective(this.rank, 'reduceScatter', x, { op, counts })) as Float32Array;
  }
  async broadcast(x: Float32Array, root: number): Promise<Float32Array> {
    this.checkRank(root, 'broadcast root');
    return (await this.world.collective(this.rank, 'broadcast', x, root)) as Float32Array;
  }
  async sendRecv(x: Float32Array, to: number, from: number): Promise<Float32Array> {
    this.checkRank(to, 'sendRecv to');
    this.checkRank(from, 'sendRecv from');
    this.world.send(this.rank, to, x);
    return this.world.recv(from, this.rank);
  }
  async barrier(): Promise<void> {
    await this.world.collective(this.rank, 'barrier', undefined, undefined);
  }
  private checkRank(r: number, what: string): void {
    if (!Number.isInteger(r) || r < 0 || r >= this.worldSize) throw new Error(`${what}: expected a rank in [0, ${this.worldSize}), got ${r}`);
  }
}

/** `worldSize` connected in-process ranks; index i is rank i. */
export function createSimulatedGroups(worldSize: number): ProcessGroup[] {
  if (!Number.isInteger(worldSize) || worldSize < 1) throw new Error(`createSimulatedGroups: worldSize must be a positive integer, got ${worldSize}`);
  const world = new World(worldSize);
  return Array.from({ length: worldSize }, (_, r) => new SimulatedGroup(r, world));
}

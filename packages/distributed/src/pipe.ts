// One-directional message pipe between two threads over a SharedArrayBuffer: a fixed-size slot that carries a
// message in chunks (so any length fits), with Atomics sequence counters as the handshake. The writer owns WSEQ,
// the reader owns RSEQ; the slot is empty when they are equal. Waits are async (Atomics.waitAsync) and sliced
// so that a failed peer or a timeout is noticed promptly instead of hanging.

const WSEQ = 0;
const RSEQ = 1;
const CHUNK = 2; // floats in the slot
const TOTAL = 3; // floats in the whole message
const TAG = 4; // what the sender meant this message for (collective kind), checked by the reader
const HEADER_BYTES = 32;

/** Called between wait slices; throws to abandon the wait (peer failed, deadline passed). */
export type WaitGuard = () => void;

export const POLL_MS = 25;

export function pipeBufferBytes(capacityBytes: number): number {
  return HEADER_BYTES + Math.max(4, capacityBytes - (capacityBytes % 4));
}

// Atomics.waitAsync is in Node ≥ 16 but only in TypeScript's es2024 lib; type the part we use.
type WaitAsync = (a: Int32Array, index: number, value: number, timeoutMs: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

// A pending Atomics.waitAsync does not keep Node's event loop alive: without a ref'd handle a worker whose
// only work is a wait would simply exit. One shared interval is held while any wait is in progress.
let waiting = 0;
let keepAlive: ReturnType<typeof setInterval> | undefined;

async function waitWhile(ctl: Int32Array, idx: number, value: number, guard: WaitGuard): Promise<void> {
  if (Atomics.load(ctl, idx) !== value) return;
  if (waiting++ === 0) keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    while (Atomics.load(ctl, idx) === value) {
      guard();
      const r = waitAsync(ctl, idx, value, POLL_MS);
      if (r.async) await r.value;
    }
  } finally {
    if (--waiting === 0) clearInterval(keepAlive);
  }
}

export class Pipe {
  private readonly ctl: Int32Array;
  private readonly slot: Float32Array;
  private sendChain: Promise<unknown> = Promise.resolve();
  private recvChain: Promise<unknown> = Promise.resolve();

  constructor(readonly buffer: SharedArrayBuffer) {
    this.ctl = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.slot = new Float32Array(buffer, HEADER_BYTES);
  }

  /** Messages on one pipe stay in order: concurrent sends (and receives) are queued. */
  send(x: Float32Array, tag: number, guard: WaitGuard): Promise<void> {
    const run = this.sendChain.then(() => this.sendNow(x, tag, guard));
    this.sendChain = run.catch(() => undefined);
    return run;
  }

  recv(tag: number, guard: WaitGuard, mismatch: (sentTag: number) => never): Promise<Float32Array> {
    let out: Float32Array | undefined;
    return this.recvWith(tag, guard, mismatch, (chunk, off, total) => {
      out ??= new Float32Array(total);
      out.set(chunk, off);
    }).then(() => out ?? new Float32Array(0));
  }

  /**
   * Receives one message chunk by chunk straight out of the shared slot: `sink(chunk, offset, total)` must copy
   * or consume `chunk` before returning (the slot is reused). No buffer is allocated (collectives that add or
   * place the values where they belong avoid an intermediate array per message). Resolves to the total length.
   */
  recvWith(tag: number, guard: WaitGuard, mismatch: (sentTag: number) => never, sink: (chunk: Float32Array, offset: number, total: number) => void): Promise<number> {
    const run = this.recvChain.then(() => this.recvNow(tag, guard, mismatch, sink));
    this.recvChain = run.catch(() => undefined);
    return run;
  }

  private async sendNow(x: Float32Array, tag: number, guard: WaitGuard): Promise<void> {
    const cap = this.slot.length;
    let off = 0;
    do {
      const w = Atomics.load(this.ctl, WSEQ);
      // Wait for the reader to drain the previous chunk.
      for (let r = Atomics.load(this.ctl, RSEQ); r !== w; r = Atomics.load(this.ctl, RSEQ)) await waitWhile(this.ctl, RSEQ, r, guard);
      const n = Math.min(cap, x.length - off);
      this.slot.set(x.subarray(off, off + n));
      Atomics.store(this.ctl, CHUNK, n);
      Atomics.store(this.ctl, TOTAL, x.length);
      Atomics.store(this.ctl, TAG, tag);
      Atomics.add(this.ctl, WSEQ, 1); // publishes the slot writes above (seq-cst)
      Atomics.notify(this.ctl, WSEQ);
      off += n;
    } while (off < x.length);
  }

  private async recvNow(tag: number, guard: WaitGuard, mismatch: (sentTag: number) => never, sink: (chunk: Float32Array, offset: number, total: number) => void): Promise<number> {
    let got = 0;
    let total = 0;
    do {
      const r = Atomics.load(this.ctl, RSEQ);
      await waitWhile(this.ctl, WSEQ, r, guard);
      const sentTag = Atomics.load(this.ctl, TAG);
      if (sentTag !== tag) mismatch(sentTag);
      const n = Atomics.load(this.ctl, CHUNK);
      total = Atomics.load(this.ctl, TOTAL);
      try {
        sink(this.slot.subarray(0, n), got, total);
      } finally {
        // the chunk is released even when the sink throws, so the sender is not left waiting on a full slot
        got += n;
        Atomics.add(this.ctl, RSEQ, 1);
        Atomics.notify(this.ctl, RSEQ);
      }
    } while (got < total);
    return total;
  }
}

// The collectives script shared by the in-thread and worker tests. Inputs: x_r[i] = 100·r + i.
import type { ProcessGroup } from '../src/index.js';

export const LEN = 37; // not divisible by 2 or 3: uneven ring chunks

export function input(rank: number, len = LEN): Float32Array {
  return Float32Array.from({ length: len }, (_, i) => 100 * rank + i);
}

export interface ScriptResult {
  gathered: number[][];
  gatherBytes: number;
  sum: number[];
  mean: number[];
  reduceBytes: number;
  scattered: number[];
  broadcast: number[];
  ring: number[];
  big: number[];
}

export async function runScript(g: ProcessGroup): Promise<ScriptResult> {
  const w = g.worldSize;
  const r = g.rank;
  const b0 = g.bytesSent;
  // Ragged all-gather: rank r contributes r + 1 values.
  const gathered = (await g.allGather(input(r, r + 1))).map((a) => [...a]);
  const b1 = g.bytesSent;
  const sum = [...(await g.allReduce(input(r), 'sum'))];
  const b2 = g.bytesSent;
  const mean = [...(await g.allReduce(input(r), 'mean'))];
  const counts = Array.from({ length: w }, (_, i) => i + 1);
  const total = counts.reduce((a, c) => a + c, 0);
  const scattered = [...(await g.reduceScatter!(input(r, total), counts, 'sum'))];
  const broadcast = [...(await g.broadcast(r === w - 1 ? input(r) : new Float32Array(LEN), w - 1))];
  const ring = [...(await g.sendRecv(input(r), (r + 1) % w, (r - 1 + w) % w))];
  await g.barrier();
  // Larger than a small pipe slot: travels in several chunks.
  const big = [...(await g.allReduce(input(r, 5000), 'sum'))];
  await g.barrier();
  return { gathered, gatherBytes: b1 - b0, sum, mean, reduceBytes: b2 - b1, scattered, broadcast, ring, big };
}

/** Closed-form expectations for worldSize w. */
export function expected(w: number, r: number) {
  const ranks = Array.from({ length: w }, (_, q) => q);
  const sumAt = (i: number) => ranks.reduce((a, q) => a + 100 * q + i, 0);
  const counts = ranks.map((q) => q + 1);
  const start = counts.slice(0, r).reduce((a, c) => a + c, 0);
  return {
    gathered: ranks.map((q) => Array.from({ length: q + 1 }, (_, i) => 100 * q + i)),
    sum: Array.from({ length: LEN }, (_, i) => sumAt(i)),
    mean: Array.from({ length: LEN }, (_, i) => sumAt(i) / w),
    scattered: Array.from({ length: r + 1 }, (_, i) => sumAt(start + i)),
    broadcast: [...input(w - 1)],
    ring: [...input((r - 1 + w) % w)],
    big: Array.from({ length: 5000 }, (_, i) => sumAt(i)),
  };
}

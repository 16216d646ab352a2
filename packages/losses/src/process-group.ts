// The communication interface the distributed losses need. @duet/distributed implements it over real
// transports; this package only ships an in-process simulation (simulated-group.ts) for tests and benchmarks.

export type ReduceOp = 'sum' | 'mean';

export interface ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  /** Every rank's buffer, indexed by rank (lengths may differ). */
  allGather(x: Float32Array): Promise<Float32Array[]>;
  /** Element-wise reduction of equal-length buffers; every rank gets the result. */
  allReduce(x: Float32Array, op?: ReduceOp): Promise<Float32Array>;
  /**
   * Optional: element-wise reduction of equal-length buffers, rank r receiving only the slice
   * [Σ counts[<r], Σ counts[≤r]). When absent the losses fall back to allReduce and slice (twice the bytes).
   */
  reduceScatter?(x: Float32Array, counts: number[], op?: ReduceOp): Promise<Float32Array>;
  broadcast(x: Float32Array, root: number): Promise<Float32Array>;
  /** Sends x to rank `to` and returns what rank `from` sent to this rank (the ring/neighbour exchange primitive). */
  sendRecv(x: Float32Array, to: number, from: number): Promise<Float32Array>;
  barrier(): Promise<void>;
  /** Bytes this rank has sent so far (payload only), counted by the implementation. */
  readonly bytesSent: number;
}

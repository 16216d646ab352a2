// Closed-form per-device communication of one training step for the distributed forms, matching what the
// simulated group counts (ring collectives; float32 payloads). Used for projections beyond simulable sizes.

export interface CommCostInput {
  worldSize: number;
  /** Local batch per device. */
  localBatch: number;
  /** Embedding width. */
  dim: number;
}

/** Bytes one device sends per step. CLIP: all-gather of [img | txt] + reduce-scatter of their column gradients. */
export function clipCommBytes({ worldSize: w, localBatch: b, dim: d }: CommCostInput): number {
  const block = b * 2 * d * 4; // this rank's [b, 2E] rows
  const gather = (w - 1) * block; // ring all-gather: W−1 blocks forwarded
  const scatter = (w - 1) * block; // ring reduce-scatter: every chunk but our own, once
  return gather + scatter + scalarAllReduceBytes(w, 2);
}

/** Bytes one device sends per step. SigLIP ring: W−1 text blocks forward, W−1 text-gradient blocks back. */
export function siglipCommBytes({ worldSize: w, localBatch: b, dim: d }: CommCostInput): number {
  return 2 * (w - 1) * b * d * 4 + scalarAllReduceBytes(w, 4);
}

/** Upper bound of what one rank sends in a ring all-reduce of `len` floats (chunks of ⌈len/W⌉). */
export function scalarAllReduceBytes(w: number, len: number): number {
  return 2 * (w - 1) * Math.ceil(len / w) * 4;
}

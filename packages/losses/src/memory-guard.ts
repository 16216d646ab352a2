// Refuse a loss computation whose O(B²) intermediates would not fit, instead of letting the backend abort.
export const DEFAULT_MEMORY_LIMIT_BYTES = 2 * 1024 ** 3;

/** Raised before any allocation when the estimated peak exceeds the limit. */
export class LossMemoryError extends Error {
  constructor(
    readonly estimatedBytes: number,
    readonly limitBytes: number,
    what: string,
  ) {
    super(
      `${what}: estimated peak ${(estimatedBytes / 2 ** 20).toFixed(0)} MiB exceeds the limit ` +
        `${(limitBytes / 2 ** 20).toFixed(0)} MiB; pass { chunkSize } (O(B·chunk) memory) or raise memoryLimitBytes`,
    );
    this.name = 'LossMemoryError';
  }
}

/**
 * Live float32 matrices of the batch×block size held at once by each form during forward+backward
 * (logits, labels, z, softplus/softmax and every gradient the autograd tape keeps; the chunked forms hold one
 * block's worth). Calibrated with margin against tf.profile peaks in tools/bench/losses.bench.ts
 * (N = 1024, D = 512: plain ≈ 19–20 [B, B] matrices, chunked ≈ 10–15 [B, chunk] blocks).
 */
const LIVE_MATRICES = { 'clip-plain': 22, 'siglip-plain': 22, 'clip-chunked': 16, 'siglip-chunked': 16 } as const;

export type LossForm = keyof typeof LIVE_MATRICES;

/** Estimated peak bytes of a loss form's intermediates for a batch of `batch` pairs of width `dim`. */
export function estimateLossPeakBytes(form: LossForm, batch: number, dim: number, chunkSize = batch): number {
  const cols = form.endsWith('chunked') ? Math.min(chunkSize, batch) : batch;
  const blocks = LIVE_MATRICES[form] * batch * cols * 4;
  const features = 6 * batch * dim * 4; // inputs, their gradients, gathered/accumulated copies
  return blocks + features;
}

export function guardMemory(form: LossForm, batch: number, dim: number, chunkSize: number | undefined, limit: number | undefined, what: string): void {
  const lim = limit ?? DEFAULT_MEMORY_LIMIT_BYTES;
  const est = estimateLossPeakBytes(form, batch, dim, chunkSize);
  if (est > lim) throw new LossMemoryError(est, lim, what);
}

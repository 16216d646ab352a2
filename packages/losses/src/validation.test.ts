// Bad input gives clear errors; the memory guard refuses instead of crashing; the clamp helper.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@duet/runtime';
import { useWasm } from '../test/backend.js';
import { LossMemoryError, clampLogitScale, clipLoss, distributedClipLoss, createSimulatedGroups, lossAndFeatureGrads, siglipLoss } from './index.js';

beforeAll(async () => {
  await useWasm();
});

const emb = (b: number, e: number) => tf.ones([b, e]);
const t = () => tf.scalar(1);

describe('bad input', () => {
  it('rejects mismatched batch sizes, naming both', () => {
    expect(() => clipLoss({ imageEmbeds: emb(4, 8), textEmbeds: emb(3, 8), logitScale: t() })).toThrow(/batch mismatch: imageEmbeds has 4 rows, textEmbeds has 3/);
    expect(() => lossAndFeatureGrads('siglip', { imageEmbeds: emb(4, 8), textEmbeds: emb(5, 8), logitScale: t(), logitBias: t() })).toThrow(/batch mismatch/);
  });
  it('rejects mismatched embedding dims', () => {
    expect(() => siglipLoss({ imageEmbeds: emb(4, 8), textEmbeds: emb(4, 6), logitScale: t(), logitBias: t() })).toThrow(/embedding dim mismatch: imageEmbeds is \[4, 8\], textEmbeds is \[4, 6\]/);
  });
  it('rejects non-2D embeddings and non-scalar logit parameters', () => {
    expect(() => clipLoss({ imageEmbeds: tf.ones([2, 3, 4]), textEmbeds: emb(2, 4), logitScale: t() })).toThrow(/imageEmbeds: expected \[B, E\], got \[2, 3, 4\]/);
    expect(() => clipLoss({ imageEmbeds: emb(2, 4), textEmbeds: emb(2, 4), logitScale: tf.ones([2]) })).toThrow(/logitScale: expected a scalar/);
    expect(() => siglipLoss({ imageEmbeds: emb(2, 4), textEmbeds: emb(2, 4), logitScale: t() })).toThrow(/logitBias is required/);
  });
  it('rejects non-finite inputs', () => {
    const bad = tf.tensor2d([[1, NaN], [0, 1]]);
    expect(() => clipLoss({ imageEmbeds: bad, textEmbeds: emb(2, 2), logitScale: t() })).toThrow(/imageEmbeds contains non-finite/);
    const inf = tf.tensor2d([[1, 0], [Infinity, 1]]);
    expect(() => siglipLoss({ imageEmbeds: emb(2, 2), textEmbeds: inf, logitScale: t(), logitBias: t() }, { chunkSize: 1 })).toThrow(/textEmbeds contains non-finite/);
    expect(() => siglipLoss({ imageEmbeds: emb(2, 2), textEmbeds: emb(2, 2), logitScale: tf.scalar(NaN), logitBias: t() })).toThrow(/logitScale contains non-finite/);
    expect(() => clipLoss({ imageEmbeds: emb(2, 2), textEmbeds: emb(2, 2), logitScale: Infinity })).toThrow(/logitScale: expected a finite number/);
  });
  it('rejects chunk sizes that are not positive integers', () => {
    for (const chunkSize of [0, -3, 2.5, NaN]) {
      expect(() => siglipLoss({ imageEmbeds: emb(4, 2), textEmbeds: emb(4, 2), logitScale: t(), logitBias: t() }, { chunkSize })).toThrow(/chunkSize must be a positive integer/);
      expect(() => lossAndFeatureGrads('clip', { imageEmbeds: emb(4, 2), textEmbeds: emb(4, 2), logitScale: t() }, { chunkSize })).toThrow(/chunkSize must be a positive integer/);
    }
  });
  it('rejects an unknown family', () => {
    expect(() => lossAndFeatureGrads('align' as 'clip', { imageEmbeds: emb(2, 2), textEmbeds: emb(2, 2), logitScale: t() })).toThrow(/family must be 'clip' or 'siglip'/);
  });
  it('distributed: a rank with a mismatched embedding dim is reported, not hung', async () => {
    const [g0, g1] = createSimulatedGroups(2);
    const r = await Promise.allSettled([
      distributedClipLoss({ imageEmbeds: emb(2, 4), textEmbeds: emb(2, 4), logitScale: t() }, g0!),
      distributedClipLoss({ imageEmbeds: emb(1, 6), textEmbeds: emb(1, 6), logitScale: t() }, g1!),
    ]);
    expect(r.some((x) => x.status === 'rejected' && /not a multiple of 2·E/.test(String(x.reason)))).toBe(true);
  });
});

describe('memory guard', () => {
  it('refuses a plain loss whose [B, B] intermediates exceed the limit, before allocating', () => {
    const x = { imageEmbeds: emb(64, 4), textEmbeds: emb(64, 4), logitScale: t(), logitBias: t() };
    const before = tf.memory().numBytes;
    expect(() => siglipLoss(x, { memoryLimitBytes: 64 * 64 * 4 })).toThrow(LossMemoryError);
    expect(() => clipLoss(x, { memoryLimitBytes: 64 * 64 * 4 })).toThrow(/pass \{ chunkSize \}/);
    expect(tf.memory().numBytes).toBe(before);
    // The chunked form fits the same limit.
    expect(() => siglipLoss(x, { chunkSize: 2, memoryLimitBytes: 64 * 64 * 4 })).not.toThrow();
  });
});

describe('clampLogitScale', () => {
  it('clamps to [0, ln 100] by default and accepts another maximum', () => {
    const v = tf.variable(tf.scalar(7));
    clampLogitScale(v);
    expect(v.dataSync()[0]).toBeCloseTo(Math.log(100), 6);
    v.assign(tf.scalar(-1));
    clampLogitScale(v);
    expect(v.dataSync()[0]).toBe(0);
    v.assign(tf.scalar(3));
    clampLogitScale(v, 2);
    expect(v.dataSync()[0]).toBe(2);
    v.dispose();
  });
});

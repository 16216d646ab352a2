import { describe, it, expect } from 'vitest';
import { retrievalMetricsFromScores, retrievalMetrics } from './retrieval-metrics.js';
import { ensembleClassEmbeds, zeroShotAccuracy } from './zero-shot-metrics.js';

describe('retrieval metrics', () => {
  it('computes recall, mean and median rank on a hand-worked 3×3 case', () => {
    // rows = images, cols = texts; text j describes image j.
    const scores = new Float32Array([
      0.9, 0.1, 0.0, // image 0: own caption rank 0
      0.8, 0.5, 0.9, // image 1: caption 1 is beaten by 0 and 2 -> rank 2
      0.2, 0.3, 0.1, // image 2: caption 2 beaten by 0 and 1 -> rank 2
    ]);
    const r = retrievalMetricsFromScores(scores, 3, 3, [0, 1, 2]);
    expect(r.imageToText.r1).toBeCloseTo(1 / 3, 12);
    expect(r.imageToText.r5).toBe(1);
    expect(r.imageToText.meanRank).toBeCloseTo((0 + 2 + 2) / 3 + 1, 12);
    expect(r.imageToText.medianRank).toBe(3);
    // text 0: column [0.9, 0.8, 0.2] -> image 0 rank 0; text 1: [0.1, 0.5, 0.3] -> rank 0; text 2: [0, 0.9, 0.1] -> image 2 rank 1
    expect(r.textToImage.r1).toBeCloseTo(2 / 3, 12);
    expect(r.textToImage.meanRank).toBeCloseTo(1 / 3 + 1, 12);
    expect(r.textToImage.medianRank).toBe(1);
  });

  it('breaks ties by index: all-equal scores rank item k at position k', () => {
    const n = 12;
    const r = retrievalMetricsFromScores(new Float32Array(n * n), n, n, Array.from({ length: n }, (_, j) => j));
    // ranks 0..11: R@1 = 1/12, R@5 = 5/12, R@10 = 10/12, mean = 5.5 + 1, median = floor(5.5) + 1
    for (const d of [r.imageToText, r.textToImage]) {
      expect(d.r1).toBeCloseTo(1 / 12, 12);
      expect(d.r5).toBeCloseTo(5 / 12, 12);
      expect(d.r10).toBeCloseTo(10 / 12, 12);
      expect(d.meanRank).toBeCloseTo(6.5, 12);
      expect(d.medianRank).toBe(6);
    }
  });

  it('uses the best-ranked of several captions per image and embeds via dot products', () => {
    // 2 images, 3 captions: captions 0,1 -> image 0; caption 2 -> image 1. E = 2.
    const img = new Float32Array([1, 0, 0, 1]);
    const txt = new Float32Array([0, 1, 1, 0, 0, 1]);
    const r = retrievalMetrics(img, txt, 2, [0, 0, 1]);
    // image 0 scores [0,1,0]: caption 1 is first -> rank 0. image 1 scores [1,0,1]: caption 2 tied with caption 0, index 0 first -> rank 1.
    expect(r.imageToText.r1).toBe(0.5);
    expect(r.imageToText.meanRank).toBe(1.5);
    // caption 0 -> image 0 score 0 vs image 1 score 1 -> rank 1; caption 1 -> rank 0; caption 2 -> rank 0
    expect(r.textToImage.r1).toBeCloseTo(2 / 3, 12);
    expect(() => retrievalMetrics(img, txt, 2, [0, 5, 1])).toThrow(/textToImage\[1\] = 5/);
  });
});

describe('zero-shot', () => {
  it('averages normalised template embeds and renormalises', () => {
    // class 0 templates (3,4) and (0,2) -> unit (0.6,0.8),(0,1) -> mean (0.3,0.9) -> /sqrt(0.9)
    const cls = ensembleClassEmbeds(new Float32Array([3, 4, 0, 2]), 1, 2, 2);
    expect(cls[0]).toBeCloseTo(0.3 / Math.sqrt(0.9), 6);
    expect(cls[1]).toBeCloseTo(0.9 / Math.sqrt(0.9), 6);
  });
  it('predicts argmax of cosine with first-index ties and counts top-1/top-5', () => {
    const classes = new Float32Array([1, 0, 0, 1, -1, 0]); // 3 classes in 2-D
    const images = new Float32Array([2, 0.1, 0, 1, 1, 1, -1, 0]);
    const r = zeroShotAccuracy(images, classes, 2, [0, 1, 1, 2]);
    expect(Array.from(r.predictions)).toEqual([0, 1, 0, 2]); // image 2 ties classes 0 and 1 -> 0
    expect(r.top1).toBe(0.75);
    expect(r.top5).toBe(1);
    expect(r.perClass).toEqual([1, 0.5, 1]);
  });
});

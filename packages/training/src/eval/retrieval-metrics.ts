// Cross-modal retrieval metrics with open_clip / CLIP_benchmark conventions: Recall@k in both directions,
// mean and median rank (1-based; median = floor(median of 0-based ranks) + 1 as in open_clip's get_clip_metrics).
// Ties are broken by index: an item with an equal score ranks ahead of the positive only if its index is lower
// (what a stable descending sort gives). With several captions per image, the best-ranked positive counts.

export interface RetrievalMetrics {
  imageToText: DirectionMetrics;
  textToImage: DirectionMetrics;
}
export interface DirectionMetrics {
  r1: number;
  r5: number;
  r10: number;
  meanRank: number;
  medianRank: number;
}

/**
 * `imageEmbeds` [N, E] and `textEmbeds` [M, E] (row-major, L2-normalised); `textToImage[j]` = index of the image
 * caption j describes. Scores are dot products.
 */
export function retrievalMetrics(imageEmbeds: Float32Array, textEmbeds: Float32Array, dim: number, textToImage: ArrayLike<number>): RetrievalMetrics {
  const n = imageEmbeds.length / dim;
  const m = textEmbeds.length / dim;
  if (!Number.isInteger(n) || !Number.isInteger(m)) throw new Error(`retrievalMetrics: embeds are not multiples of dim ${dim}`);
  if (textToImage.length !== m) throw new Error(`retrievalMetrics: textToImage has ${textToImage.length} entries, expected ${m} (one per caption)`);
  const scores = new Float32Array(n * m); // [N, M] image-major
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += imageEmbeds[i * dim + d]! * textEmbeds[j * dim + d]!;
      scores[i * m + j] = s;
    }
  }
  return retrievalMetricsFromScores(scores, n, m, textToImage);
}

/** Same, from a precomputed [N images, M texts] score matrix. */
export function retrievalMetricsFromScores(scores: Float32Array, n: number, m: number, textToImage: ArrayLike<number>): RetrievalMetrics {
  const positives: number[][] = Array.from({ length: n }, () => []);
  for (let j = 0; j < m; j++) {
    const i = textToImage[j]!;
    if (!(i >= 0 && i < n)) throw new Error(`retrievalMetrics: textToImage[${j}] = ${i} is not an image index in 0..${n - 1}`);
    positives[i]!.push(j);
  }
  // image -> text: rank of the best positive caption among all M captions.
  const i2t: number[] = [];
  for (let i = 0; i < n; i++) {
    if (positives[i]!.length === 0) continue; // an image without captions has nothing to retrieve
    let best = Infinity;
    for (const p of positives[i]!) best = Math.min(best, rankOf(p, (j) => scores[i * m + j]!, m));
    i2t.push(best);
  }
  // text -> image: rank of the caption's image among all N images.
  const t2i: number[] = [];
  for (let j = 0; j < m; j++) t2i.push(rankOf(textToImage[j]!, (i) => scores[i * m + j]!, n));
  return { imageToText: summarise(i2t), textToImage: summarise(t2i) };
}

/** 0-based rank of item `pos` under a stable descending sort of score(0..count-1). */
export function rankOf(pos: number, score: (k: number) => number, count: number): number {
  const s = score(pos);
  let r = 0;
  for (let k = 0; k < count; k++) {
    const sk = score(k);
    if (sk > s || (sk === s && k < pos)) r++;
  }
  return r;
}

function summarise(ranks: number[]): DirectionMetrics {
  const sorted = [...ranks].sort((a, b) => a - b);
  const c = sorted.length;
  const at = (k: number) => sorted.filter((r) => r < k).length / c;
  const mid = c % 2 ? sorted[(c - 1) / 2]! : (sorted[c / 2 - 1]! + sorted[c / 2]!) / 2;
  return {
    r1: at(1),
    r5: at(5),
    r10: at(10),
    meanRank: sorted.reduce((a, b) => a + b, 0) / c + 1,
    medianRank: Math.floor(mid) + 1,
  };
}

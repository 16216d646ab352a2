// Zero-shot classification maths (open_clip zero_shot_classifier / CLIP_benchmark): per class, normalise the
// text embeds of every template, average them, renormalise; predict argmax of cosine (first index on ties).

/** `templateEmbeds` [C * T, E] ordered class-major (class c, template t at row c*T + t). Returns [C, E] unit rows. */
export function ensembleClassEmbeds(templateEmbeds: Float32Array, numClasses: number, numTemplates: number, dim: number): Float32Array {
  if (templateEmbeds.length !== numClasses * numTemplates * dim) {
    throw new Error(`ensembleClassEmbeds: got ${templateEmbeds.length} values, expected ${numClasses}×${numTemplates}×${dim}`);
  }
  const out = new Float32Array(numClasses * dim);
  for (let c = 0; c < numClasses; c++) {
    const acc = new Float64Array(dim);
    for (let t = 0; t < numTemplates; t++) {
      const row = (c * numTemplates + t) * dim;
      let nrm = 0;
      for (let d = 0; d < dim; d++) nrm += templateEmbeds[row + d]! ** 2;
      nrm = Math.sqrt(nrm) || 1;
      for (let d = 0; d < dim; d++) acc[d]! += templateEmbeds[row + d]! / nrm;
    }
    let nrm = 0;
    for (let d = 0; d < dim; d++) nrm += (acc[d]! / numTemplates) ** 2;
    nrm = Math.sqrt(nrm) || 1;
    for (let d = 0; d < dim; d++) out[c * dim + d] = acc[d]! / numTemplates / nrm;
  }
  return out;
}

export interface ZeroShotResult {
  top1: number;
  top5: number;
  /** Per-class top-1 accuracy (NaN for classes absent from the labels). */
  perClass: number[];
  predictions: Int32Array;
}

/** `imageEmbeds` [N, E] (any norm: cosine ranking only needs direction), `classEmbeds` [C, E] unit rows. */
export function zeroShotAccuracy(imageEmbeds: Float32Array, classEmbeds: Float32Array, dim: number, labels: ArrayLike<number>): ZeroShotResult {
  const n = imageEmbeds.length / dim;
  const c = classEmbeds.length / dim;
  if (labels.length !== n) throw new Error(`zeroShotAccuracy: ${labels.length} labels for ${n} images`);
  const predictions = new Int32Array(n);
  let hit1 = 0, hit5 = 0;
  const correct = new Array<number>(c).fill(0);
  const total = new Array<number>(c).fill(0);
  const logits = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += imageEmbeds[i * dim + d]! * classEmbeds[k * dim + d]!;
      logits[k] = s;
    }
    let best = 0;
    for (let k = 1; k < c; k++) if (logits[k]! > logits[best]!) best = k;
    predictions[i] = best;
    const y = labels[i]!;
    if (!(y >= 0 && y < c)) throw new Error(`zeroShotAccuracy: label ${y} of image ${i} is not a class index in 0..${c - 1}`);
    total[y]!++;
    if (best === y) { hit1++; correct[y]!++; }
    // rank of the true class with index tie-breaking, as torch.topk on a stable order would give
    let rank = 0;
    for (let k = 0; k < c; k++) if (logits[k]! > logits[y]! || (logits[k] === logits[y] && k < y)) rank++;
    if (rank < 5) hit5++;
  }
  return { top1: hit1 / n, top5: hit5 / n, perClass: correct.map((x, k) => x / total[k]!), predictions };
}

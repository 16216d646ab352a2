// CLIP over a ProcessGroup with open_clip's local_loss + gather_with_grad semantics: one all-gather of both
// modalities, each rank scores its local rows against all columns, and the column-side gradients are
// reduce-scattered back to the ranks that own those samples.
import { tf } from '@duet/runtime';
import { mm } from './matmul.js';
import type { ProcessGroup } from './process-group.js';
import { checkFinite, validatePair } from './validate.js';
import type { ContrastiveInputs, DistributedResult } from './types.js';

export interface DistributedOptions {
  checkFinite?: boolean;
}

/**
 * Loss semantics: `loss` = the loss of the single process on the concatenated batch (identical on every rank);
 * `localLoss` = this rank's open_clip-style term (its rows, normalised by its local batch), whose mean over ranks
 * is `loss` for equal local batches. `gradImageEmbeds` / `gradTextEmbeds` = ∂loss/∂(this rank's embeds), so
 * backprop through the local towers gives this rank's share and the parameter gradient is the SUM over ranks
 * (all-reduce 'sum', not 'mean'). `gradLogitScale` is already global (identical on every rank): do not reduce it again.
 */
export async function distributedClipLoss(local: ContrastiveInputs, group: ProcessGroup, opts: DistributedOptions = {}): Promise<DistributedResult> {
  const what = `distributedClipLoss(rank ${group.rank})`;
  const { batch: b, dim: e } = validatePair(local, what, false);
  if (opts.checkFinite !== false) checkFinite(what, { imageEmbeds: local.imageEmbeds, textEmbeds: local.textEmbeds, logitScale: local.logitScale });
  const bytes0 = group.bytesSent;
  const r = group.rank;

  // One all-gather carries both modalities: each rank's [b, 2E] rows = [image | text].
  const packed = tf.tidy(() => tf.concat([local.imageEmbeds, local.textEmbeds], 1));
  const mine = (await packed.data()) as Float32Array;
  packed.dispose();
  const parts = await group.allGather(mine);
  const rows = parts.map((p, q) => {
    if (p.length % (2 * e) !== 0) throw new Error(`${what}: rank ${q} sent ${p.length} values, not a multiple of 2·E = ${2 * e} (embedding dims differ across ranks?)`);
    return p.length / (2 * e);
  });
  const n = rows.reduce((a, c) => a + c, 0);
  const offset = rows.slice(0, r).reduce((a, c) => a + c, 0);

  const t = typeof local.logitScale === 'number' ? local.logitScale : (await local.logitScale.data())[0]!;
  const s = Math.exp(t);
  // Local terms (rows of this rank) and column contributions for every rank's samples, un-normalised (×2N).
  const res = tf.tidy(() => {
    const all = tf.concat(parts.map((p, q) => tf.tensor2d(p, [rows[q]!, 2 * e])), 0); // [N, 2E]
    const imgAll = tf.slice(all, [0, 0], [n, e]) as tf.Tensor2D;
    const txtAll = tf.slice(all, [0, e], [n, e]) as tf.Tensor2D;
    const img = local.imageEmbeds as tf.Tensor2D;
    const txt = local.textEmbeds as tf.Tensor2D;
    const labels = tf.oneHot(tf.range(offset, offset + b, 1, 'int32'), n).cast('float32'); // [b, N]
    const side = (rowsLocal: tf.Tensor2D, cols: tf.Tensor2D) => {
      const logits = tf.mul(mm(rowsLocal, cols, false, true), s); // [b, N]
      const lse = tf.logSumExp(logits, 1);
      const d = tf.sub(tf.exp(tf.sub(logits, lse.reshape([b, 1]))), labels); // softmax − onehot
      const pos = tf.sum(tf.mul(logits, labels), 1);
      return { lossSum: tf.sum(tf.sub(lse, pos)), d, dot: tf.sum(tf.sum(tf.mul(d, logits), 1)) };
    };
    const i2t = side(img, txtAll); // logitsPerImage rows
    const t2i = side(txt, imgAll); // logitsPerText rows
    const gImgLocal = tf.mul(tf.matMul(i2t.d, txtAll), s);
    const gTxtLocal = tf.mul(tf.matMul(t2i.d, imgAll), s);
    const colGrads = tf.mul(tf.concat([mm(t2i.d, txt, true), mm(i2t.d, img, true)], 1), s); // [N, 2E] = [∂img | ∂txt]
    const scalars = tf.stack([tf.add(i2t.lossSum, t2i.lossSum), tf.add(i2t.dot, t2i.dot)]);
    return { gImgLocal, gTxtLocal, colGrads, scalars };
  });
  const [colData, scalarData] = await Promise.all([res.colGrads.data(), res.scalars.data()]);
  res.colGrads.dispose();
  res.scalars.dispose();
  const counts = rows.map((c) => c * 2 * e);
  const mineCols = group.reduceScatter
    ? await group.reduceScatter(colData as Float32Array, counts)
    : (await group.allReduce(colData as Float32Array)).slice(offset * 2 * e, (offset + b) * 2 * e);
  const tot = await group.allReduce(Float32Array.from(scalarData));
  const k = 1 / (2 * n);
  const out = tf.tidy(() => {
    const cols = tf.tensor2d(mineCols, [b, 2 * e]);
    return {
      loss: tf.scalar(tot[0]! * k),
      localLoss: tf.scalar(scalarData[0]! / (2 * b)),
      gradImageEmbeds: tf.mul(tf.add(res.gImgLocal, tf.slice(cols, [0, 0], [b, e])), k) as tf.Tensor2D,
      gradTextEmbeds: tf.mul(tf.add(res.gTxtLocal, tf.slice(cols, [0, e], [b, e])), k) as tf.Tensor2D,
      gradLogitScale: tf.scalar(tot[1]! * k),
    };
  });
  tf.dispose([res.gImgLocal, res.gTxtLocal]);
  return { ...out, bytesCommunicated: group.bytesSent - bytes0 };
}

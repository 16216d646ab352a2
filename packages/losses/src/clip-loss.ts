// CLIP symmetric InfoNCE (open_clip ClipLoss, HF clip_loss): logits = exp(t′)·img·txtᵀ,
// loss = ½·(CE(logits, diag) + CE(logitsᵀ, diag)), each cross-entropy averaged over the batch.
import { tf } from '@duet/runtime';
import { matMulABt, mm } from './matmul.js';
import { guardMemory } from './memory-guard.js';
import { checkFinite, validateChunk, validatePair } from './validate.js';
import type { ContrastiveInputs, FeatureGrads, LossOptions } from './types.js';

const WHAT = 'clipLoss';

/**
 * Differentiable CLIP loss. Without `chunkSize`: plain autograd over [B, B] logits (stable log-sum-exp).
 * With `chunkSize`: blocks of image rows (online column log-sum-exp) under tf.customGrad, O(B·chunk) memory.
 */
export function clipLoss(inputs: ContrastiveInputs, opts: LossOptions = {}): tf.Scalar {
  const { batch, dim } = validatePair(inputs, WHAT, false);
  validateChunk(opts.chunkSize, WHAT);
  guardMemory(opts.chunkSize ? 'clip-chunked' : 'clip-plain', batch, dim, opts.chunkSize, opts.memoryLimitBytes, WHAT);
  if (opts.checkFinite !== false) checkFinite(WHAT, { imageEmbeds: inputs.imageEmbeds, textEmbeds: inputs.textEmbeds, logitScale: inputs.logitScale });
  const img = inputs.imageEmbeds as tf.Tensor2D;
  const txt = inputs.textEmbeds as tf.Tensor2D;
  const t = typeof inputs.logitScale === 'number' ? tf.scalar(inputs.logitScale) : inputs.logitScale;
  if (opts.chunkSize === undefined) return plainClip(img, txt, t);
  return chunkedClipOp(opts.chunkSize)(img, txt, t);
}

function plainClip(img: tf.Tensor2D, txt: tf.Tensor2D, t: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const s = tf.exp(t.reshape([]));
    const logits = tf.mul(matMulABt(img, txt), s); // [B, B] = logitsPerImage
    const diag = tf.mul(tf.sum(tf.mul(img, txt), 1), s); // [B] positive-pair logits
    const lossImage = tf.mean(tf.sub(logSumExpRows(logits), diag)); // image → text
    const lossText = tf.mean(tf.sub(logSumExpRows(tf.transpose(logits)), diag)); // text → image
    return tf.mul(tf.add(lossImage, lossText), 0.5) as tf.Scalar;
  });
}

/**
 * Row-wise log-sum-exp with the softmax as its gradient. (tf.logSumExp differentiates through its max shift with a
 * broadcasting equality that is slower than the matmul on wasm; the shift does not change the value.)
 */
const logSumExpRows = tf.customGrad((...args: unknown[]) => {
  const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
  const value = tf.logSumExp(x, 1);
  save([x, value]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, lse] = saved as [tf.Tensor2D, tf.Tensor1D];
      const rows = sx.shape[0];
      return tf.mul(tf.exp(tf.sub(sx, lse.reshape([rows, 1]))), dy.reshape([rows, 1]));
    },
  };
}) as (x: tf.Tensor) => tf.Tensor1D;

function chunkedClipOp(chunk: number) {
  return tf.customGrad((...args: unknown[]) => {
    const [img, txt, t, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor, tf.GradSaveFunc];
    const value = tf.tidy(() => {
      const st = clipStats(img, txt, t, chunk);
      save([st.rowLse, st.colLse]); // kept only while a tape records; spares the backward a full pass
      return lossFromStats(st, img.shape[0]);
    });
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const g = clipGradsChunked(img, txt, t, chunk, dy, saved.length === 2 ? (saved as [tf.Tensor1D, tf.Tensor1D]) : undefined);
      g.loss.dispose();
      return [g.gradImageEmbeds, g.gradTextEmbeds, g.gradLogitScale.reshape(t.shape)];
    };
    return { value, gradFunc };
  });
}

interface ClipStats {
  s: tf.Scalar;
  rowLse: tf.Tensor1D; // [B] log-sum-exp of each logitsPerImage row
  colLse: tf.Tensor1D; // [B] log-sum-exp of each column (= logitsPerText row)
  diag: tf.Tensor1D; // [B] positive logits
}

/** Pass 1: row log-sum-exp per block, column log-sum-exp by an online max/rescale across blocks. */
function clipStats(img: tf.Tensor2D, txt: tf.Tensor2D, t: tf.Tensor, chunk: number): ClipStats {
  return tf.tidy(() => clipStatsInner(img, txt, t, chunk) as unknown as tf.TensorContainer) as unknown as ClipStats;
}

function clipStatsInner(img: tf.Tensor2D, txt: tf.Tensor2D, t: tf.Tensor, chunk: number): ClipStats {
  const n = img.shape[0];
  const s = tf.exp(t.reshape([])) as tf.Scalar;
  const txtT = tf.transpose(txt); // [E, B], once: plain products are much faster than transposed ones
  const rowParts: tf.Tensor1D[] = [];
  let colMax: tf.Tensor1D | null = null;
  let colSum: tf.Tensor1D | null = null;
  for (let r0 = 0; r0 < n; r0 += chunk) {
    const size = Math.min(chunk, n - r0);
    const [rl, m, cs] = tf.tidy(() => {
      const a = tf.mul(tf.matMul(tf.slice(img, [r0, 0], [size, -1]), txtT), s); // [c, B]
      const blockMax = tf.max(a, 0);
      const m = colMax ? tf.maximum(colMax, blockMax) : blockMax;
      const blockSum = tf.sum(tf.exp(tf.sub(a, m)), 0);
      const cs = colSum ? tf.add(tf.mul(colSum, tf.exp(tf.sub(colMax!, m))), blockSum) : blockSum;
      return [tf.logSumExp(a, 1), m, cs] as const;
    });
    tf.dispose([colMax!, colSum!].filter(Boolean));
    rowParts.push(rl as tf.Tensor1D);
    colMax = m as tf.Tensor1D;
    colSum = cs as tf.Tensor1D;
  }
  const rowLse = (rowParts.length === 1 ? rowParts[0]! : tf.concat(rowParts)) as tf.Tensor1D;
  const colLse = tf.add(colMax!, tf.log(colSum!)) as tf.Tensor1D;
  const diag = tf.mul(tf.sum(tf.mul(img, txt), 1), s) as tf.Tensor1D;
  if (rowParts.length > 1) tf.dispose(rowParts);
  tf.dispose([colMax!, colSum!]);
  return { s, rowLse, colLse, diag };
}

function statsFrom(img: tf.Tensor2D, txt: tf.Tensor2D, t: tf.Tensor, [rowLse, colLse]: [tf.Tensor1D, tf.Tensor1D]): ClipStats {
  return tf.tidy(() => {
    const s = tf.exp(t.reshape([])) as tf.Scalar;
    // clones: the caller disposes the returned stats, the saved originals belong to the tape
    return { s, rowLse: tf.clone(rowLse), colLse: tf.clone(colLse), diag: tf.mul(tf.sum(tf.mul(img, txt), 1), s) as tf.Tensor1D };
  });
}

function lossFromStats(st: ClipStats, n: number): tf.Scalar {
  return tf.div(tf.sub(tf.add(tf.sum(st.rowLse), tf.sum(st.colLse)), tf.mul(tf.sum(st.diag), 2)), 2 * n) as tf.Scalar;
}

/**
 * Loss and gradients of the CLIP loss in blocks of `chunk` image rows (two passes, O(B·chunk) extra memory).
 * ∂loss/∂logits = (softmax_rows + softmax_cols)/(2B) − I/B.
 */
export function clipGradsChunked(
  img: tf.Tensor2D,
  txt: tf.Tensor2D,
  t: tf.Tensor,
  chunk: number,
  dy?: tf.Tensor,
  lse?: [tf.Tensor1D, tf.Tensor1D], // [rowLse, colLse] from the forward pass, when available
): FeatureGrads {
  const n = img.shape[0];
  const st = lse ? statsFrom(img, txt, t, lse) : clipStats(img, txt, t, chunk);
  const { s, rowLse, colLse } = st;
  const colLseRow = colLse.reshape([1, n]);
  const txtT = tf.transpose(txt); // [E, B]
  let gTxt = tf.zerosLike(txt) as tf.Tensor2D;
  let dotSum = tf.scalar(0);
  const gImgParts: tf.Tensor2D[] = [];
  for (let r0 = 0; r0 < n; r0 += chunk) {
    const size = Math.min(chunk, n - r0);
    const [gi, gt, ds] = tf.tidy(() => {
      const imgC = tf.slice(img, [r0, 0], [size, -1]) as tf.Tensor2D;
      const a = tf.mul(tf.matMul(imgC, txtT), s); // [c, B]
      const p = tf.exp(tf.sub(a, tf.slice(rowLse, [r0], [size]).reshape([size, 1])));
      const q = tf.exp(tf.sub(a, colLseRow));
      const g = tf.add(p, q); // 2B·∂loss/∂logits, off-diagonal part
      return [tf.matMul(g, txt), tf.add(gTxt, mm(g, imgC, true)), tf.add(dotSum, tf.sum(tf.sum(tf.mul(g, a), 1)))] as const;
    });
    gImgParts.push(gi as tf.Tensor2D);
    gTxt.dispose();
    dotSum.dispose();
    gTxt = gt as tf.Tensor2D;
    dotSum = ds as tf.Scalar;
  }
  const out = tf.tidy(() => {
    const k = dy ? dy.reshape([]) : tf.scalar(1);
    const half = tf.div(k, 2 * n); // weight of the softmax terms
    const full = tf.div(k, n); // weight of the diagonal (label) terms
    const gImg = gImgParts.length === 1 ? gImgParts[0]! : tf.concat(gImgParts, 0);
    const sHalf = tf.mul(s, half);
    const sFull = tf.mul(s, full);
    return {
      loss: lossFromStats(st, n),
      gradImageEmbeds: tf.sub(tf.mul(gImg, sHalf), tf.mul(txt, sFull)) as tf.Tensor2D,
      gradTextEmbeds: tf.sub(tf.mul(gTxt, sHalf), tf.mul(img, sFull)) as tf.Tensor2D,
      gradLogitScale: tf.sub(tf.mul(dotSum, half), tf.mul(tf.sum(st.diag), full)) as tf.Scalar, // ∂logit/∂t′ = logit
    };
  });
  tf.dispose([s, rowLse, colLse, st.diag, colLseRow, txtT, gTxt, dotSum, ...gImgParts]);
  return out;
}

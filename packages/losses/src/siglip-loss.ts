// SigLIP pairwise sigmoid loss (open_clip SigLipLoss, big_vision sigmoid loss, HF siglip):
// logits = exp(t′)·img·txtᵀ + b, labels +1 on the diagonal and −1 elsewhere, loss = Σ softplus(−label·logits) / B.
import { tf } from '@duet/runtime';
import { matMulABt, mm } from './matmul.js';
import { siglipBlock } from './siglip-block.js';
import { guardMemory } from './memory-guard.js';
import { checkFinite, validateChunk, validatePair } from './validate.js';
import type { ContrastiveInputs, FeatureGrads, LossOptions } from './types.js';

const WHAT = 'siglipLoss';

/**
 * Differentiable SigLIP loss. Without `chunkSize`: plain autograd over the full [B, B] logits.
 * With `chunkSize`: blocks of text rows under tf.customGrad — same value and gradients, O(B·chunk) memory.
 */
export function siglipLoss(inputs: ContrastiveInputs, opts: LossOptions = {}): tf.Scalar {
  const { batch, dim } = validatePair(inputs, WHAT, true);
  validateChunk(opts.chunkSize, WHAT);
  guardMemory(opts.chunkSize ? 'siglip-chunked' : 'siglip-plain', batch, dim, opts.chunkSize, opts.memoryLimitBytes, WHAT);
  if (opts.checkFinite !== false) checkFinite(WHAT, { ...inputs });
  const { imageEmbeds, textEmbeds } = inputs;
  const t = typeof inputs.logitScale === 'number' ? tf.scalar(inputs.logitScale) : inputs.logitScale;
  const bias = typeof inputs.logitBias === 'number' ? tf.scalar(inputs.logitBias) : inputs.logitBias!;
  if (opts.chunkSize === undefined) return plainSiglip(imageEmbeds as tf.Tensor2D, textEmbeds as tf.Tensor2D, t, bias);
  return chunkedSiglipOp(opts.chunkSize)(imageEmbeds, textEmbeds, t, bias);
}

function plainSiglip(img: tf.Tensor2D, txt: tf.Tensor2D, t: tf.Tensor, bias: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const n = img.shape[0];
    const logits = tf.add(tf.mul(matMulABt(img, txt), tf.exp(t.reshape([]))), bias.reshape([])); // [B, B]
    const labels = tf.sub(tf.mul(tf.eye(n), 2), 1); // +1 diagonal, −1 elsewhere
    // −log σ(z) = softplus(−z): thresholded kernel (no overflow), gradient −σ(−z) (exact everywhere).
    const perRow = tf.sum(tf.softplus(tf.neg(tf.mul(labels, logits))), 1);
    return tf.div(tf.sum(perRow), n) as tf.Scalar;
  });
}

function chunkedSiglipOp(chunk: number) {
  return tf.customGrad((...args: unknown[]) => {
    const [img, txt, t, bias, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    if (isRecordingGradients()) {
      // One sweep gives the loss and all gradients (3 block products, like the plain form); the gradients are
      // O(B·E) and are kept by the tape until the backward pass scales them by dy.
      const g = siglipGradsChunked(img, txt, t, bias, chunk);
      save([g.gradImageEmbeds, g.gradTextEmbeds, g.gradLogitScale.reshape(t.shape), g.gradLogitBias!.reshape(bias.shape)]);
      return { value: g.loss, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => saved.map((x) => tf.mul(x, dy)) };
    }
    const n = img.shape[0];
    const value = tf.tidy(() => {
      const s = tf.exp(t.reshape([])) as tf.Scalar;
      const b = bias.reshape([]) as tf.Scalar;
      let total = tf.scalar(0);
      for (let c0 = 0; c0 < n; c0 += chunk) {
        const next = tf.tidy(() => {
          const txtC = tf.slice(txt, [c0, 0], [Math.min(chunk, n - c0), -1]) as tf.Tensor2D;
          return tf.add(total, siglipBlock(img, txtC, s, b, 0, c0, false).lossSum) as tf.Scalar;
        });
        total.dispose();
        total = next;
      }
      return tf.div(total, n) as tf.Scalar;
    });
    // No tape was recording, so this is not expected to run; it stays exact (recomputes block by block) regardless.
    const gradFunc = (dy: tf.Tensor) => {
      const g = siglipGradsChunked(img, txt, t, bias, chunk, dy, false);
      g.loss.dispose();
      return [g.gradImageEmbeds, g.gradTextEmbeds, g.gradLogitScale.reshape(t.shape), g.gradLogitBias!.reshape(bias.shape)];
    };
    return { value, gradFunc };
  });
}

/** True while tf.grad/valueAndGrads/minimize records a tape (then a forward pass may as well produce gradients). */
function isRecordingGradients(): boolean {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
}

/**
 * Loss and gradients, block by block over text rows. `dy` scales the gradients (upstream gradient);
 * peak extra memory is a few [B, chunk] blocks.
 */
export function siglipGradsChunked(
  img: tf.Tensor2D,
  txt: tf.Tensor2D,
  t: tf.Tensor,
  bias: tf.Tensor,
  chunk: number,
  dy?: tf.Tensor,
  withLoss = true,
): FeatureGrads {
  const n = img.shape[0];
  const s = tf.tidy(() => tf.exp(t.reshape([])) as tf.Scalar);
  const b = tf.tidy(() => bias.reshape([]) as tf.Scalar);
  let gImg = tf.zerosLike(img) as tf.Tensor2D;
  let acc = tf.zeros([3]); // [Σ loss, Σ dL·dots, Σ dL]
  const gTxtParts: tf.Tensor2D[] = [];
  for (let c0 = 0; c0 < n; c0 += chunk) {
    const size = Math.min(chunk, n - c0);
    const [nextImg, nextAcc, gTxtC] = tf.tidy(() => {
      const txtC = tf.slice(txt, [c0, 0], [size, -1]) as tf.Tensor2D;
      const r = siglipBlock(img, txtC, s, b, 0, c0, true, withLoss);
      const dL = r.dLogits!;
      const sums = tf.stack([r.lossSum, tf.sum(tf.sum(tf.mul(dL, r.dots!), 1)), tf.sum(tf.sum(dL, 1))]);
      return [tf.add(gImg, tf.matMul(dL, txtC)), tf.add(acc, sums), mm(dL, img, true)] as const;
    });
    gImg.dispose();
    acc.dispose();
    gImg = nextImg as tf.Tensor2D;
    acc = nextAcc;
    gTxtParts.push(gTxtC as tf.Tensor2D);
  }
  const out = tf.tidy(() => {
    const k = dy ? tf.div(dy.reshape([]), n) : tf.scalar(1 / n); // d(loss)/d(raw sums)
    const sk = tf.mul(s, k);
    const gTxt = gTxtParts.length === 1 ? gTxtParts[0]! : tf.concat(gTxtParts, 0);
    const [lossSum, dotSum, biasSum] = tf.unstack(acc) as [tf.Scalar, tf.Scalar, tf.Scalar];
    return {
      loss: tf.div(lossSum, n) as tf.Scalar,
      gradImageEmbeds: tf.mul(gImg, sk) as tf.Tensor2D,
      gradTextEmbeds: tf.mul(gTxt, sk) as tf.Tensor2D,
      gradLogitScale: tf.mul(dotSum, sk) as tf.Scalar, // ∂logit/∂t′ = s·dots
      gradLogitBias: tf.mul(biasSum, k) as tf.Scalar,
    };
  });
  tf.dispose([s, b, gImg, acc, ...gTxtParts]);
  return out;
}

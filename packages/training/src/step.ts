// One optimizer step's gradients, with gradient accumulation that keeps the contrastive batch whole
// (open_clip --accum-freq): micro-batch features are first computed without a tape and cached, the loss and its
// gradients w.r.t. the normalised features are taken over the whole accumulated batch, then each micro-batch is
// re-forwarded with a tape and backpropagated with the surrogate sum(features * featureGrads). The result equals
// the gradient of one big batch (up to float rounding; dropout would draw different masks on the re-forward).
import { tf } from '@duet/runtime';
import { lossAndFeatureGrads } from '@duet/losses';
import type { TensorBatch, TrainableDualEncoder } from './model.js';

export interface StepResult {
  loss: number;
  /** Gradients keyed by HF parameter name (trainable parameters only). Caller disposes. */
  grads: Map<string, tf.Tensor>;
}

const l2norm = (x: tf.Tensor2D): tf.Tensor2D => tf.div(x, tf.norm(x, 'euclidean', -1, true)) as tf.Tensor2D;

/**
 * The contrastive loss as one differentiable op whose backward is the loss package's exact feature gradients
 * (computed in the forward pass and saved), so the towers are backpropagated in the same pass.
 */
function lossOf(model: TrainableDualEncoder, imageEmbeds: tf.Tensor2D, textEmbeds: tf.Tensor2D): tf.Scalar {
  const family = model.lossFamily;
  if (family === 'siglip' && !model.logitBias) throw new Error('siglip loss needs a logit_bias parameter, the model has none');
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [img, txt, t, b] = args as tf.Tensor[];
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const fg = lossAndFeatureGrads(family, {
      imageEmbeds: img!, textEmbeds: txt!, logitScale: t!, ...(family === 'siglip' ? { logitBias: b! } : {}),
    }, { checkFinite: false });
    const grads = [fg.gradImageEmbeds, fg.gradTextEmbeds, fg.gradLogitScale.reshape(t!.shape), ...(fg.gradLogitBias ? [fg.gradLogitBias.reshape(b!.shape)] : [])];
    save(grads);
    return { value: fg.loss, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => saved.map((g) => tf.mul(g, dy)) };
  });
  const inputs = [imageEmbeds, textEmbeds, model.logitScale, ...(family === 'siglip' ? [model.logitBias!] : [])];
  return op(...inputs) as tf.Scalar;
}

/** Map tf variable names back to HF parameter names for the trainable set. */
export function trainableByName(model: TrainableDualEncoder): Map<string, tf.Variable> {
  const trainable = new Set(model.trainableVariables());
  const out = new Map<string, tf.Variable>();
  for (const [name, v] of model.namedVariables()) if (trainable.has(v)) out.set(name, v);
  return out;
}

function rename(grads: tf.NamedTensorMap, byName: Map<string, tf.Variable>): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, v] of byName) {
    const g = grads[v.name];
    if (g) out.set(name, g);
  }
  return out;
}

/** Gradients of the contrastive loss over `micro` (concatenated = the full batch). */
export function computeGradients(model: TrainableDualEncoder, micro: TensorBatch[]): StepResult {
  const byName = trainableByName(model);
  const vars = [...byName.values()];
  if (vars.length === 0) throw new Error('nothing to train: every parameter is frozen');
  if (micro.length === 1) {
    const b = micro[0]!;
    const { value, grads } = tf.variableGrads(() => {
      const img = l2norm(model.encodeImage(b.pixelValues, { training: true }));
      const txt = l2norm(model.encodeText(b.inputIds, b.attentionMask, { training: true }));
      return lossOf(model, img, txt);
    }, vars);
    const loss = value.dataSync()[0]!;
    value.dispose();
    return { loss, grads: rename(grads, byName) };
  }
  return accumulatedGradients(model, micro, byName);
}

function accumulatedGradients(model: TrainableDualEncoder, micro: TensorBatch[], byName: Map<string, tf.Variable>): StepResult {
  const trainable = new Set(byName.values());
  // 1. cache normalised features of every micro-batch (no tape).
  const cached = micro.map((b) =>
    tf.tidy(() => ({
      img: l2norm(model.encodeImage(b.pixelValues, { training: true })),
      txt: l2norm(model.encodeText(b.inputIds, b.attentionMask, { training: true })),
    })),
  );
  const sizes = micro.map((b) => b.pixelValues.shape[0]);
  const allImg = tf.concat(cached.map((c) => c.img)) as tf.Tensor2D; // [B, E]
  const allTxt = tf.concat(cached.map((c) => c.txt)) as tf.Tensor2D; // [B, E]
  cached.forEach((c) => { c.img.dispose(); c.txt.dispose(); });
  // 2. loss and feature gradients over the whole batch.
  const fg = lossAndFeatureGrads(model.lossFamily, {
    imageEmbeds: allImg, textEmbeds: allTxt, logitScale: model.logitScale, ...(model.logitBias ? { logitBias: model.logitBias } : {}),
  }, { checkFinite: false });
  allImg.dispose();
  allTxt.dispose();
  const loss = scalarOf(fg.loss);
  const gImg = toTensor(fg.gradImageEmbeds, [sizes.reduce((a, b) => a + b, 0), -1]);
  const gTxt = toTensor(fg.gradTextEmbeds, [sizes.reduce((a, b) => a + b, 0), -1]);
  const gImgParts = tf.split(gImg, sizes);
  const gTxtParts = tf.split(gTxt, sizes);
  gImg.dispose();
  gTxt.dispose();
  // 3. re-forward each micro-batch with a tape; the surrogate's gradient is the true gradient's share.
  const towerVars = [...byName.values()].filter((v) => v !== model.logitScale && v !== model.logitBias);
  const imageTrainable = towerVars.some((v) => nameOf(byName, v).startsWith('vision_model') || nameOf(byName, v).startsWith('visual_projection'));
  const textTrainable = towerVars.some((v) => nameOf(byName, v).startsWith('text_model') || nameOf(byName, v).startsWith('text_projection'));
  const acc = new Map<string, tf.Tensor>();
  micro.forEach((b, j) => {
    if (towerVars.length === 0) return;
    const { value, grads } = tf.variableGrads(() => {
      let s = tf.scalar(0);
      if (imageTrainable) s = s.add(tf.sum(tf.mul(l2norm(model.encodeImage(b.pixelValues, { training: true })), gImgParts[j]!)));
      if (textTrainable) s = s.add(tf.sum(tf.mul(l2norm(model.encodeText(b.inputIds, b.attentionMask, { training: true })), gTxtParts[j]!)));
      return s as tf.Scalar;
    }, towerVars);
    value.dispose();
    for (const [name, g] of rename(grads, byName)) {
      const prev = acc.get(name);
      if (prev) { acc.set(name, tf.add(prev, g)); prev.dispose(); g.dispose(); } else acc.set(name, g);
    }
  });
  [...gImgParts, ...gTxtParts].forEach((t) => t.dispose());
  for (const [name, v] of byName) {
    if (v === model.logitScale && trainable.has(v)) acc.set(name, toTensor(fg.gradLogitScale, v.shape));
    if (model.logitBias && v === model.logitBias && fg.gradLogitBias !== undefined) acc.set(name, toTensor(fg.gradLogitBias, v.shape));
  }
  return { loss, grads: acc };
}

function nameOf(byName: Map<string, tf.Variable>, v: tf.Variable): string {
  for (const [n, x] of byName) if (x === v) return n;
  return '';
}

type TensorLike = tf.Tensor | Float32Array | number;
function scalarOf(x: TensorLike): number {
  if (typeof x === 'number') return x;
  if (x instanceof Float32Array) return x[0]!;
  const v = x.dataSync()[0]!;
  x.dispose();
  return v;
}
function toTensor(x: TensorLike, shape: number[]): tf.Tensor {
  if (typeof x === 'number') return tf.fill(shape.map((s) => (s < 0 ? 1 : s)), x);
  if (x instanceof Float32Array) return tf.tensor(x, shape.includes(-1) ? [shape[0]!, x.length / shape[0]!] : shape);
  return shape.length === x.shape.length || shape.includes(-1) ? x : tf.reshape(x, shape);
}

// One data-parallel step's gradients on one rank (DDP semantics): forward the local shard, the distributed loss
// of the loss family (CLIP: all-gather form; SigLIP: ring form) gives the global loss and ∂global/∂local-embeds,
// backprop through the towers, then SUM the tower gradients over ranks (each rank's share is already a term of the
// global gradient). ∂logitScale/∂logitBias come out of the loss already global and are not reduced again.
import { tf } from '@duet/runtime';
import { distributedClipLoss, distributedSiglipLoss, type ProcessGroup } from '@duet/losses';
import { trainableByName } from '../step.js';
import type { Gradient } from '../optim/storage.js';
import type { TensorBatch, TrainableDualEncoder } from '../model.js';
import { allReduceSumValues, DEFAULT_BUCKET_BYTES } from './buckets.js';
import { deferredBackwardSupported, recordForward, type RecordedForward } from './deferred-backward.js';
import { stepProfiler as prof } from '../profile.js';

export interface DdpStepOptions {
  /** Gradient all-reduce bucket size in bytes (default 25 MiB). */
  bucketBytes?: number;
  /** Single forward with a deferred backward (default: when supported); false = forward twice (GradCache style). */
  deferredBackward?: boolean;
  /** SigLIP: open_clip's bidirectional neighbour exchange. */
  bidirectional?: boolean;
}

export interface DdpStepResult {
  /** The sums over ranks of `extra()`'s floats (see ddpGradients), when given. */
  extra?: Float32Array;
  /** The global batch's loss (identical on every rank). */
  loss: number;
  /**
   * Gradients keyed by HF parameter name, identical on every rank: the tower gradients as values in JS (views of
   * the all-reduce's buffers, which AdamW and clipping read directly), the logit scale/bias ones as tensors.
   * Caller disposes the tensors.
   */
  grads: Map<string, Gradient>;
  /** Bytes this rank sent for the loss (embedding exchange) and for the gradient all-reduce. */
  lossBytes: number;
  reduceBytes: number;
  /** Wall time of the distributed loss (exchange + its compute, including waiting for the slowest rank) and of the all-reduce. */
  lossMs: number;
  reduceMs: number;
}

const l2norm = (x: tf.Tensor2D): tf.Tensor2D => tf.div(x, tf.norm(x, 'euclidean', -1, true)) as tf.Tensor2D;

const isImageParam = (n: string) => n.startsWith('vision_model') || n.startsWith('visual_projection');
const isTextParam = (n: string) => n.startsWith('text_model') || n.startsWith('text_projection');

/**
 * Gradients (keyed by HF name, summed over the group) of the loss of the GLOBAL batch = the concatenation of
 * every rank's `micro` batches. `micro.length > 1` is gradient accumulation within the rank: features of every
 * micro-batch are cached, the distributed loss runs once over the rank's whole shard, then each micro-batch is
 * re-forwarded with a tape. The returned loss is the global one (identical on every rank). `extra()`, called after
 * the backward, gives a few floats summed over ranks in the gradient all-reduce's message (returned as `extra`).
 */
export async function ddpGradients(
  model: TrainableDualEncoder, micro: TensorBatch[], group: ProcessGroup, opts: DdpStepOptions = {}, extra?: () => Promise<Float32Array>,
): Promise<DdpStepResult> {
  const byName = trainableByName(model);
  if (byName.size === 0) throw new Error('nothing to train: every parameter is frozen');
  const family = model.lossFamily;
  if (family === 'siglip' && !model.logitBias) throw new Error('siglip loss needs a logit_bias parameter, the model has none');
  const towerNames = [...byName].filter(([, v]) => v !== model.logitScale && v !== model.logitBias).map(([n]) => n);
  const towerVars = towerNames.map((n) => byName.get(n)!);
  const imageTrainable = towerNames.some(isImageParam);
  const textTrainable = towerNames.some(isTextParam);

  // 1. local features: one taped forward (backprop deferred until the loss's gradients arrive), or cached.
  const taped = micro.length === 1 && towerVars.length > 0 && opts.deferredBackward !== false && deferredBackwardSupported();
  let rec: RecordedForward | undefined;
  let img: tf.Tensor2D, txt: tf.Tensor2D;
  if (taped) {
    const b = micro[0]!;
    rec = recordForward(() => tf.concat([
      l2norm(model.encodeImage(b.pixelValues, { training: true })),
      l2norm(model.encodeText(b.inputIds, b.attentionMask, { training: true })),
    ], 1), towerVars); // [b, 2E]
    const [n, e2] = rec.output.shape as [number, number];
    img = tf.slice(rec.output, [0, 0], [n, e2 / 2]) as tf.Tensor2D; // [b, E]
    txt = tf.slice(rec.output, [0, e2 / 2], [n, e2 / 2]) as tf.Tensor2D; // [b, E]
  } else {
    const cached = micro.map((b) => tf.tidy(() => ({
      img: l2norm(model.encodeImage(b.pixelValues, { training: true })),
      txt: l2norm(model.encodeText(b.inputIds, b.attentionMask, { training: true })),
    })));
    img = tf.concat(cached.map((c) => c.img)) as tf.Tensor2D; // [b, E]
    txt = tf.concat(cached.map((c) => c.txt)) as tf.Tensor2D; // [b, E]
    cached.forEach((c) => tf.dispose([c.img, c.txt]));
  }

  prof.lap('forward');
  // 2. the distributed loss: global value, ∂global/∂local features, global ∂logitScale/∂logitBias.
  let res;
  const t0 = performance.now();
  try {
    const local = { imageEmbeds: img, textEmbeds: txt, logitScale: model.logitScale, ...(family === 'siglip' ? { logitBias: model.logitBias! } : {}) };
    res = family === 'clip'
      ? await distributedClipLoss(local, group, { checkFinite: false })
      : await distributedSiglipLoss(local, group, { checkFinite: false, ...(opts.bidirectional ? { bidirectional: true } : {}) });
  } catch (err) {
    rec?.release();
    throw err;
  } finally {
    tf.dispose([img, txt]);
  }
  const loss = res.loss.dataSync()[0]!;
  const lossMs = performance.now() - t0;
  prof.lap('loss');

  // 3. backprop the local feature gradients through the towers.
  let towerGrads: (tf.Tensor | undefined)[];
  if (rec) {
    const dy = tf.concat([res.gradImageEmbeds, res.gradTextEmbeds], 1);
    towerGrads = rec.backward(dy);
    dy.dispose();
  } else {
    towerGrads = new Array<tf.Tensor | undefined>(towerVars.length);
    const sizes = micro.map((b) => b.pixelValues.shape[0]);
    const gImg = tf.split(res.gradImageEmbeds, sizes);
    const gTxt = tf.split(res.gradTextEmbeds, sizes);
    micro.forEach((b, j) => {
      if (towerVars.length === 0) return;
      const { value, grads } = tf.variableGrads(() => {
        let s = tf.scalar(0);
        if (imageTrainable) s = s.add(tf.sum(tf.mul(l2norm(model.encodeImage(b.pixelValues, { training: true })), gImg[j]!)));
        if (textTrainable) s = s.add(tf.sum(tf.mul(l2norm(model.encodeText(b.inputIds, b.attentionMask, { training: true })), gTxt[j]!)));
        return s as tf.Scalar;
      }, towerVars);
      value.dispose();
      towerVars.forEach((v, i) => {
        const g = grads[v.name];
        if (!g) return;
        const prev = towerGrads[i];
        towerGrads[i] = prev ? tf.add(prev, g) : g;
        if (prev) { prev.dispose(); g.dispose(); }
      });
    });
    tf.dispose([...gImg, ...gTxt]);
  }

  prof.lap('backward');
  // 4. sum the tower gradients over ranks (bucketed); the logit gradients are already global.
  const before = group.bytesSent;
  const t1 = performance.now();
  const reduced = await allReduceSumValues(group, towerGrads, towerVars.map((v) => v.shape), opts.bucketBytes ?? DEFAULT_BUCKET_BYTES, extra);
  const reduceBytes = group.bytesSent - before;
  const reduceMs = performance.now() - t1;
  const grads = new Map<string, Gradient>();
  towerNames.forEach((n, i) => grads.set(n, reduced[i]!));
  for (const [name, v] of byName) {
    if (v === model.logitScale) grads.set(name, tf.reshape(res.gradLogitScale, v.shape));
    else if (v === model.logitBias && res.gradLogitBias) grads.set(name, tf.reshape(res.gradLogitBias, v.shape));
  }
  tf.dispose([res.loss, res.localLoss, res.gradImageEmbeds, res.gradTextEmbeds, res.gradLogitScale, ...(res.gradLogitBias ? [res.gradLogitBias] : [])]);
  prof.lap('allreduce');
  return { loss, grads, lossBytes: res.bytesCommunicated, reduceBytes, lossMs, reduceMs, ...(reduced.extra ? { extra: reduced.extra } : {}) };
}

// One VQA head trained on a VqaSet: seeded minibatches of (scene, question) examples, softmax cross-entropy,
// AdamW + warmup/cosine + global-norm clipping. With frozen towers their outputs are constants, so they are
// computed once per scene and per distinct question and gathered per batch (the head's step then costs only the
// head); fine-tuning runs the towers in every step.
import { createRng, tf } from '@duet/runtime';
import { vqaLoss, type BlockAttention, type TowerFeatures, type VqaModel } from '@duet/fusion';
import { AdamW } from '../optim/adamw.js';
import { clipByGlobalNorm } from '../optim/clip-grad.js';
import { makeSchedule } from '../optim/schedule.js';
import type { VqaTrainConfig } from './config.js';
import { vqaAccuracy, type VqaAccuracy, type VqaSet } from './data.js';

export interface HeadProgress {
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  samplesSeen: number;
}

export interface HeadHooks {
  onStep?: (p: HeadProgress & { gradNorm: number }) => void;
  onEval?: (step: number, acc: VqaAccuracy) => void;
  onLog?: (m: string) => void;
  signal?: AbortSignal;
}

export interface HeadResult {
  steps: number;
  seconds: number;
  lastLoss: number;
  eval: VqaAccuracy;
  trainAccuracy: VqaAccuracy;
  stopped: 'completed' | 'interrupted';
}

/** Outputs of the frozen towers for every scene / distinct question of a set (constants while the head trains). */
export class FeatureCache {
  private constructor(readonly image: tf.Tensor | undefined, readonly text: tf.Tensor | undefined) {}

  /** Caches the image side when the vision tower is frozen, the text side when the text tower is. */
  static build(model: VqaModel, set: VqaSet, chunk = 64): FeatureCache {
    const [s, c, h, w] = set.pixelShape;
    const per = c * h * w;
    const imgs: tf.Tensor[] = [];
    for (let i = 0; model.isFrozen('vision') && i < s; i += chunk) {
      const n = Math.min(chunk, s - i);
      const px = tf.tensor4d(set.pixelValues.subarray(i * per, (i + n) * per), [n, c, h, w]);
      imgs.push(model.imageFeatures(px));
      px.dispose();
    }
    const [q, l] = set.textShape;
    const txts: tf.Tensor[] = [];
    for (let i = 0; model.isFrozen('text') && i < q; i += chunk) {
      const n = Math.min(chunk, q - i);
      const ids = tf.tensor2d(set.inputIds.subarray(i * l, (i + n) * l), [n, l], 'int32');
      const m = tf.tensor2d(set.attentionMask.subarray(i * l, (i + n) * l), [n, l], 'int32');
      txts.push(model.textFeatures(ids, m));
      tf.dispose([ids, m]);
    }
    const cat = (xs: tf.Tensor[]) => {
      if (!xs.length) return undefined;
      const out = tf.concat(xs, 0);
      tf.dispose(xs);
      return out;
    };
    return new FeatureCache(cat(imgs), cat(txts));
  }

  dispose(): void {
    tf.dispose([this.image, this.text].filter((t): t is tf.Tensor => !!t));
  }
}

/**
 * Tower features for a batch: cached for frozen towers, computed (with gradients) for fine-tuned ones. With
 * `group` > 1 the batch holds runs of `group` examples of one scene, and the vision tower runs once per run.
 */
export function batchFeatures(model: VqaModel, set: VqaSet, cache: FeatureCache | undefined, scenes: Int32Array, questions: Int32Array, training: boolean, group = 1): TowerFeatures {
  const [, c, h, w] = set.pixelShape;
  const per = c * h * w;
  const [, l] = set.textShape;
  const ids = new Int32Array(questions.length * l);
  const mask = new Int32Array(questions.length * l);
  questions.forEach((q, i) => {
    ids.set(set.inputIds.subarray(q * l, (q + 1) * l), i * l);
    mask.set(set.attentionMask.subarray(q * l, (q + 1) * l), i * l);
  });
  let attentionMask = tf.tensor2d(mask, [questions.length, l], 'int32');
  let image: tf.Tensor;
  if (cache?.image) image = tf.tidy(() => tf.gather(cache.image!, tf.tensor1d(scenes, 'int32')));
  else {
    const unique = group > 1 ? scenes.filter((_, i) => i % group === 0) : scenes;
    const px = new Float32Array(unique.length * per);
    unique.forEach((s, i) => px.set(set.pixelValues.subarray(s * per, (s + 1) * per), i * per));
    const pixelValues = tf.tensor4d(px, [unique.length, c, h, w]);
    image = model.imageFeatures(pixelValues, { training: training && !model.isFrozen('vision') });
    pixelValues.dispose();
    if (group > 1) {
      const one = image;
      // [S, ...] -> [S * group, ...]: each scene's features repeated for its run of questions (tile: gradient = sum).
      image = tf.tidy(() => tf.tile(one.expandDims(1), [1, group, ...one.shape.slice(1).map(() => 1)]).reshape([unique.length * group, ...one.shape.slice(1)]));
      one.dispose();
    }
  }
  let text: tf.Tensor;
  if (cache?.text) text = tf.tidy(() => tf.gather(cache.text!, tf.tensor1d(questions, 'int32')));
  else {
    const inputIds = tf.tensor2d(ids, [questions.length, l], 'int32');
    text = model.textFeatures(inputIds, attentionMask, { training: training && !model.isFrozen('text') });
    inputIds.dispose();
  }
  // Drop the trailing all-padding columns: padding keys are masked and padded text rows never reach the output, so
  // the head's result is unchanged while its text-side cost shrinks to the longest question of the batch.
  let used = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) used = Math.max(used, (i % l) + 1);
  if (used > 0 && used < l && text.rank === 3) {
    const [t, m] = [text, attentionMask];
    text = t.slice([0, 0, 0], [-1, used, -1]);
    attentionMask = m.slice([0, 0], [-1, used]);
    tf.dispose([t, m]);
  }
  return { image, text, attentionMask };
}

const pick = (set: VqaSet, idx: ArrayLike<number>) => ({
  scenes: Int32Array.from(Array.from(idx, (i) => set.examples[i]!.scene)),
  questions: Int32Array.from(Array.from(idx, (i) => set.examples[i]!.question)),
});

/** Example indices of one epoch: each example repeated by its question type's weight (default 1; 0 drops the type). */
export function weightedExamples(set: { name: string; examples: readonly { type: string }[] }, weights: Record<string, number>): number[] {
  const types = new Set(set.examples.map((e) => e.type));
  const unknown = Object.keys(weights).filter((t) => !types.has(t));
  if (unknown.length) throw new Error(`typeWeights: no "${unknown.join('", "')}" questions in ${set.name} (its types: ${[...types].sort().join(', ')})`);
  const pool = set.examples.flatMap((e, i) => Array<number>(weights[e.type] ?? 1).fill(i));
  if (!pool.length) throw new Error(`typeWeights: every question type of ${set.name} has weight 0`);
  return pool;
}

/** Predicted answers (and, on request, the attention maps) for examples of a set, in batches. */
export function predictSet(
  model: VqaModel, set: VqaSet, cache: FeatureCache | undefined, indices?: number[], opts: { batch?: number; attentions?: boolean } = {},
): { answers: string[]; attentions?: BlockAttention[][] } {
  const idx = indices ?? set.examples.map((_, i) => i);
  const vocab = model.answerVocab;
  const answers: string[] = [];
  const attentions: BlockAttention[][] = [];
  const bs = opts.batch ?? 256;
  for (let i = 0; i < idx.length; i += bs) {
    const { scenes, questions } = pick(set, idx.slice(i, i + bs));
    const f = batchFeatures(model, set, cache, scenes, questions, false);
    const out = model.fuse(f, { outputAttentions: !!opts.attentions });
    const best = tf.tidy(() => tf.argMax(out.logits, -1));
    for (const a of best.dataSync()) answers.push(vocab[a]!);
    if (opts.attentions && out.attentions) attentions.push(out.attentions);
    tf.dispose([best, out.logits, out.pooled, f.image, f.text, f.attentionMask]);
  }
  return opts.attentions ? { answers, attentions } : { answers };
}

export async function trainVqaHead(model: VqaModel, train: VqaSet, evalSet: VqaSet, config: VqaTrainConfig, hooks: HeadHooks = {}): Promise<HeadResult> {
  const log = hooks.onLog ?? (() => undefined);
  const t0 = Date.now();
  const answerIndex = new Map(model.answerVocab.map((a, i) => [a, i]));
  const labelsOf = (idx: Int32Array) => Int32Array.from(idx, (i) => answerIndex.get(train.examples[i]!.answer) ?? -1);
  const pool = weightedExamples(train, config.typeWeights); // before any tower work: a misnamed type fails at once
  const trainCache = FeatureCache.build(model, train);
  // Held-out features are cached only while they cannot change (frozen towers); otherwise recomputed per evaluation.
  const evalCacheNow = () => FeatureCache.build(model, evalSet);
  if (model.frozen !== 'none') log(`cached frozen tower outputs (${model.frozen === 'towers' ? 'vision + text' : model.frozen}) for ${train.pixelShape[0]} scenes / ${train.questions.length} questions`);

  const names = new Map([...model.namedVariables()].map(([k, v]) => [v.name, k]));
  const params = new Map(model.trainableVariables().map((v) => [names.get(v.name)!, v]));
  const opt = new AdamW(params, { lr: config.lr, beta1: config.beta1, beta2: config.beta2, eps: config.eps, weightDecay: config.weightDecay });
  const schedule = makeSchedule({ name: config.schedule, baseLr: config.lr, warmup: Math.min(config.warmup, config.steps), steps: config.steps });
  const rng = createRng(config.seed).fork('vqa-batches');
  let order: number[] = [];
  let cursor = 0;
  const group = config.questionsPerScene;
  const byScene: number[][] = Array.from({ length: train.pixelShape[0] }, () => []);
  for (const i of pool) byScene[train.examples[i]!.scene]!.push(i);
  const scenes = byScene.flatMap((qs, k) => (qs.length ? [k] : []));
  // Each epoch: a fresh permutation of the (weighted) examples (group 1) or of scenes, with `group` of each scene's questions.
  const nextBatch = (): Int32Array => {
    const out = new Int32Array(config.batchSize);
    for (let i = 0; i < out.length; i += group) {
      if (cursor >= order.length) {
        order = rng.shuffle(group === 1 ? [...pool] : [...scenes]);
        cursor = 0;
      }
      const k = order[cursor++]!;
      if (group === 1) out[i] = k;
      else {
        const qs = rng.shuffle([...byScene[k]!]);
        for (let j = 0; j < group; j++) out[i + j] = qs[j % qs.length]!;
      }
    }
    return out;
  };

  let lastLoss = NaN;
  let step = 0;
  let stopped: HeadResult['stopped'] = 'completed';
  for (; step < config.steps; step++) {
    if (hooks.signal?.aborted) {
      stopped = 'interrupted';
      break;
    }
    const idx = nextBatch();
    const { scenes, questions } = pick(train, idx);
    const labels = tf.tensor1d(labelsOf(idx), 'int32');
    opt.lr = schedule(step);
    const { value, grads } = tf.variableGrads(() => {
      const f = batchFeatures(model, train, trainCache, scenes, questions, true, group);
      const out = model.fuse(f);
      return vqaLoss(out.logits, labels);
    }, [...params.values()]);
    const named = new Map(Object.entries(grads).map(([k, g]) => [names.get(k)!, g]));
    const { norm, grads: clipped } = config.gradClipNorm > 0 ? clipByGlobalNorm(named, config.gradClipNorm) : { norm: NaN, grads: named };
    opt.applyGradients(clipped);
    lastLoss = (await value.data())[0]!;
    tf.dispose([value, labels, ...Object.values(grads), ...clipped.values()]); // clipping already freed the unscaled ones
    if (!Number.isFinite(lastLoss)) throw new Error(`VQA training: non-finite loss at step ${step + 1}; lower --lr`);
    hooks.onStep?.({ step: step + 1, totalSteps: config.steps, loss: lastLoss, lr: opt.lr, samplesSeen: (step + 1) * config.batchSize, gradNorm: norm });
    if (config.evalEvery > 0 && (step + 1) % config.evalEvery === 0 && step + 1 < config.steps) {
      const ec = evalCacheNow();
      hooks.onEval?.(step + 1, vqaAccuracy(evalSet.examples, predictSet(model, evalSet, ec).answers));
      ec.dispose();
    }
    await new Promise((r) => setImmediate(r)); // let Ctrl-C through
  }
  const evalCache = evalCacheNow();
  const evalAcc = vqaAccuracy(evalSet.examples, predictSet(model, evalSet, evalCache).answers);
  hooks.onEval?.(step, evalAcc);
  // Training accuracy on (at most) 2000 training examples, to tell under- from over-fitting.
  const sample = train.examples.map((_, i) => i).slice(0, 2000);
  const trainAcc = vqaAccuracy(sample.map((i) => train.examples[i]!), predictSet(model, train, trainCache, sample).answers);
  trainCache.dispose();
  evalCache.dispose();
  opt.dispose();
  return { steps: step, seconds: (Date.now() - t0) / 1000, lastLoss, eval: evalAcc, trainAccuracy: trainAcc, stopped };
}

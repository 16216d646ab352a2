// Evaluation of a dual encoder: zero-shot classification (class names × templates, prompt ensembling) and
// cross-modal retrieval (R@1/5/10 both directions, mean/median rank) on a built-in or CSV/WebDataset eval set.
import { tf } from '@duet/runtime';
import { FASHION_MNIST_TEMPLATES, createLoader } from '@duet/data';
import { ensembleClassEmbeds, zeroShotAccuracy } from './eval/zero-shot-metrics.js';
import { retrievalMetrics } from './eval/retrieval-metrics.js';
import type { EvalSummary } from './eval/summary.js';
import { toMicroBatches } from './loop.js';
import { openDataset, type Session } from './session.js';
import type { TrainConfig } from './config.js';
import type { TrainableDualEncoder } from './model.js';

export type { EvalSummary };

export interface EvalOptions {
  log?: (m: string) => void;
  batchSize?: number;
  /** Retrieval on at most this many pairs (the N×N score matrix grows quadratically). */
  retrievalLimit?: number;
}

const l2 = (x: tf.Tensor2D) => tf.div(x, tf.norm(x, 'euclidean', -1, true)) as tf.Tensor2D;

export async function evaluate(
  model: TrainableDualEncoder,
  s: Pick<Session, 'tokenizer' | 'imageProcessor' | 'preprocessorConfig' | 'textUsesAttentionMask'>,
  config: Pick<TrainConfig, 'evalData' | 'evalLimit' | 'seed'>,
  o: EvalOptions = {},
): Promise<EvalSummary> {
  const t0 = Date.now();
  const ds = await openDataset(config.evalData, 'test', { seed: config.seed, limit: config.evalLimit });
  const limit = ds.size;
  const loader = createLoader(ds.dataset, {
    batchSize: o.batchSize ?? 250, seed: 0, shuffle: false, epochs: 1, drop_last: false, imageProcessor: s.imageProcessor,
    preprocessorConfig: s.preprocessorConfig, tokenizer: s.tokenizer,
  });
  const imgParts: Float32Array[] = [];
  const txtParts: Float32Array[] = [];
  const labels: number[] = [];
  let n = 0, dim = 0;
  try {
    for await (const batch of loader) {
      const [t] = toMicroBatches(batch, 1, s.textUsesAttentionMask ?? true);
      const [img, txt] = tf.tidy(() => [
        l2(model.encodeImage(t!.pixelValues, { training: false })),
        l2(model.encodeText(t!.inputIds, t!.attentionMask, { training: false })),
      ]);
      tf.dispose([t!.pixelValues, t!.inputIds, ...(t!.attentionMask ? [t!.attentionMask] : [])]);
      dim = img!.shape[1]!;
      imgParts.push(img!.dataSync() as Float32Array);
      txtParts.push(txt!.dataSync() as Float32Array);
      tf.dispose([img!, txt!]);
      if (batch.labels) labels.push(...batch.labels);
      n += batch.pixelShape[0];
      if (n >= limit) break;
    }
  } finally {
    await loader.close();
  }
  if (n === 0) throw new Error(`eval data ${config.evalData}: no samples`);
  const count = Math.min(n, limit);
  const imageEmbeds = concat(imgParts).subarray(0, count * dim);
  const textEmbeds = concat(txtParts).subarray(0, count * dim);
  const out: EvalSummary = { dataset: config.evalData, samples: count, seconds: 0 };
  const classes = ds.dataset.classNames ? [...ds.dataset.classNames] : undefined;
  if (classes && labels.length >= count) {
    const templates: readonly string[] = config.evalData === 'fashion-mnist' ? FASHION_MNIST_TEMPLATES : ['a photo of a {}.'];
    const prompts = classes.flatMap((c) => templates.map((t) => t.replaceAll('{}', c)));
    const classEmbeds = ensembleClassEmbeds(embedTexts(model, s, prompts), classes.length, templates.length, dim);
    const { predictions: _p, ...zs } = zeroShotAccuracy(imageEmbeds, classEmbeds, dim, labels.slice(0, count));
    out.zeroShot = { ...zs, classes, templates: templates.length };
  }
  const r = Math.min(count, o.retrievalLimit ?? 1000);
  const ids = Array.from({ length: r }, (_, i) => i);
  out.retrieval = { ...retrievalMetrics(imageEmbeds.subarray(0, r * dim), textEmbeds.subarray(0, r * dim), dim, ids), samples: r };
  out.seconds = (Date.now() - t0) / 1000;
  o.log?.(`eval ${config.evalData}: ${out.zeroShot ? `zero-shot top-1 ${(out.zeroShot.top1 * 100).toFixed(2)}%  ` : ''}` +
    `i→t R@1 ${(out.retrieval.imageToText.r1 * 100).toFixed(1)}%  t→i R@1 ${(out.retrieval.textToImage.r1 * 100).toFixed(1)}% (${out.samples} samples, ${out.seconds.toFixed(1)} s)`);
  return out;
}

/** Un-normalised text embeds for a list of strings, batched. */
export function embedTexts(model: TrainableDualEncoder, s: Pick<Session, 'tokenizer' | 'textUsesAttentionMask'>, texts: string[], batchSize = 256): Float32Array {
  const parts: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += batchSize) {
    const enc = s.tokenizer.encode(texts.slice(i, i + batchSize));
    const shape = [enc.shape[0], enc.shape[1]] as [number, number];
    const mask = s.textUsesAttentionMask ?? true;
    const e = tf.tidy(() => model.encodeText(tf.tensor2d(enc.inputIds, shape, 'int32'), mask ? tf.tensor2d(enc.attentionMask, shape, 'int32') : undefined, { training: false }));
    parts.push(e.dataSync() as Float32Array);
    e.dispose();
  }
  return concat(parts);
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

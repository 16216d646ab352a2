// `duet train --task vqa`: a cross-attention VQA head (and, with the same budget, the late-fusion baseline) on a
// contrastively trained model; held-out accuracy per question type, side by side, as JSON + markdown; an
// attention-map figure; each head saved as a model folder (towers + `duet_fusion` + `fusion.*` tensors).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, tf } from '@duet/runtime';
import { loadModelFolder, saveModelFolder } from '@duet/model-format/node';
import { loadDualEncoder } from '@duet/encoders';
import { VqaModel, attentionFigureSvg, buildAnswerVocab, type AttentionFigureExample, type BlockAttention } from '@duet/fusion';
import { writeFileAtomic } from '../io/atomic.js';
import { MetricsLog } from '../io/metrics-log.js';
import { svgToPng } from '../io/plot.js';
import { openModel, type Session } from '../session.js';
import type { VqaTrainConfig } from './config.js';
import { loadVqaSet, type VqaAccuracy, type VqaSet } from './data.js';
import { predictSet, trainVqaHead, type HeadProgress, type HeadResult } from './train-head.js';

export interface VqaRunHooks {
  onLog?: (m: string) => void;
  onProgress?: (head: string, p: HeadProgress) => void;
  signal?: AbortSignal;
}

export interface VqaHeadSummary {
  type: 'cross_attention' | 'late_fusion';
  parameters: number;
  steps: number;
  seconds: number;
  lastLoss: number;
  eval: VqaAccuracy;
  train: VqaAccuracy;
  modelDir: string;
}

export interface VqaResults {
  model: string;
  data: string;
  evalData: string;
  trainExamples: number;
  evalExamples: number;
  answerVocab: string[];
  freeze: string;
  budget: { steps: number; batchSize: number; lr: number };
  heads: Record<string, VqaHeadSummary>;
}

export interface VqaRunResult {
  outDir: string;
  results: VqaResults;
  table: string;
  figure?: string;
  stopped: 'completed' | 'interrupted';
}

const TYPE_LABEL: Record<string, string> = {
  color: 'colour', shape: 'shape', count: 'count', count_color: 'count by colour', relation: 'relative position', exists: 'existence', location: 'location',
};

/** Markdown table: one row per question type plus overall, one column per head. */
export function resultsTable(results: VqaResults): string {
  const heads = Object.entries(results.heads);
  const types = [...new Set(heads.flatMap(([, h]) => Object.keys(h.eval.byType)))];
  const pct = (x: number | undefined) => (x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
  const lines = [
    `| question type | n | ${heads.map(([k]) => k.replace('_', '-')).join(' | ')} |`,
    `|---|---:|${heads.map(() => '---:').join('|')}|`,
    ...types.map((t) => `| ${TYPE_LABEL[t] ?? t} | ${heads[0]![1].eval.byType[t]?.count ?? 0} | ${heads.map(([, h]) => pct(h.eval.byType[t]?.accuracy)).join(' | ')} |`),
    `| **overall** | ${heads[0]![1].eval.count} | ${heads.map(([, h]) => `**${pct(h.eval.overall)}**`).join(' | ')} |`,
    `| train (≤2000 ex.) | | ${heads.map(([, h]) => pct(h.train.overall)).join(' | ')} |`,
    `| parameters | | ${heads.map(([, h]) => h.parameters.toLocaleString('en-US')).join(' | ')} |`,
    `| training time | | ${heads.map(([, h]) => `${h.seconds.toFixed(0)} s`).join(' | ')} |`,
  ];
  return lines.join('\n') + '\n';
}

/** Head-averaged vision→text attention of the last block for one example: [Np, Nt'] over real tokens only. */
function figureExample(model: VqaModel, set: VqaSet, session: Session, exampleIdx: number, att: BlockAttention[], row: number, predicted: string): AttentionFigureExample {
  const ex = set.examples[exampleIdx]!;
  const last = att[att.length - 1]!.visionToText; // [B, H, Nq, Nt]
  const [, h, nq, nt] = last.shape;
  const probs = last.dataSync() as Float32Array;
  const l = set.textShape[1];
  const mask = set.attentionMask.subarray(ex.question * l, (ex.question + 1) * l);
  const ids = set.inputIds.subarray(ex.question * l, (ex.question + 1) * l);
  const keep = Array.from({ length: nt }, (_, j) => j).filter((j) => mask[j] === 1);
  // Rows: learned query (pooled 'cls') and a vision CLS token (CLIP ViT) are not image patches.
  const skipQuery = model.fusionConfig.pooled === 'cls' ? 1 : 0;
  let patches = nq - skipQuery;
  const grid = Math.round(Math.sqrt(patches));
  const skip = skipQuery + (grid * grid === patches ? 0 : 1);
  patches = nq - skip;
  const g = Math.round(Math.sqrt(patches));
  const attention = new Float32Array(patches * keep.length);
  for (let p = 0; p < patches; p++) {
    keep.forEach((j, k) => {
      let s = 0;
      for (let hh = 0; hh < h; hh++) s += probs[(((row * h + hh) * nq) + p + skip) * nt + j]!;
      attention[p * keep.length + k] = s / h;
    });
  }
  const tokens = keep.map((j) => (session.tokenizer.idToToken(ids[j]!) ?? String(ids[j])).replace(/^▁/, ''));
  return { image: set.images[ex.scene]!, tokens, attention, grid: g, title: `${set.questions[ex.question]}  predicted: ${predicted}  answer: ${ex.answer}` };
}

async function attentionFigure(model: VqaModel, set: VqaSet, session: Session, n: number, outDir: string): Promise<string | undefined> {
  if (n <= 0 || model.fusionConfig.type !== 'cross_attention') return undefined;
  // Different scenes, spread over question types, relational ones first (the point of cross-attention).
  const order = ['relation', 'color', 'count_color', 'shape', 'exists', 'count'];
  const picked: number[] = [];
  const scenes = new Set<number>();
  for (let k = 0; picked.length < n && k < order.length * n; k++) {
    const t = order[k % order.length]!;
    const i = set.examples.findIndex((e) => e.type === t && !scenes.has(e.scene));
    if (i < 0) continue;
    picked.push(i);
    scenes.add(set.examples[i]!.scene);
  }
  const { answers, attentions } = predictSet(model, set, undefined, picked, { attentions: true, batch: picked.length });
  const att = attentions![0]!;
  const examples = picked.map((i, r) => figureExample(model, set, session, i, att, r, answers[r]!));
  tf.dispose(att.flatMap((a) => [a.visionToText, ...(a.textToVision ? [a.textToVision] : [])]));
  const svg = attentionFigureSvg(examples, { scale: Math.max(1, Math.round(96 / set.pixelShape[3])) });
  const png = join(outDir, 'attention.png');
  writeFileAtomic(join(outDir, 'attention.svg'), svg);
  writeFileAtomic(png, await svgToPng(svg));
  return png;
}

export async function trainVqa(config: VqaTrainConfig, hooks: VqaRunHooks = {}): Promise<VqaRunResult> {
  const log = hooks.onLog ?? (() => undefined);
  await initBackend({ backend: config.backend });
  const modelDir = config.model!;
  const session = await openModel(modelDir);
  const folder = await loadModelFolder(modelDir);
  const maxLength = session.modelConfig.text_config.max_position_embeddings;
  const load = (spec: string) => loadVqaSet(spec, { imageProcessor: session.imageProcessor, tokenizer: session.tokenizer, maxLength, onProgress: (n) => log(`${spec}: ${n} scenes`) });
  const train = await load(config.data);
  const evalSet = await load(config.evalData);
  for (const set of [train, evalSet]) {
    if (set.truncated) log(`warning: ${set.truncated} of ${set.questions.length} distinct questions in ${set.name} are longer than the text tower's ${maxLength} positions and were cut off (answers may become ambiguous); use a model with a longer text context`);
  }
  const answerVocab = buildAnswerVocab(train.examples.map((e) => e.answer));
  const unseen = evalSet.examples.filter((e) => !answerVocab.includes(e.answer)).length;
  log(`VQA data: ${train.examples.length} training examples (${train.pixelShape[0]} scenes, ${train.questions.length} distinct questions), ${evalSet.examples.length} held-out (${evalSet.pixelShape[0]} scenes); ${answerVocab.length} answers${unseen ? `; ${unseen} held-out answers outside the vocabulary (always wrong)` : ''}`);
  mkdirSync(config.out, { recursive: true });
  const metrics = new MetricsLog(join(config.out, 'metrics.jsonl'));

  const plan: { label: string; type: 'cross_attention' | 'late_fusion'; fusion: Record<string, unknown>; dir: string }[] = [
    { label: config.head, type: config.head, fusion: config.fusion, dir: join(config.out, 'model') },
  ];
  if (config.baseline && config.head !== 'late_fusion') plan.push({ label: 'late_fusion', type: 'late_fusion', fusion: config.baselineFusion, dir: join(config.out, 'baseline', 'model') });

  const heads: Record<string, VqaHeadSummary> = {};
  let figure: string | undefined;
  let stopped: VqaRunResult['stopped'] = 'completed';
  for (const [i, p] of plan.entries()) {
    const encoder = i === 0 ? session.model : await loadDualEncoder(folder);
    const model = VqaModel.create(encoder, { ...p.fusion, type: p.type, answer_vocab: answerVocab }, { seed: config.seed, freeze: config.freeze, textTowerMask: session.textUsesAttentionMask });
    log(`${p.label}: ${model.head.parameterCount().toLocaleString('en-US')} head parameters, frozen: ${config.freeze}, ${config.steps} steps × batch ${config.batchSize}`);
    let res: HeadResult;
    try {
      res = await trainVqaHead(model, train, evalSet, config, {
        onLog: log,
        ...(hooks.signal ? { signal: hooks.signal } : {}),
        onStep: (s) => {
          hooks.onProgress?.(p.label, s);
          if (s.step % config.logEvery === 0 || s.step === s.totalSteps) metrics.append({ step: s.step, head: p.label, loss: s.loss, lr: s.lr, grad_norm: s.gradNorm });
        },
        onEval: (step, acc) => {
          metrics.append({ step, head: p.label, eval_accuracy: acc.overall, eval_by_type: Object.fromEntries(Object.entries(acc.byType).map(([k, v]) => [k, v.accuracy])) });
          log(`${p.label} step ${step}: held-out accuracy ${(acc.overall * 100).toFixed(1)}% (${Object.entries(acc.byType).map(([k, v]) => `${k} ${(v.accuracy * 100).toFixed(0)}%`).join(', ')})`);
        },
      });
      await saveModelFolder(p.dir, {
        config: model.config as never,
        tensors: model.toTensors(),
        ...(folder.tokenizerJson ? { tokenizerJson: folder.tokenizerJson as Record<string, unknown> } : {}),
        ...(folder.tokenizerConfig ? { tokenizerConfig: folder.tokenizerConfig as Record<string, unknown> } : {}),
        preprocessorConfig: session.preprocessorConfig,
        duet: {
          provenance: {
            tool: 'duet train --task vqa', created_at: new Date().toISOString(), step: res.steps, parent: modelDir,
            config: { ...config, head: p.type, fusion: p.fusion } as Record<string, unknown>,
            eval: { vqa_accuracy: res.eval.overall, by_type: Object.fromEntries(Object.entries(res.eval.byType).map(([k, v]) => [k, v.accuracy])) },
          },
        },
      });
      if (i === 0) figure = await attentionFigure(model, evalSet, session, config.attentionExamples, config.out);
    } finally {
      model.dispose();
    }
    heads[p.label] = {
      type: p.type, parameters: model.head.parameterCount(), steps: res.steps, seconds: res.seconds, lastLoss: res.lastLoss,
      eval: res.eval, train: res.trainAccuracy, modelDir: p.dir,
    };
    if (res.stopped === 'interrupted') {
      stopped = 'interrupted';
      break;
    }
  }
  const results: VqaResults = {
    model: modelDir, data: config.data, evalData: config.evalData, trainExamples: train.examples.length, evalExamples: evalSet.examples.length,
    answerVocab, freeze: config.freeze, budget: { steps: config.steps, batchSize: config.batchSize, lr: config.lr }, heads,
  };
  const table = resultsTable(results);
  writeFileAtomic(join(config.out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(config.out, 'results.md'), `# VQA on held-out scenes (${config.evalData})\n\nTowers from \`${modelDir}\` (frozen: ${config.freeze}); each head: ${config.steps} steps × batch ${config.batchSize}, AdamW lr ${config.lr}.\n\n${table}`);
  return { outDir: config.out, results, table, ...(figure ? { figure } : {}), stopped };
}

// Experiment: can the fusion head learn the shapes VQA questions when its inputs are perfect? The towers are replaced
// by oracle tokens — one vision token per grid cell with one-hot colour, shape, row, column and an "empty" flag, and
// word-level one-hot text tokens with one-hot positions — so any failure is the head's (architecture/optimisation),
// not the towers' features. Held-out accuracy per question type every 250 steps (table + JSON under bench-results/).
//
//   npx tsx --conditions=@duet/source tools/experiments/vqa-oracle/run.ts [--types relation|shape,color|all|location]
//        [--fusion '{"symmetric":true}'] [--head fusion|mlp] [--steps 1000] [--lr 2e-3] [--scenes 4000] [--seed 0]
// --types location adds the dataset's optional "where is the <colour> <shape>?" → grid cell questions ('all' excludes them).
// --head mlp: a plain 3-layer MLP on the flattened tokens instead of the fusion head (knows every cell and word
// position by its index: the reference point for what the data alone supports).
import { parseArgs } from 'node:util';
import { createRng, initBackend, tf } from '@duet/runtime';
import { SHAPE_KINDS, shapesScene } from '@duet/data';
import { FusionHead, buildAnswerVocab, vqaLoss } from '@duet/fusion';
import { openModel, weightedExamples } from '@duet/training';
import { printTable, writeResult, type Row } from '../../bench/report.ts';

const { values: a } = parseArgs({
  options: {
    types: { type: 'string', default: 'all' }, fusion: { type: 'string', default: '{}' }, head: { type: 'string', default: 'fusion' }, steps: { type: 'string', default: '1000' },
    lr: { type: 'string', default: '2e-3' }, weights: { type: 'string', default: '' }, 'text-model': { type: 'string' }, scenes: { type: 'string', default: '4000' }, seed: { type: 'string', default: '0' }, batch: { type: 'string', default: '64' },
  },
});
await initBackend({ backend: 'wasm' });
const want = new Set(a.types!.split(','));
const COLORS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'];
const D = 64; // token width: vision one-hots use 0..31, text word ids 1..47 and positions 48..63
const L = 12; // longest question: 11 words
const words = new Map<string, number>();
const wordId = (w: string) => {
  if (!words.has(w)) words.set(w, words.size + 1);
  const id = words.get(w)!;
  if (id >= 48) throw new Error(`vqa-oracle: more than 47 distinct words`);
  return id;
};
interface Example { v: Float32Array; t: Float32Array; m: Int32Array; answer: string; type: string; question: string }

function examples(seed: number, scenes: number): Example[] {
  const out: Example[] = [];
  for (let i = 0; i < scenes; i++) {
    const scene = shapesScene(seed, i, { withLocations: want.has('location') });
    const v = new Float32Array(9 * D); // [9 cells, D]
    for (let c = 0; c < 9; c++) {
      v[c * D + 20 + Math.floor(c / 3)] = 1; // row
      v[c * D + 24 + (c % 3)] = 1; // column
      v[c * D + 30] = 1; // empty
    }
    for (const s of scene.shapes) {
      const c = s.row * 3 + s.col;
      v[c * D + 30] = 0;
      v[c * D + COLORS.indexOf(s.color)] = 1;
      v[c * D + 8 + SHAPE_KINDS.indexOf(s.shape)] = 1;
    }
    for (const q of scene.questions) {
      if (!want.has(q.type) && !(want.has('all') && q.type !== 'location')) continue;
      const ws = q.question.replace('?', '').split(' ');
      if (ws.length > L) throw new Error(`vqa-oracle: question longer than ${L} words: ${q.question}`);
      const t = new Float32Array(L * D); // [L, D]
      const m = new Int32Array(L);
      ws.forEach((w, j) => {
        t[j * D + wordId(w)] = 1;
        t[j * D + 48 + j] = 1;
        m[j] = 1;
      });
      out.push({ v, t, m, answer: q.answer, type: q.type, question: q.question });
    }
  }
  return out;
}

const train = examples(0, Number(a.scenes));
const held = examples(7919, 500);
// --text-model <folder>: the question tokens come from that model's frozen text tower (contextual, its tokenizer)
// instead of one-hot words — tells a failure of the real text features from one of the head.
let textDim = D;
let textLen = L;
if (a['text-model']) {
  const session = await openModel(a['text-model']);
  const len = session.modelConfig.text_config.max_position_embeddings;
  const cache = new Map<string, { t: Float32Array; m: Int32Array }>();
  for (const e of [...train, ...held]) {
    let c = cache.get(e.question);
    if (!c) {
      const enc = session.tokenizer.encode([e.question], { maxLength: len, padding: 'max_length' });
      const ids = tf.tensor2d(enc.inputIds, [1, len], 'int32');
      const mask = tf.tensor2d(enc.attentionMask, [1, len], 'int32');
      const h = session.model.textTokens(ids, session.textUsesAttentionMask ? mask : undefined);
      c = { t: h.dataSync() as Float32Array, m: Int32Array.from(enc.attentionMask) };
      textDim = h.shape[2];
      tf.dispose([ids, mask, h]);
      cache.set(e.question, c);
    }
    e.t = c.t;
    e.m = c.m;
  }
  textLen = len;
}
const vocab = buildAnswerVocab(train.map((e) => e.answer));
const fusion = JSON.parse(a.fusion!) as Record<string, unknown>;
interface Head { forward(i: { visionTokens: tf.Tensor3D; textTokens: tf.Tensor3D; attentionMask: tf.Tensor2D }): { logits: tf.Tensor2D }; trainableVariables(): tf.Variable[] }
function mlpHead(hidden: number): Head {
  const init = createRng(Number(a.seed)).fork('vqa-oracle-mlp');
  const dense = (i: number, o: number) => [tf.variable(tf.tensor2d(Float32Array.from({ length: i * o }, () => init.normal(0, Math.sqrt(2 / i))), [i, o])), tf.variable(tf.zeros([o]))] as const;
  const layers = [dense(9 * D + textLen * textDim, hidden), dense(hidden, hidden), dense(hidden, vocab.length)];
  return {
    forward: (i) => {
      const b = i.visionTokens.shape[0];
      let x: tf.Tensor = tf.concat([i.visionTokens.reshape([b, 9 * D]), i.textTokens.reshape([b, textLen * textDim])], 1); // [B, 9·D + Lt·Dt]
      layers.forEach(([w, bias], k) => {
        x = tf.add(tf.matMul(x as tf.Tensor2D, w), bias);
        if (k < layers.length - 1) x = tf.relu(x);
      });
      return { logits: x as tf.Tensor2D };
    },
    trainableVariables: () => layers.flat(),
  };
}
const head: Head = a.head === 'mlp' ? mlpHead(256) : FusionHead.create(
  { type: 'cross_attention', answer_vocab: vocab, num_blocks: 2, hidden_size: 64, num_heads: 4, mlp_ratio: 2, ...fusion },
  { vision: D, text: textDim, embed: D, visionTokens: 9, visionGrid: 3, textTokens: textLen }, { seed: Number(a.seed) },
);
const toInputs = (ex: Example[]) => {
  const b = ex.length;
  const v = new Float32Array(b * 9 * D);
  const t = new Float32Array(b * textLen * textDim);
  const m = new Int32Array(b * textLen);
  ex.forEach((e, i) => {
    v.set(e.v, i * 9 * D);
    t.set(e.t, i * textLen * textDim);
    m.set(e.m, i * textLen);
  });
  return { visionTokens: tf.tensor3d(v, [b, 9, D]), textTokens: tf.tensor3d(t, [b, textLen, textDim]), attentionMask: tf.tensor2d(m, [b, textLen], 'int32') };
};
function accuracy(ex: Example[]): Record<string, number> {
  const by: Record<string, [number, number]> = {};
  for (let i = 0; i < ex.length; i += 512) {
    const chunk = ex.slice(i, i + 512);
    const inputs = toInputs(chunk);
    const pred = tf.tidy(() => tf.argMax(head.forward(inputs).logits, -1).dataSync());
    chunk.forEach((e, j) => {
      const r = (by[e.type] ??= [0, 0]);
      r[0] += vocab[pred[j]!] === e.answer ? 1 : 0;
      r[1]++;
    });
    tf.dispose(Object.values(inputs));
  }
  const total = Object.values(by).reduce((s, [r, n]) => [s[0]! + r, s[1]! + n], [0, 0]);
  return { ...Object.fromEntries(Object.entries(by).map(([k, [r, n]]) => [k, r / n])), overall: total[0]! / total[1]! };
}

const rng = createRng(Number(a.seed)).fork('vqa-oracle-batches');
// --weights relation=3,location=2: sample each training example with probability ∝ its type's weight (default 1).
const pool = weightedExamples({ name: 'oracle training set', examples: train }, Object.fromEntries(a.weights!.split(',').filter(Boolean).map((kv) => [kv.split('=')[0]!, Number(kv.split('=')[1])])));
const opt = tf.train.adam(Number(a.lr));
const steps = Number(a.steps);
const batch = Number(a.batch);
const rows: Row[] = [];
for (let s = 1; s <= steps; s++) {
  const ex = Array.from({ length: batch }, () => train[pool[rng.int(pool.length)]!]!);
  const inputs = toInputs(ex);
  const labels = tf.tensor1d(ex.map((e) => vocab.indexOf(e.answer)), 'int32');
  const cost = opt.minimize(() => vqaLoss(head.forward(inputs).logits, labels) as tf.Scalar, true, head.trainableVariables())!;
  if (s % 250 === 0 || s === steps) {
    const acc = accuracy(held);
    rows.push({ step: s, loss: +cost.dataSync()[0]!.toFixed(3), ...Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, `${(v * 100).toFixed(1)}%`])) });
    process.stdout.write(`${JSON.stringify(rows.at(-1))}\n`);
  }
  tf.dispose([cost, labels, ...Object.values(inputs)]);
}
printTable(`VQA head on oracle tokens (types ${a.types}, ${a.head === 'mlp' ? 'MLP head' : `fusion ${a.fusion}`}, ${a.scenes} scenes, lr ${a.lr}, batch ${batch}; held-out: 500 scenes)`, rows);
writeResult('vqa-oracle', { types: a.types, head: a.head, fusion, scenes: Number(a.scenes), steps, lr: Number(a.lr), batch, rows });

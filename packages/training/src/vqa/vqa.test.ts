// VQA training pieces: config layering, the shapes question set, per-type accuracy, and grouped batches with a
// fine-tuned vision tower (the one-step CLI smoke run lives in apps/trainer).
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, tf } from '@duet/runtime';
import { createDualEncoder, getPreset } from '@duet/encoders';
import { VqaModel, buildAnswerVocab } from '@duet/fusion';
import { ImageProcessor, TextTokenizer, defaultPreprocessorConfig, presetTokenizer } from '@duet/preprocess';
import { loadVqaSet, resolveVqaConfig, trainVqaHead, vqaAccuracy, weightedExamples } from '../index.js';

beforeAll(async () => {
  try {
    await initBackend({ backend: 'wasm' });
  } catch (e) {
    if (!(await tf.setBackend('wasm'))) throw e;
  }
});

const { tokenizerJson, tokenizerConfig } = presetTokenizer('siglip');
const tokenizer = TextTokenizer.fromJSON(tokenizerJson as never, tokenizerConfig as never);
const imageProcessor = ImageProcessor.fromConfig(defaultPreprocessorConfig('siglip', 16) as never);

describe('VQA config', () => {
  it('merges head settings field by field, needs a model, and checks the scene grouping', () => {
    const c = resolveVqaConfig({ fusion: { num_blocks: 2, hidden_size: 64 } }, { model: 'm', fusion: { num_blocks: 3 } });
    expect(c.fusion).toEqual({ num_blocks: 3, hidden_size: 64 });
    expect(() => resolveVqaConfig({})).toThrow(/needs --model/);
    expect(() => resolveVqaConfig({ model: 'm', batchSize: 10, questionsPerScene: 4 })).toThrow('batchSize 10 does not divide by questionsPerScene 4');
    expect(() => resolveVqaConfig({ model: 'm', freeze: 'all' as never })).toThrow(/freeze/);
  });

  it('type weights repeat each example by its type\'s weight per epoch; unknown types and an empty epoch are errors', () => {
    const set = { name: 'toy', examples: ['count', 'relation', 'color', 'relation'].map((type, i) => ({ scene: i, question: i, answer: 'x', type })) };
    expect(weightedExamples(set, {})).toEqual([0, 1, 2, 3]);
    expect(weightedExamples(set, { relation: 3, color: 0 })).toEqual([0, 1, 1, 1, 3, 3, 3]);
    expect(() => weightedExamples(set, { relation: 2, where: 1 })).toThrow('typeWeights: no "where" questions in toy (its types: color, count, relation)');
    expect(() => weightedExamples(set, { count: 0, relation: 0, color: 0 })).toThrow(/every question type of toy has weight 0/);
    expect(() => resolveVqaConfig({ model: 'm', typeWeights: { relation: 1.5 } })).toThrow(/typeWeights/);
  });
});

describe('VQA data', () => {
  it('one example per question of every scene; distinct questions tokenized once; truncation counted', async () => {
    const set = await loadVqaSet('shapes:seed=3,size=6,imageSize=16,questions', { imageProcessor, tokenizer, maxLength: 48 });
    expect(set.pixelShape).toEqual([6, 3, 16, 16]);
    expect(set.textShape).toEqual([set.questions.length, 48]);
    expect(new Set(set.examples.map((e) => e.scene))).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    expect(set.examples.every((e) => set.questions[e.question]!.length > 0)).toBe(true);
    expect(set.examples.filter((e) => e.type === 'count')).toHaveLength(6); // one count question per scene
    expect(set.truncated).toBe(0);
    const short = await loadVqaSet('shapes:seed=3,size=6,imageSize=16,questions', { imageProcessor, tokenizer, maxLength: 8 });
    expect(short.truncated).toBeGreaterThan(0);
    await expect(loadVqaSet('shapes:seed=3,size=2,imageSize=16', { imageProcessor, tokenizer, maxLength: 8 })).rejects.toThrow(/has no meta.questions/);
  });

  it('accuracy overall and per question type', () => {
    const ex = [{ type: 'color', answer: 'red' }, { type: 'color', answer: 'blue' }, { type: 'count', answer: 'one' }].map((e, i) => ({ ...e, scene: i, question: i }));
    expect(vqaAccuracy(ex, ['red', 'red', 'one'])).toEqual({ overall: 2 / 3, count: 3, byType: { color: { accuracy: 0.5, count: 2 }, count: { accuracy: 1, count: 1 } } });
  });
});

describe('trainVqaHead', () => {
  it('grouped batches with a fine-tuned vision tower: the vision tower and the head change, the text tower does not', async () => {
    const preset = getPreset('tiny-siglip') as Record<string, Record<string, unknown>>;
    const tower = { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2 };
    const enc = createDualEncoder({ ...preset, vision_config: { ...preset['vision_config'], ...tower, image_size: 16, patch_size: 8 }, text_config: { ...preset['text_config'], ...tower, max_position_embeddings: 48, projection_size: 24 } }, { seed: 1 });
    const train = await loadVqaSet('shapes:seed=1,size=4,imageSize=16,questions', { imageProcessor, tokenizer, maxLength: 48 });
    const model = VqaModel.create(enc, { answer_vocab: buildAnswerVocab(train.examples.map((e) => e.answer)), hidden_size: 16, num_heads: 2, num_blocks: 1 }, { freeze: 'text' });
    const snap = (n: string) => model.namedVariables().get(n)!.dataSync().slice();
    const names = ['vision_model.embeddings.patch_embedding.weight', 'text_model.embeddings.token_embedding.weight', 'fusion.head.out_proj.weight'];
    const before = names.map(snap);
    const cfg = resolveVqaConfig({ model: 'm', steps: 2, batchSize: 8, questionsPerScene: 4, warmup: 0, lr: 1e-2, evalEvery: 0 });
    const r = await trainVqaHead(model, train, train, cfg);
    expect(r.steps).toBe(2);
    expect(r.eval.count).toBe(train.examples.length);
    const after = names.map(snap);
    expect(after[0]).not.toEqual(before[0]);
    expect(after[1]).toEqual(before[1]);
    expect(after[2]).not.toEqual(before[2]);
    model.dispose();
  });
});

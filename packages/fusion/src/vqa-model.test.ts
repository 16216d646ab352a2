// VqaModel: gradients reach the head (and the towers only when fine-tuning), the combined folder round-trips
// bit-exactly and stays a loadable contrastive model, and a tiny problem is learned to 100% train accuracy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@duet/runtime';
import { loadModelFolder, saveModelFolder } from '@duet/model-format/node';
import { loadDualEncoder } from '@duet/encoders';
import { VqaModel, loadVqaModel, towerDims, vqaLoss } from './index.js';
import { lengthMask, randomIds, randomPixels, tinyEncoder, useBackend } from '../test/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'duet-fusion-'));
beforeAll(async () => {
  await useBackend('wasm');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const vocab = ['yes', 'no', 'red', 'blue'];
const fusion = { answer_vocab: vocab, hidden_size: 16, num_heads: 2, num_blocks: 1, mlp_ratio: 2 };

function batch(b: number, seed = 1) {
  return { pixelValues: randomPixels(b, 16, seed), inputIds: randomIds(b, 8, 1454, seed + 1), attentionMask: lengthMask(Array.from({ length: b }, (_, i) => 3 + (i % 5)), 8) };
}
const disposeBatch = (x: ReturnType<typeof batch>) => tf.dispose([x.pixelValues, x.inputIds, x.attentionMask]);

function gradNames(model: VqaModel, inputs: ReturnType<typeof batch>, labels: tf.Tensor1D): Map<string, number> {
  const byVar = new Map([...model.namedVariables()].map(([k, v]) => [v.name, k]));
  const { value, grads } = tf.variableGrads(() => model.loss(inputs, labels, { training: true }), model.trainableVariables());
  const out = new Map<string, number>();
  for (const [vname, g] of Object.entries(grads)) out.set(byVar.get(vname)!, tf.tidy(() => tf.norm(g).dataSync()[0]!));
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

describe('VqaModel', () => {
  it('frozen towers: gradients reach every fusion tensor and no tower tensor; fine-tuning adds the towers', () => {
    const model = VqaModel.create(tinyEncoder(), { ...fusion, symmetric: true, pooled: 'cls' }, { seed: 1 });
    const x = batch(3);
    const labels = tf.tensor1d([0, 2, 3], 'int32');
    expect(model.frozen).toBe('towers');
    const frozen = gradNames(model, x, labels);
    const fusionNames = [...model.head.namedVariables().keys()];
    expect([...frozen.keys()].sort()).toEqual([...fusionNames].sort());
    for (const n of fusionNames) expect(frozen.get(n), n).toBeGreaterThan(0);
    expect(model.trainableVariables()).toHaveLength(fusionNames.length);

    model.setFrozen('none');
    const tuned = gradNames(model, x, labels);
    expect(tuned.get('vision_model.embeddings.patch_embedding.weight')).toBeGreaterThan(0);
    expect(tuned.get('text_model.embeddings.token_embedding.weight')).toBeGreaterThan(0);
    // The VQA loss does not involve the contrastive logit parameters.
    expect(tuned.has('logit_scale')).toBe(false);
    // Fine-tune the vision tower only: text tower names get no gradient.
    model.setFrozen('text');
    const vision = gradNames(model, x, labels);
    expect(vision.get('vision_model.embeddings.patch_embedding.weight')).toBeGreaterThan(0);
    expect([...vision.keys()].some((n) => n.startsWith('text_model.') || n === 'text_projection.weight')).toBe(false);
    expect(() => model.setFrozen('all' as never)).toThrow(/freeze: expected one of towers, text, vision, none/);
    disposeBatch(x);
    labels.dispose();
    model.dispose();
  });

  it('folder round trip: bit-exact tensors and outputs; the same folder loads as a plain dual encoder', async () => {
    for (const type of ['cross_attention', 'late_fusion'] as const) {
      const model = VqaModel.create(tinyEncoder('clip', 3), { ...fusion, type, position_embeddings: type === 'cross_attention' }, { seed: 5 });
      const folder = join(dir, type);
      await saveModelFolder(folder, { config: model.config, tensors: model.toTensors() });
      const loaded = await loadModelFolder(folder);
      expect((loaded.rawConfig as Record<string, { type: string; answer_vocab: string[] }>)['duet_fusion']).toMatchObject({ type, answer_vocab: vocab });
      const back = await loadVqaModel(loaded);
      const a = model.toTensors();
      const b = back.toTensors();
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      for (const [k, t] of a) expect(Buffer.from(b.get(k)!.data).equals(Buffer.from(t.data)), k).toBe(true);
      const x = batch(2, 7);
      const o1 = model.forward(x);
      const o2 = back.forward(x);
      expect(o2.logits.dataSync()).toEqual(o1.logits.dataSync());
      expect(back.fusionConfig).toEqual(model.fusionConfig);
      // The contrastive part is an ordinary CLIP folder for every other reader.
      const enc = await loadDualEncoder(loaded);
      const e1 = enc.encodeImage(x.pixelValues);
      const e2 = model.encoder.encodeImage(x.pixelValues);
      expect(e1.dataSync()).toEqual(e2.dataSync());
      tf.dispose([o1.logits, o1.pooled, o2.logits, o2.pooled, e1, e2]);
      disposeBatch(x);
      enc.dispose();
      model.dispose();
      back.dispose();
    }
  });

  it('towerDims gives the token counts the towers produce (CLIP: class token + patches; SigLIP: patches), so position embeddings fit', () => {
    for (const family of ['clip', 'siglip'] as const) {
      const enc = tinyEncoder(family, 2);
      const dims = towerDims(enc.config);
      const x = batch(2);
      const tokens = enc.visionTokens(x.pixelValues);
      expect(tokens.shape[1]).toBe(dims.visionTokens);
      expect(dims.visionTokens! - dims.visionGrid! ** 2).toBe(family === 'clip' ? 1 : 0);
      expect(dims.textTokens).toBe(enc.config.text_config.max_position_embeddings);
      const model = VqaModel.create(enc, { ...fusion, position_embeddings: true }, { seed: 1 });
      const out = model.forward(x);
      expect(out.logits.shape).toEqual([2, vocab.length]);
      tf.dispose([tokens, out.logits, out.pooled]);
      disposeBatch(x);
      model.dispose();
    }
  });

  it('a folder without a fusion head gives a clear error', async () => {
    const enc = tinyEncoder();
    const folder = join(dir, 'plain');
    await saveModelFolder(folder, { config: enc.config, tensors: enc.toTensors() });
    await expect(loadVqaModel(await loadModelFolder(folder))).rejects.toThrow(/has no fusion head \(config.json has no "duet_fusion" key\)/);
    expect(() => VqaModel.fromTensors(enc.config, enc.toTensors())).toThrow(/has no fusion head/);
    enc.dispose();
  });

  it('overfits a handful of examples to 100% train accuracy in a few dozen steps (frozen towers)', () => {
    const model = VqaModel.create(tinyEncoder('siglip', 9), { ...fusion, hidden_size: 32, num_heads: 4 }, { seed: 2 });
    const x = batch(8, 11);
    const labels = tf.tensor1d([0, 1, 2, 3, 3, 2, 1, 0], 'int32');
    // Frozen towers: their tokens are constants, computed once (as the VQA trainer caches them).
    const feats = { image: model.imageFeatures(x.pixelValues), text: model.textFeatures(x.inputIds, x.attentionMask), attentionMask: x.attentionMask };
    const opt = tf.train.adam(3e-3);
    const accuracy = () => tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(model.fuse(feats).logits, -1), labels), 'float32')).dataSync()[0]!);
    const before = accuracy();
    let loss = Infinity;
    for (let step = 0; step < 40; step++) {
      const l = opt.minimize(() => vqaLoss(model.fuse(feats).logits, labels), true, model.trainableVariables())!;
      loss = l.dataSync()[0]!;
      l.dispose();
    }
    expect(before).toBeLessThan(1);
    expect(accuracy()).toBe(1);
    expect(loss).toBeLessThan(0.1);
    tf.dispose([feats.image, feats.text, labels]);
    disposeBatch(x);
    opt.dispose();
    model.dispose();
  });
});

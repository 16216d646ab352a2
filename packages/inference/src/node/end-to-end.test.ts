// Full serving path on preset-shaped models (seeded reference init): tokenizer + image processor + exported ONNX,
// checked against the TensorFlow.js encoders on the same preprocessed inputs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DualEncoder, getPreset } from '@duet/encoders';
import { lossFamily, parseModelConfig } from '@duet/model-format';
import { saveModelFolder } from '@duet/model-format/node';
import { ImageProcessor, TextTokenizer, defaultPreprocessorConfig, presetTokenizer } from '@duet/preprocess';
import { tf } from '@duet/runtime';
import { HF_REF, relErr } from '../test-util/fixtures.js';
import { ExactIndex } from '../retrieval/exact-index.js';
import { searchByImage, searchByText, indexTexts } from '../retrieval/cross-modal.js';
import { ZeroShotClassifier } from '../zero-shot/zero-shot.js';
import { createEmbedder } from './create.js';
import { exportOnnx } from './export-onnx.js';
import { decodeImages } from './images.js';

const tmp = mkdtempSync(join(tmpdir(), 'duet-e2e-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const texts = ['a photo of a cat', 'A DOG, running!', ''];
const imageFiles = ['astronaut.png', 'chelsea.png'].map((f) => join(HF_REF, 'preprocess', f));

describe.each(['tiny-clip', 'tiny-siglip'])('serving %s end to end', (preset) => {
  const raw = getPreset(preset);
  const config = parseModelConfig(raw);
  const family = lossFamily(config);
  let enc!: DualEncoder;
  const dir = join(tmp, preset);
  const tok = presetTokenizer(family);
  const preprocessorConfig = defaultPreprocessorConfig(family, config.vision_config.image_size) as Record<string, unknown>;
  const ready = (async () => {
    await tf.setBackend('cpu');
    enc = DualEncoder.create(raw, { seed: 7 });
    await saveModelFolder(dir, { config: raw, tensors: enc.toTensors(), tokenizerJson: tok.tokenizerJson, tokenizerConfig: tok.tokenizerConfig as Record<string, unknown>, preprocessorConfig });
    await exportOnnx(dir);
    return createEmbedder(dir, { verify: true });
  })();

  it('embedTexts / embedImages match the TensorFlow.js encoders on the same preprocessing', async () => {
    const emb = await ready;
    const tokenizer = TextTokenizer.fromJSON(tok.tokenizerJson, tok.tokenizerConfig, { modelConfig: raw });
    const batch = tokenizer.encode(texts);
    const images = await decodeImages(imageFiles);
    const px = ImageProcessor.fromConfig(preprocessorConfig as never).process(images);
    const tfText = tf.tidy(() => {
      const ids = tf.tensor2d(batch.inputIds, batch.shape, 'int32');
      // SigLIP towers run without a mask (as the embedder does); CLIP uses the tokenizer's mask.
      const mask = family === 'siglip' ? undefined : tf.tensor2d(batch.attentionMask, batch.shape, 'int32');
      return tf.div(enc.encodeText(ids, mask), tf.norm(enc.encodeText(ids, mask), 'euclidean', -1, true));
    });
    const tfImage = tf.tidy(() => {
      const f = enc.encodeImage(tf.tensor4d(px.pixelValues, px.shape));
      return tf.div(f, tf.norm(f, 'euclidean', -1, true));
    });
    const t = await emb.embedTexts(texts);
    const v = await emb.embedImages(images);
    expect(t.shape).toEqual([3, emb.dim]);
    expect(relErr(t.data, tfText.dataSync() as Float32Array)).toBeLessThan(1e-4);
    expect(relErr(v.data, tfImage.dataSync() as Float32Array)).toBeLessThan(1e-4);
    tfText.dispose();
    tfImage.dispose();
  });

  it('zero-shot probabilities follow the loss family, with the folder logit scale', async () => {
    const emb = await ready;
    const clf = await ZeroShotClassifier.create(emb, ['cat', 'astronaut', 'dog'], { templates: ['a photo of a {}.', 'a {}'] });
    expect(clf.family).toBe(family);
    expect(clf.logitScale).toBeCloseTo((enc.logitScale.dataSync() as Float32Array)[0]!, 6);
    const res = await clf.classifyImages(await decodeImages(imageFiles));
    for (const r of res) {
      const sum = r.probabilities.reduce((a, b) => a + b, 0);
      if (family === 'clip') expect(sum).toBeCloseTo(1, 5);
      else r.probabilities.forEach((p, i) => expect(p).toBeCloseTo(1 / (1 + Math.exp(-r.logits[i]!)), 6));
    }
  });

  it('cross-modal search and bad inputs', async () => {
    const emb = await ready;
    const images = await decodeImages(imageFiles);
    const imageIndex = new ExactIndex<{ file: string }>(emb.dim);
    imageIndex.add(['astronaut', 'chelsea'], (await emb.embedImages(images)).data, imageFiles.map((file) => ({ file })));
    // image -> image: each image finds itself first (cosine 1).
    const self = await searchByImage(emb, imageIndex, images, 1);
    expect(self.map((h) => h[0]!.id)).toEqual(['astronaut', 'chelsea']);
    expect(self[0]![0]!.score).toBeCloseTo(1, 5);
    const byText = await searchByText(emb, imageIndex, ['a cat'], 2);
    expect(byText[0]).toHaveLength(2);
    const textIndex = new ExactIndex(emb.dim);
    await indexTexts(emb, textIndex, ['t0', 't1', 't2'], texts);
    const toText = await searchByImage(emb, textIndex, images.slice(0, 1), 3);
    expect(toText[0]!.map((h) => h.id).sort()).toEqual(['t0', 't1', 't2']);
    await expect(searchByText(emb, imageIndex, ['x'], 3)).rejects.toThrow(/k: 3 is larger than the index \(2 items\)/);
    await expect(searchByText(emb, imageIndex, ['x'], 0)).rejects.toThrow(/k: expected a positive integer/);
    await expect(decodeImages([imageFiles[0]!, new Uint8Array([1, 2, 3, 4])])).rejects.toThrow(/images\[1\] \(4 bytes\): cannot be decoded/);
    await expect(ZeroShotClassifier.create(emb, [])).rejects.toThrow(/labels: expected a non-empty array/);
  });
});

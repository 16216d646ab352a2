// Save -> reload through the model format (HF names, atomic folder save) gives bit-identical weights and outputs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@duet/runtime';
import { loadModelFolder, saveModelFolder } from '@duet/model-format/node';
import { DualEncoder, getPreset, loadDualEncoder } from './index.js';
import { FIXTURES, ioFloat, ioInt, loadFixture, randomIds, randomPixels, relError, useBackend } from '../test/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'duet-encoders-'));
beforeAll(async () => {
  await useBackend('wasm');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function outputs(m: DualEncoder, inputIds: tf.Tensor2D, pixelValues: tf.Tensor4D, attentionMask?: tf.Tensor2D): Float32Array[] {
  const o = m.forward({ inputIds, pixelValues, ...(attentionMask ? { attentionMask } : {}) }, { outputHiddenStates: true });
  const arrs = Object.values(o).map((t) => (t as tf.Tensor).dataSync().slice() as Float32Array);
  tf.dispose(Object.values(o));
  return arrs;
}

describe('round trip', () => {
  it('loads the HF fixture folder itself through @duet/model-format (loadModelFolder -> loadDualEncoder)', async () => {
    const fx = loadFixture('tiny-siglip');
    const model = await loadDualEncoder(await loadModelFolder(`${FIXTURES}tiny-siglip`));
    expect(model.lossFamily).toBe('siglip');
    const px = ioFloat(fx.io, 'pixel_values');
    const pixels = tf.tensor4d(px.data, px.shape as [number, number, number, number]);
    const feats = model.encodeImage(pixels);
    expect(relError(feats.dataSync(), ioFloat(fx.io, 'vision_pooler_output').data)).toBeLessThan(1e-4);
    tf.dispose([pixels, feats]);
    model.dispose();
  });

  for (const name of ['tiny-clip', 'tiny-siglip'] as const) {
    it(`${name}: toTensors reproduces the HF file byte for byte; folder save/reload gives identical outputs`, async () => {
      const fx = loadFixture(name);
      const model = DualEncoder.fromTensors(fx.config, fx.weights);
      const saved = model.toTensors();
      expect([...saved.keys()].sort()).toEqual([...fx.weights.keys()].sort());
      for (const [k, t] of saved) {
        expect(t.shape, k).toEqual(fx.weights.get(k)!.shape);
        expect(Buffer.from(t.data).equals(Buffer.from(fx.weights.get(k)!.data)), k).toBe(true);
      }
      const folder = join(dir, name);
      await saveModelFolder(folder, { config: model.config, tensors: saved });
      const reloaded = await loadDualEncoder(await loadModelFolder(folder));
      const ids = ioInt(fx.io, 'input_ids');
      const mask = name === 'tiny-clip' ? ioInt(fx.io, 'attention_mask') : undefined;
      const px = ioFloat(fx.io, 'pixel_values');
      const pixels = tf.tensor4d(px.data, px.shape as [number, number, number, number]);
      expect(outputs(reloaded, ids, pixels, mask)).toEqual(outputs(model, ids, pixels, mask));
      tf.dispose([ids, pixels, ...(mask ? [mask] : [])]);
      model.dispose();
      reloaded.dispose();
    });
  }

  it('tiny-resnet (Duet extension): BatchNorm buffers travel with the weights', async () => {
    const model = DualEncoder.create(getPreset('tiny-resnet'), { seed: 4 });
    const px = randomPixels(2, 3, 32);
    const ids = randomIds(2, 6, 1805);
    tf.dispose(model.forward({ inputIds: ids, pixelValues: px }, { training: true })); // moves running stats
    const folder = join(dir, 'tiny-resnet');
    await saveModelFolder(folder, { config: model.config, tensors: model.toTensors() });
    const reloaded = await loadDualEncoder(await loadModelFolder(folder));
    expect(reloaded.namedVariables().get('vision_model.bn1.running_var')!.dataSync()).toEqual(model.namedVariables().get('vision_model.bn1.running_var')!.dataSync());
    expect(outputs(reloaded, ids, px)).toEqual(outputs(model, ids, px));
    tf.dispose([px, ids]);
    model.dispose();
    reloaded.dispose();
  });
});

import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, getRecipe } from './config.js';
import { train } from './train.js';
import { evaluate } from './evaluate.js';
import { openModel } from './session.js';

const tiny = {
  vision_config: { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, patch_size: 14 },
  text_config: { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 16, projection_size: 16 },
};

describe('train() end to end (smoke)', () => {
  it('trains a minuscule tiny-siglip for 2 steps on shapes, writes a loadable model folder that evaluates the same', async () => {
    const out = mkdtempSync(join(tmpdir(), 'duet-train-'));
    const config = resolveConfig(getRecipe('smoke'), { modelOverrides: tiny, steps: 2, evalLimit: 8, trainLimit: 8, out, backend: 'cpu' });
    const r = await train(config, { onLog: () => undefined });
    expect(r.stopped).toBe('completed');
    expect(r.steps).toBe(2);
    expect(Number.isFinite(r.lastLoss)).toBe(true);
    for (const f of ['model/config.json', 'model/model.safetensors', 'model/tokenizer.json', 'model/duet.json', 'metrics.jsonl', 'curves.png', 'eval.json']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const reopened = await openModel(r.modelDir);
    const again = await evaluate(reopened.model, reopened, { evalData: 'shapes', evalLimit: 8, seed: config.seed });
    expect(again.samples).toBe(8);
    expect(again.retrieval!.imageToText.meanRank).toBeCloseTo(r.eval!.retrieval!.imageToText.meanRank, 6);
    expect(again.retrieval!.textToImage.meanRank).toBeCloseTo(r.eval!.retrieval!.textToImage.meanRank, 6);
  });

  it('fails before any work on an unknown preset or a missing data file', async () => {
    await expect(train(resolveConfig(getRecipe('smoke'), { preset: 'nope', out: mkdtempSync(join(tmpdir(), 'duet-train-')) }))).rejects.toThrow(/nope/);
    await expect(train(resolveConfig(getRecipe('smoke'), { data: '/no/such.csv', out: mkdtempSync(join(tmpdir(), 'duet-train-')) }))).rejects.toThrow(/\/no\/such\.csv: no such file/);
  });
});

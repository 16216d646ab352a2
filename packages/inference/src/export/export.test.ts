import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { parseModelConfig, readSafetensors } from '@duet/model-format';
import { fixtureDir, l2normRows, referenceIO, refFloat, refInt, relErr, type Fixture } from '../test-util/fixtures.js';
import { buildTextModel } from './text-model.js';
import { buildVisionModel } from './vision-model.js';
import { Weights } from './weights.js';
import type { WeightFormat } from './graph-builder.js';

function load(name: Fixture): { config: ReturnType<typeof parseModelConfig>; w: Weights } {
  const config = parseModelConfig(readFileSync(join(fixtureDir(name), 'config.json'), 'utf8'));
  const w = new Weights(readSafetensors(readFileSync(join(fixtureDir(name), 'model.safetensors'))).tensors);
  return { config, w };
}

async function runBoth(name: Fixture, format: WeightFormat): Promise<{ text: Float32Array; image: Float32Array; dim: number }> {
  const { config, w } = load(name);
  const io = referenceIO(name);
  const ids = refInt(io, 'input_ids');
  const mask = refInt(io, 'attention_mask');
  const px = refFloat(io, 'pixel_values');
  const ts = await ort.InferenceSession.create(buildTextModel(config, w, format));
  const vs = await ort.InferenceSession.create(buildVisionModel(config, w, format));
  const t = await ts.run({ input_ids: new ort.Tensor('int64', ids.data, ids.shape), attention_mask: new ort.Tensor('int64', mask.data, mask.shape) });
  const v = await vs.run({ pixel_values: new ort.Tensor('float32', px.data, px.shape) });
  const text = t.text_embeds!.data as Float32Array;
  const dim = t.text_embeds!.dims[1]!;
  return { text, image: v.image_embeds!.data as Float32Array, dim };
}

describe.each(['tiny-clip', 'tiny-siglip'] as const)('ONNX export %s', (name) => {
  it('fp32 export reproduces the HF reference embeds (normalised) within 1e-4 relative', async () => {
    const io = referenceIO(name);
    const { text, image, dim } = await runBoth(name, 'fp32');
    const refText = refFloat(io, 'text_embeds');
    const refImage = refFloat(io, 'image_embeds');
    expect(dim).toBe(refText.shape[1]);
    expect(text.length).toBe(refText.data.length);
    expect(relErr(l2normRows(text, dim), refText.data)).toBeLessThan(1e-4);
    expect(relErr(l2normRows(image, dim), refImage.data)).toBeLessThan(1e-4);
    // Un-normalised: transformers 5 reports the projected features as the towers' pooler_output.
    expect(relErr(text, refFloat(io, 'text_pooler_output').data)).toBeLessThan(1e-4);
    expect(relErr(image, refFloat(io, 'vision_pooler_output').data)).toBeLessThan(1e-4);
  });

  it('fp16 and int8-weight variants stay close to the reference', async () => {
    const io = referenceIO(name);
    const refText = refFloat(io, 'text_embeds');
    const refImage = refFloat(io, 'image_embeds');
    for (const [format, tol] of [['fp16', 2e-3], ['int8', 5e-2]] as const) {
      const { text, image, dim } = await runBoth(name, format);
      expect(relErr(l2normRows(text, dim), refText.data), format).toBeLessThan(tol);
      expect(relErr(l2normRows(image, dim), refImage.data), format).toBeLessThan(tol);
    }
  });
});

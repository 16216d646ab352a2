// Parity of our ONNX export (onnxruntime-node) with the TensorFlow.js encoders (@duet/encoders) on the same weights,
// for every tower kind: CLIP ViT + causal text, SigLIP ViT (MAP head) + text, open_clip ModifiedResNet.
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { DualEncoder, getPreset } from '@duet/encoders';
import { fromFloat32, parseModelConfig, toTypedArray, type RawTensor } from '@duet/model-format';
import { tf } from '@duet/runtime';
import { relErr } from '../test-util/fixtures.js';
import { buildTextModel } from './text-model.js';
import { buildVisionModel } from './vision-model.js';
import { Weights } from './weights.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Reference init + N(0, 0.02)-like noise on every tensor (running variances kept positive), like the HF fixtures. */
function perturbed(tensors: Map<string, RawTensor>, seed: number): Map<string, RawTensor> {
  const rnd = lcg(seed);
  const out = new Map<string, RawTensor>();
  for (const [name, t] of tensors) {
    const a = Float32Array.from(toTypedArray(t) as Float32Array);
    const big = name.includes('running_var') ? 0.3 : name.includes('running_mean') || name.endsWith('bn3.weight') ? 0.2 : 0.02;
    for (let i = 0; i < a.length; i++) a[i]! += (rnd() - 0.5) * 2 * big * (name.includes('running_var') ? 0.5 : 1);
    if (name.includes('running_var')) for (let i = 0; i < a.length; i++) a[i] = Math.abs(a[i]!) + 0.2;
    out.set(name, fromFloat32(a, [...t.shape]));
  }
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface PresetJson { text_config: Record<string, unknown>; vision_config: Record<string, unknown> }
type Variant = [string, string, ((c: PresetJson) => void) | null];
const VARIANTS: Variant[] = [
  ['tiny-clip', 'preset', null],
  ['tiny-siglip', 'preset', null],
  ['tiny-resnet', 'preset', null],
  // Legacy CLIP configs (eos_token_id == 2) pool at the max token id; other activations and eps from the config.
  ['tiny-clip', 'legacy eos 2, gelu / gelu_new, eps 1e-3', (c) => {
    c.text_config.eos_token_id = 2;
    c.text_config.hidden_act = 'gelu_new';
    c.vision_config.hidden_act = 'gelu';
    c.vision_config.layer_norm_eps = 1e-3;
  }],
  ['tiny-siglip', 'quick_gelu text, relu vision', (c) => {
    c.text_config.hidden_act = 'quick_gelu';
    c.vision_config.hidden_act = 'relu';
  }],
];

describe.each(VARIANTS)('ONNX export vs @duet/encoders (%s, %s)', (preset, _label, modify) => {
  it('text_embeds and image_embeds agree within 1e-4 relative', async () => {
    const raw = getPreset(preset);
    modify?.(raw as unknown as PresetJson);
    const config = parseModelConfig(raw);
    const tensors = perturbed(DualEncoder.create(raw, { seed: 3 }).toTensors(), 11);
    const enc = DualEncoder.fromTensors(raw, tensors);
    const w = new Weights(tensors);
    const B = 3;
    const L = config.text_config.max_position_embeddings;
    const V = config.text_config.vocab_size;
    const rnd = lcg(5);
    const ids = Int32Array.from({ length: B * L }, () => Math.floor(rnd() * V));
    const siglip = config.model_type === 'siglip';
    // Row 0 padded after 5 tokens (CLIP); EOS placed so first-EOS pooling is exercised.
    const mask = Int32Array.from({ length: B * L }, (_, i) => (siglip || i >= L || i % L < 5 ? 1 : 0));
    const eos = config.text_config.eos_token_id ?? 0;
    ids[4] = eos;
    ids[L + L - 1] = eos;
    const v = config.vision_config;
    const pixels = Float32Array.from({ length: B * v.num_channels * v.image_size * v.image_size }, () => rnd() * 4 - 2);
    const pshape = [B, v.num_channels, v.image_size, v.image_size];

    const tfText = tf.tidy(() => enc.encodeText(tf.tensor2d(ids, [B, L], 'int32'), tf.tensor2d(mask, [B, L], 'int32')));
    const tfImage = tf.tidy(() => enc.encodeImage(tf.tensor4d(pixels, pshape as [number, number, number, number])));
    const refText = tfText.dataSync() as Float32Array;
    const refImage = tfImage.dataSync() as Float32Array;
    tfText.dispose();
    tfImage.dispose();
    enc.dispose();

    const ts = await ort.InferenceSession.create(buildTextModel(config, w));
    const vs = await ort.InferenceSession.create(buildVisionModel(config, w));
    const big = (a: Int32Array) => BigInt64Array.from(a, (x) => BigInt(x));
    const t = await ts.run({ input_ids: new ort.Tensor('int64', big(ids), [B, L]), attention_mask: new ort.Tensor('int64', big(mask), [B, L]) });
    const im = await vs.run({ pixel_values: new ort.Tensor('float32', pixels, pshape) });
    expect(relErr(t.text_embeds!.data as Float32Array, refText)).toBeLessThan(1e-4);
    expect(relErr(im.image_embeds!.data as Float32Array, refImage)).toBeLessThan(1e-4);
  });
});

// Reference initialisation (HF CLIP/SigLIP _init_weights, open_clip ModifiedResNet.init_parameters), seeded.
// Expected statistics are the closed-form standard deviations / bounds of those schemes.
import { beforeAll, describe, expect, it } from 'vitest';
import { toTypedArray } from '@duet/model-format';
import { DualEncoder, getPreset } from './index.js';
import { useBackend } from '../test/helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

function stats(m: DualEncoder, name: string): { mean: number; std: number; maxAbs: number; values: Float32Array } {
  const v = m.namedVariables().get(name)!.dataSync() as Float32Array;
  let s = 0;
  let s2 = 0;
  let mx = 0;
  for (const x of v) {
    s += x;
    s2 += x * x;
    mx = Math.max(mx, Math.abs(x));
  }
  const mean = s / v.length;
  return { mean, std: Math.sqrt(s2 / v.length - mean * mean), maxAbs: mx, values: v };
}

const near = (got: number, want: number, rel = 0.06) => expect(Math.abs(got - want) / want).toBeLessThan(rel);

describe('initialisation', () => {
  it('is reproducible per seed and differs across seeds', () => {
    const a = DualEncoder.create(getPreset('tiny-clip'), { seed: 7 });
    const b = DualEncoder.create(getPreset('tiny-clip'), { seed: 7 });
    const c = DualEncoder.create(getPreset('tiny-clip'), { seed: 8 });
    const name = 'vision_model.encoder.layers.1.mlp.fc1.weight';
    expect(toTypedArray(a.toTensors().get(name)!)).toEqual(toTypedArray(b.toTensors().get(name)!));
    expect(toTypedArray(a.toTensors().get(name)!)).not.toEqual(toTypedArray(c.toTensors().get(name)!));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('CLIP follows HF CLIPPreTrainedModel._init_weights', () => {
    const m = DualEncoder.create(getPreset('tiny-clip'), { seed: 1 });
    const d = 128;
    const layers = 3;
    near(stats(m, 'text_model.embeddings.token_embedding.weight').std, 0.02);
    near(stats(m, 'vision_model.embeddings.patch_embedding.weight').std, 0.02, 0.1);
    near(stats(m, 'vision_model.embeddings.class_embedding').std, d ** -0.5, 0.2);
    near(stats(m, 'text_model.encoder.layers.0.self_attn.q_proj.weight').std, d ** -0.5 * (2 * layers) ** -0.5);
    near(stats(m, 'text_model.encoder.layers.0.self_attn.out_proj.weight').std, d ** -0.5);
    near(stats(m, 'text_model.encoder.layers.0.mlp.fc1.weight').std, (2 * d) ** -0.5);
    near(stats(m, 'text_model.encoder.layers.0.mlp.fc2.weight').std, d ** -0.5 * (2 * layers) ** -0.5);
    near(stats(m, 'visual_projection.weight').std, d ** -0.5);
    expect(stats(m, 'text_model.encoder.layers.0.mlp.fc1.bias').maxAbs).toBe(0);
    expect([...stats(m, 'vision_model.pre_layrnorm.weight').values].every((x) => x === 1)).toBe(true);
    expect(m.logitScale.dataSync()[0]).toBeCloseTo(2.6592, 6);
    m.dispose();
  });

  it('SigLIP follows HF SiglipPreTrainedModel._init_weights (logit parameters as big_vision: ln 10, -10)', () => {
    const m = DualEncoder.create(getPreset('tiny-siglip'), { seed: 1 });
    const d = 128;
    const ff = 512;
    near(stats(m, 'text_model.embeddings.token_embedding.weight').std, d ** -0.5);
    near(stats(m, 'vision_model.embeddings.position_embedding.weight').std, d ** -0.5, 0.1);
    // xavier_uniform: U(±sqrt(6/(fan_in+fan_out))), std = bound/sqrt(3)
    const q = stats(m, 'vision_model.encoder.layers.0.self_attn.q_proj.weight');
    expect(q.maxAbs).toBeLessThanOrEqual(Math.sqrt(6 / (2 * d)));
    near(q.std, Math.sqrt(6 / (2 * d)) / Math.sqrt(3));
    near(stats(m, 'vision_model.encoder.layers.0.mlp.fc1.weight').std, Math.sqrt(6 / (d + ff)) / Math.sqrt(3));
    near(stats(m, 'vision_model.encoder.layers.0.mlp.fc1.bias').std, 1e-6, 0.2);
    // lecun_normal: truncated normal with variance 1/fan_in (std corrected for truncation at ±2σ)
    const fanIn = 3 * 4 * 4;
    const patch = stats(m, 'vision_model.embeddings.patch_embedding.weight');
    near(patch.std, Math.sqrt(1 / fanIn), 0.1);
    expect(patch.maxAbs).toBeLessThanOrEqual((2 * Math.sqrt(1 / fanIn)) / 0.87962566103423978 + 1e-7);
    near(stats(m, 'text_model.head.weight').std, Math.sqrt(1 / d));
    expect(stats(m, 'vision_model.head.attention.in_proj_bias').maxAbs).toBe(0);
    expect(m.logitScale.dataSync()[0]).toBeCloseTo(Math.log(10), 6);
    expect(m.logitBias!.dataSync()[0]).toBe(-10);
    m.dispose();
  });

  it('ResNet follows open_clip ModifiedResNet.init_parameters', () => {
    const m = DualEncoder.create(getPreset('tiny-resnet'), { seed: 1 });
    const e = 16 * 32;
    near(stats(m, 'vision_model.attnpool.q_proj.weight').std, e ** -0.5);
    near(stats(m, 'vision_model.attnpool.c_proj.weight').std, e ** -0.5);
    for (const l of [1, 2, 3, 4]) expect(stats(m, `vision_model.layer${l}.0.bn3.weight`).maxAbs).toBe(0);
    // torch default conv init: U(±1/sqrt(fan_in)); stem conv1 fan_in = 3*3*3
    const c1 = stats(m, 'vision_model.conv1.weight');
    expect(c1.maxAbs).toBeLessThanOrEqual(1 / Math.sqrt(27));
    expect([...stats(m, 'vision_model.bn1.running_var').values].every((x) => x === 1)).toBe(true);
    m.dispose();
  });
});

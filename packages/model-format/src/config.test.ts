import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configToJSON, embedDim, lossFamily, parseModelConfig, visionTower, type CLIPConfig, type SiglipConfig } from './config.js';
import { MODELS, fixturePath } from './test-util/fixtures.js';

const raw = (m: string): Record<string, unknown> => JSON.parse(readFileSync(fixturePath(m, 'config.json'), 'utf8'));

describe.each(MODELS)('%s config.json', (model) => {
  it('parses every field as written by HF', () => {
    const json = raw(model);
    const c = parseModelConfig(json);
    for (const [k, v] of Object.entries(json)) {
      if (k === 'text_config' || k === 'vision_config') {
        for (const [kk, vv] of Object.entries(v as object)) expect([k, kk, (c[k] as Record<string, unknown>)[kk]]).toEqual([k, kk, vv]);
      } else {
        expect([k, c[k]]).toEqual([k, v]);
      }
    }
  });

  it('round-trips through configToJSON keeping unknown keys (top level and nested)', () => {
    const json = { ...raw(model), my_extra: { a: [1, 2] }, text_config: { ...(raw(model).text_config as object), custom_flag: true } };
    const text = configToJSON(parseModelConfig(json));
    const back = JSON.parse(text);
    expect(back.my_extra).toEqual({ a: [1, 2] });
    expect(back.text_config.custom_flag).toBe(true);
    expect(back.architectures).toEqual((json as Record<string, unknown>).architectures);
    expect(back.transformers_version).toBe('5.17.0');
    expect(parseModelConfig(back)).toEqual(parseModelConfig(json));
    expect(configToJSON(back)).toBe(text);
    expect(Object.keys(back)).toEqual([...Object.keys(back)].sort());
  });
});

describe('HF defaults', () => {
  it('CLIP: a minimal config gets CLIPConfig/CLIPTextConfig/CLIPVisionConfig defaults', () => {
    const c = parseModelConfig({ model_type: 'clip' }) as CLIPConfig;
    expect(c.projection_dim).toBe(512);
    expect(c.logit_scale_init_value).toBe(2.6592);
    expect(c.text_config).toEqual({
      model_type: 'clip_text_model', vocab_size: 49408, hidden_size: 512, intermediate_size: 2048, projection_dim: 512,
      num_hidden_layers: 12, num_attention_heads: 8, max_position_embeddings: 77, hidden_act: 'quick_gelu', layer_norm_eps: 1e-5,
      attention_dropout: 0, initializer_range: 0.02, initializer_factor: 1, pad_token_id: 1, bos_token_id: 49406, eos_token_id: 49407,
    });
    expect(c.vision_config).toEqual({
      model_type: 'clip_vision_model', hidden_size: 768, intermediate_size: 3072, projection_dim: 512, num_hidden_layers: 12,
      num_attention_heads: 12, num_channels: 3, image_size: 224, patch_size: 32, hidden_act: 'quick_gelu', layer_norm_eps: 1e-5,
      attention_dropout: 0, initializer_range: 0.02, initializer_factor: 1,
    });
  });

  it('SigLIP: a minimal config gets SiglipTextConfig/SiglipVisionConfig defaults; projection_size follows hidden_size', () => {
    const c = parseModelConfig({ model_type: 'siglip' }) as SiglipConfig;
    expect(c.text_config).toEqual({
      model_type: 'siglip_text_model', vocab_size: 32000, hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12,
      num_attention_heads: 12, max_position_embeddings: 64, hidden_act: 'gelu_pytorch_tanh', layer_norm_eps: 1e-6, attention_dropout: 0,
      pad_token_id: 1, bos_token_id: 49406, eos_token_id: 49407, projection_size: 768,
    });
    expect(c.vision_config).toEqual({
      model_type: 'siglip_vision_model', hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12,
      num_channels: 3, image_size: 224, patch_size: 16, hidden_act: 'gelu_pytorch_tanh', layer_norm_eps: 1e-6, attention_dropout: 0,
    });
    const small = parseModelConfig({ model_type: 'siglip', text_config: { hidden_size: 64, num_attention_heads: 4, projection_size: null } }) as SiglipConfig;
    expect(small.text_config.projection_size).toBe(64);
    expect(embedDim(small)).toBe(64);
    expect(embedDim(parseModelConfig({ model_type: 'clip', projection_dim: 32 }))).toBe(32);
  });
});

describe('errors name the field', () => {
  const cases: [string, unknown, RegExp][] = [
    ['wrong type', { model_type: 'clip', text_config: { hidden_size: '64' } }, /text_config\.hidden_size: .*expected number/],
    ['negative', { model_type: 'siglip', vision_config: { patch_size: -8 } }, /vision_config\.patch_size: /],
    ['non-integer', { model_type: 'clip', projection_dim: 1.5 }, /projection_dim: .*int/],
    ['heads do not divide width', { model_type: 'clip', vision_config: { hidden_size: 64, num_attention_heads: 3 } }, /vision_config\.num_attention_heads: hidden_size 64 is not divisible by num_attention_heads 3/],
    ['unknown model_type', { model_type: 'bert' }, /model_type: expected "clip" or "siglip", got "bert"/],
    ['missing model_type', { text_config: {} }, /model_type: expected "clip" or "siglip", got undefined/],
    ['resnet without params', { model_type: 'clip', vision_config: { duet_tower: 'resnet' } }, /vision_config\.duet_resnet: duet_tower 'resnet' needs duet_resnet/],
    ['bad resnet layers', { model_type: 'clip', vision_config: { duet_tower: 'resnet', duet_resnet: { layers: [3, 0] } } }, /vision_config\.duet_resnet\.layers\.1/],
    ['bad duet_loss', { model_type: 'clip', duet_loss: 'triplet' }, /duet_loss/],
    ['not an object', [], /expected a JSON object, got an array/],
  ];
  it.each(cases)('%s', (_n, json, re) => {
    expect(() => parseModelConfig(json, 'my/config.json')).toThrow(ConfigError);
    expect(() => parseModelConfig(json, 'my/config.json')).toThrow(re);
    expect(() => parseModelConfig(json, 'my/config.json')).toThrow(/^my\/config\.json: /);
  });
  it('reports invalid JSON text', () => {
    expect(() => parseModelConfig('{"model_type": ', 'x/config.json')).toThrow(/x\/config\.json: not valid JSON/);
  });
});

describe('Duet extensions', () => {
  it('lossFamily: duet_loss (string or object) overrides model_type', () => {
    expect(lossFamily(parseModelConfig({ model_type: 'clip' }))).toBe('clip');
    expect(lossFamily(parseModelConfig({ model_type: 'siglip' }))).toBe('siglip');
    expect(lossFamily(parseModelConfig({ model_type: 'clip', duet_loss: 'siglip' }))).toBe('siglip');
    expect(lossFamily(parseModelConfig({ model_type: 'siglip', duet_loss: { family: 'clip', label_smoothing: 0.1 } }))).toBe('clip');
  });

  it('keeps ResNet tower and fusion parameters, including unknown sub-keys', () => {
    const json = {
      model_type: 'clip',
      vision_config: { duet_tower: 'resnet', duet_resnet: { layers: [3, 4, 6, 3], width: 64, heads: 32, stem: 'deep' }, image_size: 224 },
      duet_fusion: { type: 'cross-attention', layers: 2 },
    };
    const c = parseModelConfig(json);
    expect(visionTower(c)).toBe('resnet');
    expect(c.vision_config.duet_resnet).toEqual({ layers: [3, 4, 6, 3], width: 64, heads: 32, stem: 'deep' });
    const back = JSON.parse(configToJSON(c));
    expect(back.duet_fusion).toEqual({ layers: 2, type: 'cross-attention' });
    expect(back.vision_config.duet_resnet.stem).toBe('deep');
    expect(visionTower(parseModelConfig({ model_type: 'siglip' }))).toBe('vit');
  });
});

describe('legacy HF config forms', () => {
  it('text_config_dict / vision_config_dict override text_config / vision_config as in HF (and are dropped)', () => {
    const c = parseModelConfig({
      model_type: 'clip',
      text_config: { hidden_size: 256, num_attention_heads: 4, vocab_size: 100 },
      text_config_dict: { hidden_size: 128, num_attention_heads: 4 },
      vision_config: null,
      vision_config_dict: { patch_size: 16 },
    }) as CLIPConfig;
    expect(c.text_config.hidden_size).toBe(128);
    expect(c.text_config.vocab_size).toBe(49408); // HF completes the dict with defaults before updating
    expect(c.vision_config.patch_size).toBe(16);
    expect(c.vision_config.hidden_size).toBe(768);
    expect('text_config_dict' in c).toBe(false);
  });
  it('null sub-configs mean HF defaults', () => {
    const c = parseModelConfig({ model_type: 'siglip', text_config: null, vision_config: null }) as SiglipConfig;
    expect(c.text_config.vocab_size).toBe(32000);
    expect(c.vision_config.patch_size).toBe(16);
  });
});

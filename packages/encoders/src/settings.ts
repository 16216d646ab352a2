// Adapter from the parsed HF config (@duet/model-format parseModelConfig: HF defaults filled, unknown keys kept)
// to the plain settings each tower uses. Every config field the towers depend on is read here, nowhere else.
import { embedDim, isSiglipConfig, lossFamily, parseModelConfig, visionTower, type ModelConfig } from '@duet/model-format';
import { activation } from './ops.js';
import { SpecBuilder, type ParamSpec } from './params.js';
import { resnetSpecs, type ResnetSettings } from './resnet-tower.js';
import { textSpecs, type TextSettings } from './text-tower.js';
import { visionSpecs, type VisionSettings } from './vision-tower.js';

export interface ModelSettings {
  family: 'clip' | 'siglip';
  text: TextSettings;
  tower: 'vit' | 'resnet';
  vision?: VisionSettings;
  resnet?: ResnetSettings;
  /** Input image geometry checked on every call. */
  imageSize: number;
  channels: number;
  embedDim: number;
}

/** Accepts a config object/JSON text (raw or already parsed) and returns the validated HF config. */
export function resolveConfig(config: unknown): ModelConfig {
  return parseModelConfig(config, 'config');
}

export function modelSettings(config: ModelConfig): ModelSettings {
  const siglip = isSiglipConfig(config);
  const family = siglip ? 'siglip' : 'clip';
  const t = config.text_config;
  const v = config.vision_config;
  const factor = config.initializer_factor;
  activation(t.hidden_act, 'text_config.hidden_act'); // fail early on unknown activations
  const e = embedDim(config);
  const text: TextSettings = {
    family,
    vocabSize: t.vocab_size,
    maxPositions: t.max_position_embeddings,
    eosTokenId: t.eos_token_id,
    projectionDim: e,
    initFactor: factor,
    hiddenSize: t.hidden_size,
    intermediateSize: t.intermediate_size,
    layers: t.num_hidden_layers,
    heads: t.num_attention_heads,
    act: t.hidden_act,
    eps: t.layer_norm_eps,
    attentionDropout: t.attention_dropout,
  };
  const tower = visionTower(config);
  const base = { family, text, tower, imageSize: v.image_size, channels: v.num_channels, embedDim: e } as const;
  if (tower === 'resnet') {
    const r = v.duet_resnet!;
    const width = r.width ?? 64;
    const heads = r.heads ?? Math.max(1, Math.floor((width * 32) / 64)); // open_clip: vision_width * 32 // head_width(64)
    if (width % 2 !== 0) throw new Error(`vision_config.duet_resnet.width: must be even (the stem uses width/2), got ${width}`);
    if ((width * 32) % heads !== 0) throw new Error(`vision_config.duet_resnet.heads: ${heads} does not divide the attention-pool width ${width * 32}`);
    if (r.layers.length !== 4) throw new Error(`vision_config.duet_resnet.layers: expected 4 stage depths (open_clip ModifiedResNet), got [${r.layers.join(', ')}]`);
    if (v.image_size % 32 !== 0) throw new Error(`vision_config.image_size: the ResNet tower downsamples by 32, so image_size must be a multiple of 32, got ${v.image_size}`);
    return { ...base, resnet: { layers: r.layers, width, heads, imageSize: v.image_size, channels: v.num_channels, projectionDim: e } };
  }
  activation(v.hidden_act, 'vision_config.hidden_act');
  if (v.image_size < v.patch_size) throw new Error(`vision_config.patch_size: ${v.patch_size} is larger than image_size ${v.image_size}`);
  const vision: VisionSettings = {
    family,
    imageSize: v.image_size,
    patchSize: v.patch_size,
    channels: v.num_channels,
    projectionDim: e,
    initializerRange: siglip ? 0.02 : (v as { initializer_range: number }).initializer_range,
    initFactor: factor,
    useHead: siglip ? (v as { vision_use_head?: boolean }).vision_use_head !== false : true,
    hiddenSize: v.hidden_size,
    intermediateSize: v.intermediate_size,
    layers: v.num_hidden_layers,
    heads: v.num_attention_heads,
    act: v.hidden_act,
    eps: v.layer_norm_eps,
    attentionDropout: v.attention_dropout,
  };
  return { ...base, vision };
}

/** Every tensor the config implies (HF names, torch shapes, reference initialisers), logit parameters included. */
export function parameterSpecs(config: ModelConfig, settings = modelSettings(config)): ParamSpec[] {
  const b = new SpecBuilder();
  textSpecs(b, settings.text);
  if (settings.resnet) resnetSpecs(b, settings.resnet);
  else visionSpecs(b, settings.vision!);
  if (settings.family === 'clip') {
    const init = (config as { logit_scale_init_value: number }).logit_scale_init_value;
    b.add('logit_scale', [], (n) => new Float32Array(n).fill(init));
    // A CLIP architecture trained with the sigmoid objective (duet_loss: siglip) needs SigLIP's bias; HF's CLIPModel
    // has none, so a CLIP checkpoint fine-tuned this way gets it initialised (b = -10, as SigLIP training starts).
    if (lossFamily(config) === 'siglip') b.add('logit_bias', [1], (n) => new Float32Array(n).fill(-10), true, true);
  } else {
    // HF's SiglipModel initialises t'=0, b=0 as placeholders; SigLIP training (big_vision, open_clip) starts from
    // t' = log(10), b = -10, which is what a from-scratch sigmoid loss needs.
    b.add('logit_scale', [1], (n) => new Float32Array(n).fill(Math.log(10)));
    b.add('logit_bias', [1], (n) => new Float32Array(n).fill(-10));
  }
  return b.specs;
}

export const isVisionParam = (name: string): boolean => name.startsWith('vision_model.') || name.startsWith('visual_projection.');
export const isTextParam = (name: string): boolean => name.startsWith('text_model.') || name.startsWith('text_projection.');

export interface ParameterCount {
  total: number;
  vision: number;
  /** Everything not in the image tower (text tower, text projection, logit parameters), as open_clip's profile. */
  text: number;
}

/** Trainable parameter count implied by a config, without allocating the model (BatchNorm buffers excluded). */
export function parameterCount(config: unknown): ParameterCount {
  const specs = parameterSpecs(resolveConfig(config)).filter((s) => s.trainable);
  const size = (s: ParamSpec) => s.shape.reduce((a, b) => a * b, 1);
  const vision = specs.filter((s) => isVisionParam(s.name)).reduce((a, s) => a + size(s), 0);
  const total = specs.reduce((a, s) => a + size(s), 0);
  return { total, vision, text: total - vision };
}

// HF-compatible config.json schemas for CLIP and SigLIP (field names and defaults as in HF transformers'
// CLIPTextConfig/CLIPVisionConfig/CLIPConfig and SiglipTextConfig/SiglipVisionConfig/SiglipConfig).
// Unknown keys (architectures, dtype, transformers_version, id2label, ...) pass through untouched.
//
// Duet extensions live under `duet_*` keys that HF ignores (all optional, loosely typed, unknown sub-keys kept):
//   duet_loss:                 'clip' | 'siglip' | { family: 'clip' | 'siglip', ... }  (training objective; default = model_type)
//   vision_config.duet_tower:  'vit' (default, the HF tower) | 'resnet' (open_clip ModifiedResNet)
//   vision_config.duet_resnet: { layers: number[4], width?: number (stem width, open_clip default 64), heads?: number
//                                (attention-pool heads), ... }  required when duet_tower is 'resnet'
//   duet_fusion:               { type?: string, ... }  an optional fusion head over the towers' token outputs
import { z } from 'zod';

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const tokenId = z.number().int().nullable();
const prob = z.number().min(0).max(1);

/** Raised when a config does not validate; `issues` lists every problem as `path: message`. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(message: string, readonly issues: string[] = []) {
    super(message);
  }
}

export const DuetResnetConfig = z.looseObject({
  layers: z.array(posInt).min(1),
  width: posInt.optional(),
  heads: posInt.optional(),
});

export const DuetFusionConfig = z.looseObject({ type: z.string().optional() });

export const LossFamily = z.enum(['clip', 'siglip']);
export type LossFamily = z.output<typeof LossFamily>;

export const DuetLoss = z.union([LossFamily, z.looseObject({ family: LossFamily })]);

/** Shared checks on a transformer tower: heads must divide the width (HF's attention raises otherwise). */
function headsDivide(v: { hidden_size: number; num_attention_heads: number }, ctx: z.RefinementCtx): void {
  if (v.hidden_size % v.num_attention_heads !== 0) {
    ctx.addIssue({ code: 'custom', path: ['num_attention_heads'], message: `hidden_size ${v.hidden_size} is not divisible by num_attention_heads ${v.num_attention_heads}` });
  }
}

const visionExtensions = {
  duet_tower: z.enum(['vit', 'resnet']).optional(),
  duet_resnet: DuetResnetConfig.optional(),
};

function resnetNeedsParams(v: { duet_tower?: string; duet_resnet?: unknown }, ctx: z.RefinementCtx): void {
  if (v.duet_tower === 'resnet' && v.duet_resnet === undefined) {
    ctx.addIssue({ code: 'custom', path: ['duet_resnet'], message: "duet_tower 'resnet' needs duet_resnet: { layers: number[], width?, heads? }" });
  }
}

export const CLIPTextConfig = z.looseObject({
  model_type: z.string().default('clip_text_model'),
  vocab_size: posInt.default(49408),
  hidden_size: posInt.default(512),
  intermediate_size: posInt.default(2048),
  projection_dim: posInt.default(512),
  num_hidden_layers: nonNegInt.default(12),
  num_attention_heads: posInt.default(8),
  max_position_embeddings: posInt.default(77),
  hidden_act: z.string().default('quick_gelu'),
  layer_norm_eps: z.number().positive().default(1e-5),
  attention_dropout: prob.default(0.0),
  initializer_range: z.number().nonnegative().default(0.02),
  initializer_factor: z.number().default(1.0),
  // HF: "This differs from CLIPTokenizer's default and from openai/clip" (pad 1, not 0).
  pad_token_id: tokenId.default(1),
  bos_token_id: tokenId.default(49406),
  eos_token_id: tokenId.default(49407),
}).superRefine(headsDivide);
export type CLIPTextConfig = z.output<typeof CLIPTextConfig>;

export const CLIPVisionConfig = z.looseObject({
  model_type: z.string().default('clip_vision_model'),
  hidden_size: posInt.default(768),
  intermediate_size: posInt.default(3072),
  projection_dim: posInt.default(512),
  num_hidden_layers: nonNegInt.default(12),
  num_attention_heads: posInt.default(12),
  num_channels: posInt.default(3),
  image_size: posInt.default(224),
  patch_size: posInt.default(32),
  hidden_act: z.string().default('quick_gelu'),
  layer_norm_eps: z.number().positive().default(1e-5),
  attention_dropout: prob.default(0.0),
  initializer_range: z.number().nonnegative().default(0.02),
  initializer_factor: z.number().default(1.0),
  ...visionExtensions,
}).superRefine(headsDivide).superRefine(resnetNeedsParams);
export type CLIPVisionConfig = z.output<typeof CLIPVisionConfig>;

const topExtensions = {
  duet_loss: DuetLoss.optional(),
  duet_fusion: DuetFusionConfig.optional(),
};

export const CLIPConfig = z.looseObject({
  model_type: z.literal('clip'),
  // `prefault` runs the default through the sub-schema, so a missing sub-config gets every HF default.
  text_config: CLIPTextConfig.prefault({}),
  vision_config: CLIPVisionConfig.prefault({}),
  projection_dim: posInt.default(512),
  logit_scale_init_value: z.number().default(2.6592),
  initializer_factor: z.number().default(1.0),
  ...topExtensions,
});
export type CLIPConfig = z.output<typeof CLIPConfig>;
export type ClipConfig = CLIPConfig;

export const SiglipTextConfig = z.looseObject({
  model_type: z.string().default('siglip_text_model'),
  vocab_size: posInt.default(32000),
  hidden_size: posInt.default(768),
  intermediate_size: posInt.default(3072),
  num_hidden_layers: nonNegInt.default(12),
  num_attention_heads: posInt.default(12),
  max_position_embeddings: posInt.default(64),
  hidden_act: z.string().default('gelu_pytorch_tanh'),
  layer_norm_eps: z.number().positive().default(1e-6),
  attention_dropout: prob.default(0.0),
  pad_token_id: tokenId.default(1),
  bos_token_id: tokenId.default(49406),
  eos_token_id: tokenId.default(49407),
  // HF: projection_size=None means hidden_size (filled in below).
  projection_size: posInt.nullable().optional(),
}).superRefine(headsDivide).transform((v) => ({ ...v, projection_size: v.projection_size ?? v.hidden_size }));
export type SiglipTextConfig = z.output<typeof SiglipTextConfig>;

export const SiglipVisionConfig = z.looseObject({
  model_type: z.string().default('siglip_vision_model'),
  hidden_size: posInt.default(768),
  intermediate_size: posInt.default(3072),
  num_hidden_layers: nonNegInt.default(12),
  num_attention_heads: posInt.default(12),
  num_channels: posInt.default(3),
  image_size: posInt.default(224),
  patch_size: posInt.default(16),
  hidden_act: z.string().default('gelu_pytorch_tanh'),
  layer_norm_eps: z.number().positive().default(1e-6),
  attention_dropout: prob.default(0.0),
  // Not a constructor argument in HF; SiglipVisionTransformer treats a missing value as true (MAP head present).
  vision_use_head: z.boolean().optional(),
  ...visionExtensions,
}).superRefine(headsDivide).superRefine(resnetNeedsParams);
export type SiglipVisionConfig = z.output<typeof SiglipVisionConfig>;

export const SiglipConfig = z.looseObject({
  model_type: z.literal('siglip'),
  text_config: SiglipTextConfig.prefault({}),
  vision_config: SiglipVisionConfig.prefault({}),
  initializer_factor: z.number().default(1.0),
  ...topExtensions,
});
export type SiglipConfig = z.output<typeof SiglipConfig>;

export type ModelConfig = CLIPConfig | SiglipConfig;

function formatIssues(err: z.ZodError, source: string): ConfigError {
  const issues = err.issues.map((i) => {
    const path = i.path.length ? i.path.map(String).join('.') : '(root)';
    return `${path}: ${i.message}`;
  });
  return new ConfigError(`${source}: invalid config: ${issues.join('; ')}`, issues);
}

/**
 * Mirrors HF's handling of old config files: `text_config: null` means defaults, and CLIP's legacy
 * `text_config_dict`/`vision_config_dict` (still present in some hub configs) are completed with defaults and
 * override `text_config`/`vision_config`; HF drops the *_dict keys, so they are not written back either.
 */
function normalizeLegacy(obj: Record<string, unknown>): Record<string, unknown> {
  const out = { ...obj };
  for (const part of ['text', 'vision'] as const) {
    const key = `${part}_config`;
    if (out[key] === null) delete out[key];
    if (obj.model_type !== 'clip' || !(`${key}_dict` in out)) continue;
    const legacy = out[`${key}_dict`];
    delete out[`${key}_dict`];
    if (legacy === null || legacy === undefined) continue;
    const sub = part === 'text' ? CLIPTextConfig : CLIPVisionConfig;
    const full = sub.safeParse(legacy);
    // Invalid legacy dicts are left for the main schema to report under the normal key.
    const cur = (out[key] ?? {}) as Record<string, unknown>;
    out[key] = full.success ? { ...cur, ...full.data } : { ...cur, ...(legacy as object) };
  }
  return out;
}

/** Accepts an already-parsed object or JSON text; bad text is a ConfigError naming the source file. */
export function parseJsonInput(json: unknown, source: string): unknown {
  if (typeof json !== 'string') return json;
  try {
    return JSON.parse(json);
  } catch (e) {
    throw new ConfigError(`${source}: not valid JSON (${(e as Error).message})`);
  }
}

/** Parses an HF CLIP/SigLIP config.json (object or JSON text), filling HF defaults and keeping unknown keys. */
export function parseModelConfig(json: unknown, source = 'config.json'): ModelConfig {
  const obj = parseJsonInput(json, source);
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new ConfigError(`${source}: expected a JSON object, got ${Array.isArray(obj) ? 'an array' : String(obj)}`);
  const mt = (obj as Record<string, unknown>).model_type;
  const schema = mt === 'clip' ? CLIPConfig : mt === 'siglip' ? SiglipConfig : null;
  if (!schema) {
    throw new ConfigError(`${source}: model_type: expected "clip" or "siglip", got ${JSON.stringify(mt)}`, [`model_type: expected "clip" or "siglip"`]);
  }
  const r = schema.safeParse(normalizeLegacy(obj as Record<string, unknown>));
  if (!r.success) throw formatIssues(r.error, source);
  return r.data as ModelConfig;
}

export function isSiglipConfig(c: ModelConfig): c is SiglipConfig {
  return c.model_type === 'siglip';
}

/** The training objective: `duet_loss` when present, else the model_type. */
export function lossFamily(config: ModelConfig): LossFamily {
  const dl = config.duet_loss;
  if (typeof dl === 'string') return dl;
  if (dl && typeof dl === 'object') return dl.family;
  return config.model_type;
}

/** Which vision tower a config describes ('vit' unless vision_config.duet_tower says otherwise). */
export function visionTower(config: ModelConfig): 'vit' | 'resnet' {
  return config.vision_config.duet_tower ?? 'vit';
}

/** Projection (embedding) width E shared by both towers. */
export function embedDim(config: ModelConfig): number {
  return isSiglipConfig(config) ? config.text_config.projection_size : config.projection_dim;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/** Plain JSON object for config.json (validated; keys sorted like HF's save_pretrained; unknown keys kept). */
export function configToObject(config: ModelConfig | Record<string, unknown>): Record<string, unknown> {
  return sortKeys(parseModelConfig(config, 'config')) as Record<string, unknown>;
}

/** config.json text: 2-space indented, sorted keys, trailing newline (as HF writes it). */
export function configToJSON(config: ModelConfig | Record<string, unknown>): string {
  return JSON.stringify(configToObject(config), null, 2) + '\n';
}

// The fusion head's configuration as data: stored in the model folder's config.json under `duet_fusion`, validated
// (zod) with defaults filled, so a folder fully describes its head. Tower widths come from the encoder config.
import { z } from 'zod';
import { ACTIVATIONS } from '@duet/encoders';

/** config.json key holding the fusion head's configuration. */
export const FUSION_CONFIG_KEY = 'duet_fusion';
/** Prefix of every fusion tensor name in model.safetensors. */
export const FUSION_PREFIX = 'fusion.';

export const FUSION_TYPES = ['cross_attention', 'late_fusion'] as const;
export type FusionType = (typeof FUSION_TYPES)[number];

const posInt = z.number().int().positive();

export const FusionConfigSchema = z
  .object({
    /** 'cross_attention': blocks over the towers' token sequences; 'late_fusion': MLP on concatenated pooled embeddings. */
    type: z.enum(FUSION_TYPES).default('cross_attention'),
    /** Task of the head: answer classification over `answer_vocab` (the standard VQA formulation). */
    task: z.literal('vqa').default('vqa'),
    /** The fixed answer vocabulary; the head outputs one logit per entry, in this order. */
    answer_vocab: z.array(z.string()).min(2),
    /** Width of the fusion stream (both token sequences are projected to it) and of the classifier's hidden layer. */
    hidden_size: posInt.default(64),
    /** Fusion blocks (cross_attention only). */
    num_blocks: posInt.default(2),
    num_heads: posInt.default(4),
    /** MLP width = mlp_ratio * hidden_size. */
    mlp_ratio: z.number().positive().default(4),
    /**
     * Also let text tokens query the vision tokens in every block (co-attention); the pooled output is then the
     * vision pool concatenated with the masked mean of the text stream. Default: vision queries text only.
     */
    symmetric: z.boolean().default(false),
    /**
     * Learned position embeddings added to both projected token streams (`fusion.vision_position_embedding`
     * [Nv, D], `fusion.text_position_embedding` [Nt, D]; Nv, Nt from the towers' configs), as ViLBERT/LXMERT give
     * their fusion layers each region's location: the towers' own position signal is faint after contrastive
     * training (it rarely matters for matching a caption), and "where is …" / "left of" questions need it.
     * Default false so folders saved before this field load unchanged; `duet train --task vqa` turns it on.
     */
    position_embeddings: z.boolean().default(false),
    /** A self-attention sub-layer over the vision stream after the cross-attention in every block (LXMERT-style). */
    self_attention: z.boolean().default(true),
    /** 'mean' over the vision tokens, or 'cls': a learned query token prepended to the vision stream (needs self_attention to see the image). */
    pooled: z.enum(['mean', 'cls']).default('mean'),
    hidden_act: z.enum(ACTIVATIONS).default('gelu_pytorch_tanh'),
    layer_norm_eps: z.number().positive().default(1e-6),
    /** late_fusion: L2-normalise the pooled embeddings before concatenating them. */
    normalize: z.boolean().default(true),
    /**
     * Init of linear weights (biases 0, LayerNorm 1/0): 'fan_in' (default) draws N(0, 1/fan_in) (LeCun normal), so
     * every layer starts with unit-scale outputs and the attention logits start away from zero; a number is a fixed
     * std (HF's BERT-style 0.02 — at this head's small widths that leaves attention uniform and the head nearly
     * linear for hundreds of steps: the reason for the default).
     */
    initializer_range: z.union([z.number().nonnegative(), z.literal('fan_in')]).default('fan_in'),
  })
  .loose()
  .superRefine((c, ctx) => {
    if (c.hidden_size % c.num_heads !== 0) ctx.addIssue({ code: 'custom', path: ['num_heads'], message: `hidden_size ${c.hidden_size} is not divisible by num_heads ${c.num_heads}` });
    if (new Set(c.answer_vocab).size !== c.answer_vocab.length) ctx.addIssue({ code: 'custom', path: ['answer_vocab'], message: 'answers must be unique' });
    if (c.pooled === 'cls' && c.type === 'cross_attention' && !c.self_attention) ctx.addIssue({ code: 'custom', path: ['pooled'], message: "'cls' pooling needs self_attention (the query token only sees the image through it)" });
    if (Math.round(c.hidden_size * c.mlp_ratio) < 1) ctx.addIssue({ code: 'custom', path: ['mlp_ratio'], message: 'mlp_ratio * hidden_size must be >= 1' });
  });

export type FusionConfig = z.output<typeof FusionConfigSchema>;
export type FusionConfigInput = z.input<typeof FusionConfigSchema>;

export class FusionConfigError extends Error {
  override name = 'FusionConfigError';
}

/** Validates a `duet_fusion` object (defaults filled); errors name each field as `duet_fusion.<path>`. */
export function parseFusionConfig(json: unknown): FusionConfig {
  const r = FusionConfigSchema.safeParse(json);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${[FUSION_CONFIG_KEY, ...i.path].join('.')}: ${i.message}`).join('; ');
    throw new FusionConfigError(`invalid fusion config: ${msg}`);
  }
  return r.data;
}

/** Whether a model config (config.json object) carries a fusion head. */
export function hasFusionHead(modelConfig: unknown): boolean {
  return !!modelConfig && typeof modelConfig === 'object' && (modelConfig as Record<string, unknown>)[FUSION_CONFIG_KEY] !== undefined;
}

// `duet train --task vqa` configuration as data (recipe / JSON file / flags), validated before any work starts.
import { z } from 'zod';
import shapesVqa from '../recipes/shapes-vqa.json' with { type: 'json' };
import vqaSmoke from '../recipes/vqa-smoke.json' with { type: 'json' };

export const VqaTrainConfigSchema = z
  .object({
    /** Contrastively trained model folder whose towers the head sits on (required). */
    model: z.string().optional(),
    /** 'cross_attention' (intermediate fusion over tokens) or 'late_fusion' (MLP on pooled embeddings). */
    head: z.enum(['cross_attention', 'late_fusion']).default('cross_attention'),
    /** duet_fusion fields for the head (num_blocks, hidden_size, num_heads, mlp_ratio, symmetric, self_attention, pooled, ...). */
    fusion: z.record(z.string(), z.unknown()).default({}),
    /** Also train the late-fusion baseline (same data, steps, batch, optimizer) and report both side by side. */
    baseline: z.boolean().default(true),
    /** duet_fusion overrides for the baseline head (e.g. hidden_size). */
    baselineFusion: z.record(z.string(), z.unknown()).default({}),
    /** Towers kept frozen: 'towers' (only the head trains), 'text' (fine-tune the vision tower), 'vision', 'none'. */
    freeze: z.enum(['towers', 'text', 'vision', 'none']).default('towers'),
    /** Training scenes with question–answer pairs (a shapes spec with `questions`; `locations` adds "where is the … ?" questions). */
    data: z.string().default('shapes:seed=0,size=4000,imageSize=48,questions,locations'),
    /** Held-out scenes (another seed). */
    evalData: z.string().default('shapes:seed=7919,size=500,imageSize=48,questions'),
    batchSize: z.number().int().positive().default(64),
    /**
     * Questions per scene in a batch (batchSize / this many scenes, consecutive). > 1 runs a fine-tuned vision tower
     * once per scene instead of once per question; 1 = independent (scene, question) examples.
     */
    questionsPerScene: z.number().int().positive().default(1),
    /**
     * Sampling weight per question type (an integer: each example of that type appears this many times per epoch;
     * 0 leaves the type out; unnamed types 1). Relative position only pays off once the head finds both named
     * objects and compares them — a circuit the easier types crowd out when sampled at their natural rate.
     */
    typeWeights: z.record(z.string(), z.number().int().min(0)).default({}),
    steps: z.number().int().positive().default(1000),
    lr: z.number().positive().default(1e-3),
    weightDecay: z.number().min(0).default(0.01),
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.98),
    eps: z.number().positive().default(1e-6),
    schedule: z.enum(['cosine', 'const']).default('cosine'),
    warmup: z.number().int().min(0).default(50),
    gradClipNorm: z.number().min(0).default(1),
    backend: z.enum(['auto', 'wasm', 'cpu', 'webgpu', 'tensorflow', 'webgl']).default('wasm'),
    seed: z.number().int().default(0),
    out: z.string().default('runs/vqa'),
    /** Evaluate on the held-out set every N steps (0 = only at the end). */
    evalEvery: z.number().int().min(0).default(0),
    logEvery: z.number().int().positive().default(10),
    /** Examples drawn in the attention-map figure (0 = none). */
    attentionExamples: z.number().int().min(0).default(4),
  })
  .strict();

export type VqaTrainConfig = z.infer<typeof VqaTrainConfigSchema>;
export type VqaTrainConfigInput = z.input<typeof VqaTrainConfigSchema>;

const RECIPES: Record<string, VqaTrainConfigInput> = {
  'shapes-vqa': shapesVqa as VqaTrainConfigInput,
  'vqa-smoke': vqaSmoke as VqaTrainConfigInput,
};

export function listVqaRecipes(): string[] {
  return Object.keys(RECIPES);
}

export function getVqaRecipe(name: string): VqaTrainConfigInput {
  const r = RECIPES[name];
  if (!r) throw new Error(`unknown VQA recipe "${name}"; available: ${listVqaRecipes().join(', ')}`);
  return structuredClone(r);
}

/** Merge layers (later wins, undefined ignored) and validate; errors name the field. */
export function resolveVqaConfig(...layers: (Partial<VqaTrainConfigInput> | undefined)[]): VqaTrainConfig {
  const merged: Record<string, unknown> = {};
  for (const l of layers) {
    for (const [k, v] of Object.entries(l ?? {})) {
      if (v === undefined) continue;
      // Head settings merge field by field, so `--fusion '{"num_blocks":3}'` keeps the recipe's other fields.
      const prev = merged[k];
      merged[k] = (k === 'fusion' || k === 'baselineFusion') && prev && typeof prev === 'object' && v && typeof v === 'object' ? { ...prev, ...v } : v;
    }
  }
  const r = VqaTrainConfigSchema.safeParse(merged);
  if (!r.success) throw new Error(`invalid VQA training config: ${r.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ')}`);
  if (r.data.batchSize % r.data.questionsPerScene !== 0) throw new Error(`batchSize ${r.data.batchSize} does not divide by questionsPerScene ${r.data.questionsPerScene}`);
  if (!r.data.model) throw new Error('VQA training needs --model <dir>: a contrastively trained model folder (e.g. from `duet train --recipe shapes-clip`)');
  return r.data;
}

// Training configuration as data: a JSON file (or a named recipe) with CLI flags layered on top, validated by zod
// before any work starts so bad input fails fast with a message naming the field.
import { z } from 'zod';
import smoke from './recipes/smoke.json' with { type: 'json' };
import fmnistSiglip from './recipes/fashion-mnist-siglip.json' with { type: 'json' };
import fmnistClip from './recipes/fashion-mnist-clip.json' with { type: 'json' };
import shapesClip from './recipes/shapes-clip.json' with { type: 'json' };
import shapesSiglip from './recipes/shapes-siglip.json' with { type: 'json' };

export const TrainConfigSchema = z
  .object({
    /** Encoder preset (from @duet/encoders) for training from scratch. */
    preset: z.string().default('tiny-siglip'),
    /** Model folder to fine-tune from (overrides preset). */
    model: z.string().optional(),
    /** Override the loss family (default: the model's own, from config.json). */
    loss: z.enum(['clip', 'siglip']).optional(),
    /** Preset overrides merged into the model config (e.g. { vision_config: { image_size: 28 } }). */
    modelOverrides: z.record(z.string(), z.unknown()).default({}),
    /** Training data: 'fashion-mnist', 'shapes', a .csv file, or a WebDataset .tar pattern. */
    data: z.string().default('fashion-mnist'),
    /** Eval set: 'fashion-mnist' (test split, zero-shot + retrieval), 'shapes', a CSV/WebDataset (retrieval), or 'none'. */
    evalData: z.string().default('fashion-mnist'),
    /** Cap on eval samples (0 = all). */
    evalLimit: z.number().int().min(0).default(0),
    batchSize: z.number().int().positive().default(64),
    accum: z.number().int().positive().default(1),
    lr: z.number().positive().default(1e-3),
    weightDecay: z.number().min(0).default(0.1),
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.98),
    eps: z.number().positive().default(1e-6),
    schedule: z.enum(['cosine', 'const', 'const-cooldown']).default('cosine'),
    warmup: z.number().int().min(0).default(100),
    cooldownSteps: z.number().int().min(0).default(0),
    epochs: z.number().positive().optional(),
    steps: z.number().int().positive().optional(),
    gradClipNorm: z.number().min(0).default(1),
    /** LiT: lock the image tower (no updates, no decay). */
    lockImage: z.boolean().default(false),
    lockText: z.boolean().default(false),
    augment: z.boolean().default(false),
    backend: z.enum(['auto', 'wasm', 'cpu', 'webgpu', 'tensorflow', 'webgl']).default('wasm'),
    seed: z.number().int().default(0),
    out: z.string().default('runs/latest'),
    resume: z.string().optional(),
    /** Evaluate every N steps (0 = only at the end). */
    evalEvery: z.number().int().min(0).default(0),
    /** Checkpoint every N steps (0 = only at the end and on Ctrl-C). */
    saveEvery: z.number().int().min(0).default(0),
    keepCheckpoints: z.number().int().positive().default(2),
    logEvery: z.number().int().positive().default(1),
    /** Limit on training samples per epoch (0 = the whole dataset); for smoke runs. */
    trainLimit: z.number().int().min(0).default(0),
    /** Data-parallel worker threads on this machine (`duet train --workers N`); batchSize is the global batch. */
    workers: z.number().int().positive().default(1),
    /** Stop after this many optimizer steps of this process (used to simulate interruption in tests). */
    stopAfter: z.number().int().positive().optional(),
  })
  .strict();

export type TrainConfig = z.infer<typeof TrainConfigSchema>;
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;

const RECIPES: Record<string, TrainConfigInput> = {
  smoke: smoke as TrainConfigInput,
  'fashion-mnist-siglip': fmnistSiglip as TrainConfigInput,
  'fashion-mnist-clip': fmnistClip as TrainConfigInput,
  // Towers for the shapes VQA task (`duet train --task vqa --recipe shapes-vqa --model <run>/model`).
  'shapes-clip': shapesClip as TrainConfigInput,
  'shapes-siglip': shapesSiglip as TrainConfigInput,
};

export function listRecipes(): string[] {
  return Object.keys(RECIPES);
}

/** A recipe by name: the tuned training settings behind the acceptance runs, or the one-step smoke run. */
export function getRecipe(name: string): TrainConfigInput {
  const r = RECIPES[name];
  if (!r) throw new Error(`unknown recipe "${name}"; available: ${listRecipes().join(', ')}`);
  return structuredClone(r);
}

/** Merge layers (later wins, undefined values ignored) and validate. */
export function resolveConfig(...layers: (Partial<TrainConfigInput> | undefined)[]): TrainConfig {
  const merged: Record<string, unknown> = {};
  for (const l of layers) {
    for (const [k, v] of Object.entries(l ?? {})) {
      if (v === undefined) continue;
      // A later layer's steps replaces an earlier layer's epochs and vice versa (they are two ways to say one thing).
      if (k === 'steps') delete merged['epochs'];
      if (k === 'epochs') delete merged['steps'];
      merged[k] = v;
    }
  }
  const r = TrainConfigSchema.safeParse(merged);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
    throw new Error(`invalid training config: ${msg}`);
  }
  const c = r.data;
  if (c.batchSize % c.accum !== 0) {
    throw new Error(`batch size ${c.batchSize} does not divide by the accumulation steps ${c.accum} (each micro-batch must be batchSize/accum)`);
  }
  if (c.epochs !== undefined && c.steps !== undefined) throw new Error('give either epochs or steps, not both');
  if (c.schedule === 'const-cooldown' && c.cooldownSteps <= 0) throw new Error('schedule const-cooldown needs cooldownSteps > 0');
  return c;
}

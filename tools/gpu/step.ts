// One training step of a preset dual encoder exactly as the trainer runs it (computeGradients -> clipByGlobalNorm ->
// AdamW -> clampLogitScale), on synthetic seeded inputs, for timing and per-kernel profiling on any backend.
// The PyTorch reference (torch_reference.py) builds the same model from the same preset JSON.
import { createRng, tf } from '@duet/runtime';
import { createDualEncoder, getPreset, type DualEncoder } from '@duet/encoders';
import { clampLogitScale } from '@duet/losses';
import { AdamW, clipByGlobalNorm, computeGradients, type TensorBatch, type TrainableDualEncoder } from '@duet/training';

export type Json = Record<string, unknown>;

/** A preset with the loss family forced (ViT-B-32 is a CLIP-architecture preset; `siglip` adds logit_bias). */
export function modelConfig(preset: string, loss: 'clip' | 'siglip', overrides: Json = {}): Json {
  const base = structuredClone(getPreset(preset)) as Json;
  const merged = deepMerge(base, overrides);
  merged['duet_loss'] = loss;
  return merged;
}

export function deepMerge(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && base[k] && typeof base[k] === 'object' ? deepMerge(base[k] as Json, v as Json) : v;
  }
  return out;
}

/** Seeded synthetic batch: pixels ~ N(0, 1) [B, 3, S, S], full-length token rows ending in EOS (as CLIP's 77-token context). */
export function syntheticBatch(config: Json, batch: number, seed = 0): { pixels: Float32Array; pixelShape: [number, number, number, number]; ids: Int32Array; textShape: [number, number] } {
  const v = config['vision_config'] as Json;
  const t = config['text_config'] as Json;
  const size = v['image_size'] as number;
  const len = t['max_position_embeddings'] as number;
  const vocab = t['vocab_size'] as number;
  const eos = t['eos_token_id'] as number;
  const rng = createRng(seed);
  const pixels = new Float32Array(batch * 3 * size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.normal(0, 1);
  const ids = new Int32Array(batch * len);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < len; i++) {
      let id = rng.int(vocab);
      if (id === eos) id = (id + 1) % vocab;
      ids[b * len + i] = i === len - 1 ? eos : id;
    }
  }
  return { pixels, pixelShape: [batch, 3, size, size], ids, textShape: [batch, len] };
}

/**
 * The model the trainer sees. A CLIP-architecture preset trained with the SigLIP loss (`duet_loss: 'siglip'`) needs
 * a learnable logit bias (open_clip adds one whenever init_logit_bias is set); @duet/encoders currently creates
 * logit_bias only for model_type 'siglip', so it is added here when missing, with SigLIP's t' = ln 10, b = -10.
 */
export function trainable(model: DualEncoder): TrainableDualEncoder & { extra: tf.Variable[] } {
  if (model.lossFamily !== 'siglip' || model.logitBias) return Object.assign(model, { extra: [] as tf.Variable[] });
  const bias = tf.variable(tf.fill([1], -10), true, `logit_bias_${Math.random().toString(36).slice(2)}`);
  model.logitScale.assign(tf.fill(model.logitScale.shape, Math.log(10)));
  return {
    lossFamily: 'siglip',
    logitScale: model.logitScale,
    logitBias: bias,
    extra: [bias],
    encodeImage: (p, o) => model.encodeImage(p, o),
    encodeText: (ids, mask, o) => model.encodeText(ids, mask, o),
    namedVariables: () => new Map([...model.namedVariables(), ['logit_bias', bias]]),
    trainableVariables: () => [...model.trainableVariables(), bias],
  };
}

export interface StepRunner {
  model: DualEncoder;
  params: number;
  /** Runs one optimizer step (or only the gradients with `optimizer: false`); returns the loss (read back, so the step has finished on the device). */
  step(): number;
  dispose(): void;
}

/**
 * A model + optimizer + one resident batch. The text tower gets no attention mask (full-length rows), as the
 * trainer does for SigLIP; CLIP's causal mask is always applied.
 */
export function createStepRunner(config: Json, batch: number, opts: { seed?: number; accum?: number; lr?: number; optimizer?: boolean } = {}): StepRunner {
  const model = createDualEncoder(config, { seed: opts.seed ?? 0 });
  const tm = trainable(model);
  const named = new Map([...tm.namedVariables()].filter(([, v]) => v.trainable));
  const opt = opts.optimizer === false ? undefined : new AdamW(named, { lr: opts.lr ?? 1e-4, weightDecay: 0.1 });
  const x = syntheticBatch(config, batch, (opts.seed ?? 0) + 1);
  const pixelValues = tf.tensor4d(x.pixels, x.pixelShape);
  const inputIds = tf.tensor2d(x.ids, x.textShape, 'int32');
  const accum = opts.accum ?? 1;
  const micro: TensorBatch[] = accum === 1
    ? [{ pixelValues, inputIds }]
    : Array.from({ length: accum }, (_, j) => {
        const rows = batch / accum;
        return {
          pixelValues: tf.slice(pixelValues, [j * rows, 0, 0, 0], [rows, -1, -1, -1]) as tf.Tensor4D,
          inputIds: tf.slice(inputIds, [j * rows, 0], [rows, -1]) as tf.Tensor2D,
        };
      });
  return {
    model,
    params: [...tm.namedVariables().values()].reduce((a, v) => a + v.size, 0),
    step() {
      const { loss, grads } = computeGradients(tm, micro);
      if (!opt) {
        tf.dispose([...grads.values()]);
        return loss;
      }
      const { grads: clipped } = clipByGlobalNorm(grads, 1);
      opt.applyGradients(clipped);
      tf.dispose([...clipped.values()]);
      clampLogitScale(model.logitScale);
      return loss;
    },
    dispose() {
      tf.dispose([pixelValues, inputIds, ...(accum === 1 ? [] : micro.flatMap((m) => [m.pixelValues, m.inputIds]))]);
      opt?.dispose();
      tf.dispose(tm.extra);
      model.dispose();
    },
  };
}

/** Times `steps` steps after `warmup` (shader compilation, buffer pool growth). */
export function timeSteps(runner: StepRunner, batch: number, warmup: number, steps: number, log: (m: string) => void = () => undefined): { stepMs: number[]; medianMs: number; samplesPerS: number; losses: number[] } {
  const losses: number[] = [];
  for (let i = 0; i < warmup; i++) {
    const t0 = performance.now();
    losses.push(runner.step());
    log(`  warmup step ${i + 1}/${warmup}: ${(performance.now() - t0).toFixed(0)} ms`);
  }
  const stepMs: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    losses.push(runner.step());
    stepMs.push(performance.now() - t0);
    log(`  step ${i + 1}/${steps}: ${stepMs[i]!.toFixed(0)} ms, loss ${losses[losses.length - 1]!.toFixed(4)}`);
  }
  const sorted = [...stepMs].sort((a, b) => a - b);
  const medianMs = sorted[Math.floor(sorted.length / 2)]!;
  return { stepMs, medianMs, samplesPerS: batch / (medianMs / 1000), losses };
}

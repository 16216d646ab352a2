// Training-step conformance of the WebGPU backend (Dawn in Node) against the cpu reference backend: for tiny
// versions of each tower kind (ViT + CLIP text transformer, SigLIP ViT with attention-pool head + SigLIP text,
// ResNet with BatchNorm in train mode) the loss and EVERY parameter gradient — through the CLIP loss, the plain and
// chunked SigLIP losses, and the trainer's feature-gradient step (with accumulation) — and one full optimizer step
// (global-norm clipping, AdamW, logit-scale clamp) must agree. Inputs and initial weights are drawn in JS from fixed
// seeds, so both backends start from bit-identical values.
//
// Needs a WebGPU adapter: Mesa's llvmpipe Vulkan on CPU-only machines (libvulkan1 + mesa-vulkan-drivers >= 23), the
// vendor driver on GPU hosts. Without one this file FAILS naming what is missing; it is never skipped.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng, initBackend, tf, type BackendName } from '@duet/runtime/node';
import { createDualEncoder, getPreset, l2Normalize, type DualEncoder } from '@duet/encoders';
import { clampLogitScale, clipLoss, siglipLoss } from '@duet/losses';
import { AdamW } from './optim/adamw.js';
import { clipByGlobalNorm } from './optim/clip-grad.js';
import { computeGradients } from './step.js';

/**
 * Tolerances. Gradients and losses, per tensor: ||got − want||₂ ≤ REL·||want||₂ + FLOOR·G·√n, where G is the largest
 * |gradient| of that loss form: the floor only matters for gradients that are mathematically zero (e.g. attention key
 * biases, which softmax cancels), whose values on both backends are rounding noise.
 * Optimizer update, per tensor on the parameter change Δ = p_after − p_before: ||Δgot − Δwant||₂ ≤ REL_UPDATE·||Δwant||₂
 * + LR_FLOOR·lr·√n (Adam's first step is lr·g/(|g| + ε), so noise-level gradients move by a noise-dependent fraction of lr).
 */
const REL = 1e-4;
const FLOOR = 1e-6;
const REL_UPDATE = 1e-3;
const LR_FLOOR = 1e-2;
const LR = 1e-3;

type Values = Map<string, Float32Array>;
type Json = Record<string, unknown>;

function merge(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && base[k] && typeof base[k] === 'object' ? merge(base[k] as Json, v as Json) : v;
  }
  return out;
}

const TEXT = { hidden_size: 32, intermediate_size: 64, num_attention_heads: 2, num_hidden_layers: 2, max_position_embeddings: 8 };
const VIT = { hidden_size: 32, intermediate_size: 64, num_attention_heads: 2, num_hidden_layers: 2, image_size: 16, patch_size: 4 };

interface Model {
  name: string;
  config: Json;
  /** Which tower-level ops this configuration exercises (for the report). */
  covers: string;
}

const MODELS: Model[] = [
  {
    name: 'tiny ViT CLIP (quick_gelu, causal + padding mask, erf gelu in the image tower)',
    config: merge(getPreset('tiny-clip') as Json, { projection_dim: 24, text_config: { ...TEXT, projection_dim: 24 }, vision_config: { ...VIT, hidden_act: 'gelu', projection_dim: 24 } }),
    covers: 'patchify, class token, pre/post LN, MHA, quick_gelu, erf gelu, EOS pooling, projections',
  },
  {
    name: 'tiny SigLIP (tanh gelu, attention-pool head, last-token pooling)',
    config: merge(getPreset('tiny-siglip') as Json, { text_config: { ...TEXT, projection_size: 32 }, vision_config: VIT }),
    covers: 'SigLIP embeddings, MAP head (probe attention), tanh gelu, text head',
  },
  {
    name: 'tiny ResNet CLIP (conv, train-mode BatchNorm, pools, attention pool)',
    config: merge(getPreset('tiny-resnet') as Json, {
      projection_dim: 24,
      text_config: { ...TEXT, projection_dim: 24 },
      vision_config: { image_size: 32, projection_dim: 24, duet_resnet: { layers: [1, 1, 1, 1], width: 8, heads: 2 } },
    }),
    covers: 'conv2d (stem 3x3 s2, 1x1, 3x3), BatchNorm batch stats, relu, avgPool, attention pool',
  },
];

const BATCH = 4;

/** Seeded inputs: pixels ~ N(0, 1), ids in [2, vocab), right padding of different lengths. */
function batchFor(config: Json, seed: number) {
  const v = config['vision_config'] as Json;
  const t = config['text_config'] as Json;
  const size = v['image_size'] as number;
  const rng = createRng(seed);
  const pixels = new Float32Array(BATCH * 3 * size * size).map(() => rng.normal(0, 1));
  const len = t['max_position_embeddings'] as number;
  const ids = new Int32Array(BATCH * len);
  const mask = new Int32Array(BATCH * len);
  const eos = t['eos_token_id'] as number;
  const pad = t['pad_token_id'] as number;
  for (let b = 0; b < BATCH; b++) {
    const used = len - b; // row b has b padding tokens
    for (let i = 0; i < len; i++) {
      const real = i < used;
      ids[b * len + i] = !real ? pad : i === used - 1 ? eos : 2 + rng.int((t['vocab_size'] as number) - 2);
      mask[b * len + i] = real ? 1 : 0;
    }
  }
  return { pixels, pixelShape: [BATCH, 3, size, size] as [number, number, number, number], ids, mask, textShape: [BATCH, len] as [number, number] };
}

type Inputs = ReturnType<typeof batchFor>;

function tensors(x: Inputs) {
  return {
    pixelValues: tf.tensor4d(x.pixels, x.pixelShape),
    inputIds: tf.tensor2d(x.ids, x.textShape, 'int32'),
    attentionMask: tf.tensor2d(x.mask, x.textShape, 'int32'),
  };
}

async function readAll(into: Values, prefix: string, named: Iterable<[string, tf.Tensor]>): Promise<void> {
  for (const [k, t] of named) into.set(`${prefix}${k}`, Float32Array.from(await t.data()));
}

/** Loss + all parameter gradients for each loss form, then one optimizer step; returns every value read back. */
async function runModel(backend: BackendName, m: Model, seed: number): Promise<Values> {
  await initBackend({ backend });
  const out: Values = new Map();
  const model: DualEncoder = createDualEncoder(m.config, { seed });
  // Above ln(100), so the clamp after the optimizer step has something to do.
  model.logitScale.assign(tf.fill(model.logitScale.shape, 4.7));
  const x = batchFor(m.config, seed + 1);
  const b = tensors(x);
  const named = [...model.namedVariables()].filter(([, v]) => v.trainable);
  const vars = named.map(([, v]) => v);
  const nameOf = new Map(named.map(([n, v]) => [v.name, n]));
  const siglip = model.lossFamily === 'siglip';

  const forms: [string, (img: tf.Tensor2D, txt: tf.Tensor2D) => tf.Scalar][] = siglip
    ? [
        ['siglip/', (img, txt) => siglipLoss({ imageEmbeds: img, textEmbeds: txt, logitScale: model.logitScale, logitBias: model.logitBias! })],
        ['siglip-chunked/', (img, txt) => siglipLoss({ imageEmbeds: img, textEmbeds: txt, logitScale: model.logitScale, logitBias: model.logitBias! }, { chunkSize: 3 })],
      ]
    : [['clip/', (img, txt) => clipLoss({ imageEmbeds: img, textEmbeds: txt, logitScale: model.logitScale })]];
  for (const [prefix, loss] of forms) {
    const { value, grads } = tf.variableGrads(() => {
      const img = l2Normalize(model.encodeImage(b.pixelValues, { training: true })) as tf.Tensor2D;
      const txt = l2Normalize(model.encodeText(b.inputIds, b.attentionMask, { training: true })) as tf.Tensor2D;
      return loss(img, txt);
    }, vars);
    await readAll(out, prefix, [['loss', value], ...Object.entries(grads).map(([k, g]) => [`d:${nameOf.get(k)}`, g] as [string, tf.Tensor])]);
    tf.dispose([value, ...Object.values(grads)]);
  }

  // The trainer's step: the loss as one op with the loss package's feature gradients; whole batch and 2 micro-batches.
  const halves = [0, 1].map((h) => {
    const rows = BATCH / 2;
    return {
      pixelValues: tf.slice(b.pixelValues, [h * rows, 0, 0, 0], [rows, -1, -1, -1]),
      inputIds: tf.slice(b.inputIds, [h * rows, 0], [rows, -1]),
      attentionMask: tf.slice(b.attentionMask, [h * rows, 0], [rows, -1]),
    };
  });
  const accum = computeGradients(model, halves);
  await readAll(out, 'step-accum2/', [['loss', tf.scalar(accum.loss)], ...[...accum.grads].map(([k, g]) => [`d:${k}`, g] as [string, tf.Tensor])]);
  tf.dispose([...accum.grads.values(), ...halves.flatMap((h) => Object.values(h))]);

  const step = computeGradients(model, [b]);
  await readAll(out, 'step/', [['loss', tf.scalar(step.loss)], ...[...step.grads].map(([k, g]) => [`d:${k}`, g] as [string, tf.Tensor])]);
  // One optimizer step as the loop does it: a max norm small enough that clipping scales every gradient.
  const params = new Map(named);
  await readAll(out, 'init/', [...params]);
  const opt = new AdamW(params, { lr: LR, weightDecay: 0.1 });
  const { norm, grads: clipped } = clipByGlobalNorm(step.grads, 0.05);
  out.set('update/grad_norm', Float32Array.of(norm));
  opt.applyGradients(clipped);
  tf.dispose([...clipped.values()]);
  clampLogitScale(model.logitScale);
  await readAll(out, 'update/', [...params]);
  // BatchNorm running statistics (non-trainable buffers updated in train mode).
  await readAll(out, 'buffer/', [...model.namedVariables()].filter(([, v]) => !v.trainable));
  tf.dispose(Object.values(b));
  opt.dispose();
  model.dispose();
  return out;
}

interface Diff {
  key: string;
  /** ||got − want|| / ||want|| (for updates: of the parameter change). */
  rel: number;
  /** ||got − want|| / allowed; <= 1 passes. */
  ratio: number;
  /** False for updates driven by noise-level gradients (parameter change below 0.1·lr per element). */
  significant: boolean;
}

const sq = (a: Float32Array, b?: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - (b ? b[i]! : 0)) ** 2;
  return s;
};

function compare(got: Values, want: Values): Diff[] {
  const gScale = new Map<string, number>(); // loss form -> max |gradient|
  for (const [key, w] of want) {
    if (!key.includes('/d:')) continue;
    const form = key.slice(0, key.indexOf('/'));
    let m = gScale.get(form) ?? 0;
    for (const x of w) m = Math.max(m, Math.abs(x));
    gScale.set(form, m);
  }
  const diffs: Diff[] = [];
  for (const [key, w] of want) {
    if (key.startsWith('init/')) continue;
    const g = got.get(key);
    if (!g || g.length !== w.length) {
      diffs.push({ key, rel: Infinity, ratio: Infinity, significant: true });
      continue;
    }
    const n = w.length;
    let err: number, ref: number, allowed: number, significant = true;
    const p0 = want.get(`init/${key.slice('update/'.length)}`);
    if (key.startsWith('update/') && p0) {
      const dWant = w.map((x, i) => x - p0[i]!);
      const dGot = g.map((x, i) => x - p0[i]!);
      err = Math.sqrt(sq(dGot, dWant));
      ref = Math.sqrt(sq(dWant));
      allowed = REL_UPDATE * ref + LR_FLOOR * LR * Math.sqrt(n);
      significant = ref > 0.1 * LR * Math.sqrt(n);
    } else {
      err = Math.sqrt(sq(g, w));
      ref = Math.sqrt(sq(w));
      const form = key.slice(0, key.indexOf('/'));
      allowed = REL * ref + FLOOR * (gScale.get(form) ?? 0) * Math.sqrt(n);
    }
    const bad = (x: number) => (Number.isNaN(x) ? Infinity : x);
    diffs.push({ key, rel: bad(ref > 0 ? err / ref : err), ratio: bad(allowed > 0 ? err / allowed : err > 0 ? Infinity : 0), significant });
  }
  return diffs;
}

const results = new Map<string, { diffs: Diff[]; keys: number; cpu: Values; gpu: Values }>();

beforeAll(async () => {
  for (const [i, m] of MODELS.entries()) {
    const gpu = await runModel('webgpu', m, 10 + i);
    const cpu = await runModel('cpu', m, 10 + i);
    results.set(m.name, { diffs: compare(gpu, cpu), keys: cpu.size, cpu, gpu });
  }
  const worst = [...results].map(([n, r]) => {
    const max = (f: (d: Diff) => boolean) => Math.max(...r.diffs.filter(f).map((d) => d.rel)).toExponential(2);
    const top = [...r.diffs].sort((a, b) => b.ratio - a.ratio)[0]!;
    return `${n}: ${r.keys} tensors; max rel: loss ${max((d) => d.key.endsWith('/loss'))}, grads ${max((d) => d.key.includes('/d:') && !/k_proj\.bias/.test(d.key))}, ` +
      `update ${max((d) => d.key.startsWith('update/') && d.significant)}; worst ratio ${top.ratio.toFixed(3)} (${top.key})`;
  });
  console.log(`webgpu vs cpu (training step):\n  ${worst.join('\n  ')}`);
}, 240_000);

describe('webgpu training step matches cpu', () => {
  for (const m of MODELS) {
    it(`${m.name}: loss, every parameter gradient (all loss forms), optimizer update`, () => {
      const r = results.get(m.name)!;
      // Every trainable parameter has a gradient in every form, and an updated value.
      const gradKeys = r.diffs.filter((d) => d.key.includes('/d:'));
      expect(gradKeys.length).toBeGreaterThan(20);
      expect(r.diffs.some((d) => d.key === 'update/logit_scale')).toBe(true);
      const bad = r.diffs.filter((d) => !(d.ratio <= 1)).map((d) => `${d.key}: rel ${d.rel.toExponential(2)}, ratio ${d.ratio.toFixed(2)}`);
      expect(bad).toEqual([]);
    });
  }

  it('the clipping and the logit-scale clamp were exercised on both backends', () => {
    for (const m of MODELS) {
      const r = results.get(m.name)!;
      for (const v of [r.cpu, r.gpu]) {
        expect(v.get('update/grad_norm')![0]).toBeGreaterThan(0.05); // clipped to 0.05
        // logit_scale started at 4.7 > ln(100); the step moves it by at most lr, the clamp brings it to ln(100).
        expect(v.get('update/logit_scale')![0]).toBe(Math.fround(Math.log(100)));
      }
    }
  });
});

// The Node side of tools/gpu/run.sh (bundled into one file by prepare.sh; also runs from source with tsx):
//   info        the WebGPU adapter and its limits (fails with the diagnosis when there is none);
//   train-tiny  trains tiny-siglip (the fashion-mnist-siglip recipe's model) on Fashion-MNIST with the trainer's step
//               (computeGradients, clip-norm 1, AdamW, cosine schedule, logit-scale clamp) and reports loss and
//               zero-shot accuracy before/after;
//   time-step   times the trainer's step of a preset (default ViT-B-32 with the SigLIP loss, batch 256, 224²);
//   profile     per-kernel table of one such step (tools/gpu/profile-step.ts);
//   export-check  weights + batch + Duet's loss and gradient norms, for torch_reference.py --check;
//   report      joins the JSON results (and torch_reference.py's) into one JSON + markdown table.
// Every command writes JSON to --out. Data loading is in-process (no worker threads), so the bundle is one file.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromFloat32, writeSafetensors, type RawTensor } from '@duet/model-format';
import { parseArgs } from 'node:util';
import { createRng, initBackend, tf, type BackendName } from '@duet/runtime/node';
import { createDualEncoder, l2Normalize } from '@duet/encoders';
import { clampLogitScale } from '@duet/losses';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_TEMPLATES, fashionMnist, fashionMnistCaption } from '@duet/data';
import { ImageProcessor, TextTokenizer, defaultPreprocessorConfig, presetTokenizer, type RawImage } from '@duet/preprocess';
import {
  AdamW, clipByGlobalNorm, computeGradients, ensembleClassEmbeds, getRecipe, makeSchedule, presetModelConfig, resolveConfig,
  textUsesAttentionMask, zeroShotAccuracy, type TensorBatch,
} from '@duet/training';
import { createStepRunner, modelConfig, syntheticBatch, timeSteps, trainable } from './step.ts';
import { profileMarkdown, profileStep } from './profile-step.ts';

const log = (m: string) => console.error(m);

function writeJson(path: string, data: unknown): void {
  writeFileSync(path + '.tmp', JSON.stringify(data, null, 2));
  renameSync(path + '.tmp', path);
  log(`wrote ${path}`);
}

// ------------------------------------------------------------------------------------------------- train-tiny

interface FmnistSplit {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

async function loadSplit(dir: string, split: 'train' | 'test', limit: number): Promise<FmnistSplit> {
  // Through @duet/data's reader (finds the .gz or raw IDX files, validates them), then indexed in memory.
  const ds = fashionMnist({ split, dir, limit });
  const n = Math.min(limit, ds.knownSize?.() ?? limit);
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const [r] = await ds.readRecords!(i, [0], { epoch: 0 } as never);
    const img = (r!.image as { image: RawImage }).image;
    images.set(img.data as Uint8Array, i * 784);
    labels[i] = r!.label!;
  }
  return { images, labels, n };
}

function rawImage(s: FmnistSplit, i: number): RawImage {
  return { data: s.images.subarray(i * 784, (i + 1) * 784), width: 28, height: 28, channels: 1 };
}

async function trainTiny(a: { data: string; steps: number; batch: number; evalN: number; trainN: number; backend: BackendName; out: string; seed: number }): Promise<void> {
  const info = await initBackend({ backend: a.backend });
  log(`backend ${info.backend}: ${info.device}`);
  const config = resolveConfig(getRecipe('fashion-mnist-siglip'), { batchSize: a.batch, steps: a.steps, backend: a.backend, seed: a.seed, warmup: Math.min(100, Math.floor(a.steps / 3)) });
  const mc = presetModelConfig(config);
  const model = createDualEncoder(mc, { seed: config.seed });
  const tm = trainable(model);
  const family = model.lossFamily;
  const { tokenizerJson, tokenizerConfig } = presetTokenizer(family);
  const tokenizer = TextTokenizer.fromJSON(tokenizerJson as never, tokenizerConfig as never, { modelConfig: model.config });
  const processor = ImageProcessor.fromConfig(defaultPreprocessorConfig(family, model.config.vision_config.image_size) as never);
  const useMask = textUsesAttentionMask(model.config, tokenizerConfig as Record<string, unknown>);
  const train = await loadSplit(a.data, 'train', a.trainN);
  const test = await loadSplit(a.data, 'test', a.evalN);
  log(`Fashion-MNIST: ${train.n} train, ${test.n} test images; tiny-siglip ${[...tm.namedVariables().values()].reduce((s, v) => s + v.size, 0)} parameters`);

  const toBatch = (images: RawImage[], captions: string[]): TensorBatch => {
    const px = processor.process(images);
    const tok = tokenizer.encode(captions);
    return {
      pixelValues: tf.tensor4d(px.pixelValues, px.shape as [number, number, number, number]),
      inputIds: tf.tensor2d(tok.inputIds, tok.shape, 'int32'),
      ...(useMask ? { attentionMask: tf.tensor2d(tok.attentionMask, tok.shape, 'int32') } : {}),
    };
  };
  const disposeBatch = (b: TensorBatch) => tf.dispose([b.pixelValues, b.inputIds, ...(b.attentionMask ? [b.attentionMask] : [])]);

  const zeroShot = async (): Promise<{ top1: number; top5: number }> => {
    const texts = FASHION_MNIST_CLASSES.flatMap((c) => FASHION_MNIST_TEMPLATES.map((t) => t.replaceAll('{}', c)));
    const tok = tokenizer.encode(texts);
    const ids = tf.tensor2d(tok.inputIds, tok.shape, 'int32');
    const mask = useMask ? tf.tensor2d(tok.attentionMask, tok.shape, 'int32') : undefined;
    const txt = tf.tidy(() => l2Normalize(tm.encodeText(ids, mask, { training: false })));
    const dim = txt.shape[1]!;
    const classEmbeds = ensembleClassEmbeds((await txt.data()) as Float32Array, FASHION_MNIST_CLASSES.length, FASHION_MNIST_TEMPLATES.length, dim);
    tf.dispose([ids, txt, ...(mask ? [mask] : [])]);
    const parts: Float32Array[] = [];
    for (let i = 0; i < test.n; i += 250) {
      const imgs = Array.from({ length: Math.min(250, test.n - i) }, (_, k) => rawImage(test, i + k));
      const px = processor.process(imgs);
      const pv = tf.tensor4d(px.pixelValues, px.shape as [number, number, number, number]);
      const e = tf.tidy(() => l2Normalize(tm.encodeImage(pv, { training: false })));
      parts.push((await e.data()) as Float32Array);
      tf.dispose([pv, e]);
    }
    const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) { all.set(p, o); o += p.length; }
    const r = zeroShotAccuracy(all, classEmbeds, dim, test.labels.subarray(0, test.n));
    return { top1: r.top1, top5: r.top5 };
  };

  const before = await zeroShot();
  log(`zero-shot before training: top1 ${(100 * before.top1).toFixed(1)}%`);
  const params = new Map([...tm.namedVariables()].filter(([, v]) => v.trainable));
  const opt = new AdamW(params, { lr: config.lr, beta1: config.beta1, beta2: config.beta2, eps: config.eps, weightDecay: config.weightDecay });
  const schedule = makeSchedule({ name: config.schedule, baseLr: config.lr, warmup: config.warmup, steps: a.steps });
  const rng = createRng(a.seed);
  let order = rng.permutation(train.n);
  let cursor = 0, epoch = 0;
  const losses: number[] = [];
  const stepMs: number[] = [];
  const t0 = performance.now();
  for (let step = 0; step < a.steps; step++) {
    if (cursor + a.batch > train.n) { order = rng.permutation(train.n); cursor = 0; epoch++; }
    const idx = order.slice(cursor, cursor + a.batch);
    cursor += a.batch;
    const b = toBatch(idx.map((i) => rawImage(train, i)), idx.map((i) => fashionMnistCaption(train.labels[i]!, i, epoch, a.seed)));
    const ts = performance.now();
    opt.lr = schedule(step);
    const { loss, grads } = computeGradients(tm, [b]);
    const { grads: clipped } = clipByGlobalNorm(grads, config.gradClipNorm);
    opt.applyGradients(clipped);
    tf.dispose([...clipped.values()]);
    clampLogitScale(tm.logitScale);
    stepMs.push(performance.now() - ts);
    disposeBatch(b);
    losses.push(loss);
    if (!Number.isFinite(loss)) throw new Error(`train-tiny: loss is ${loss} at step ${step + 1}`);
    if ((step + 1) % 25 === 0 || step === 0) log(`step ${step + 1}/${a.steps}: loss ${loss.toFixed(4)}, lr ${opt.lr.toExponential(2)}, ${stepMs[step]!.toFixed(0)} ms/step`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const after = await zeroShot();
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const k = Math.max(1, Math.floor(a.steps / 10));
  const result = {
    command: 'train-tiny', backend: info.backend, device: info.device, isGpu: info.isGpu, steps: a.steps, batch: a.batch, trainImages: train.n, evalImages: test.n,
    lossFirst10pct: mean(losses.slice(0, k)), lossLast10pct: mean(losses.slice(-k)), losses,
    zeroShotBefore: before, zeroShotAfter: after, seconds, medianStepMs: [...stepMs].sort((x, y) => x - y)[Math.floor(stepMs.length / 2)],
    samplesPerS: (a.steps * a.batch) / seconds, numTensors: tf.memory().numTensors,
  };
  log(`train-tiny: loss ${result.lossFirst10pct.toFixed(4)} -> ${result.lossLast10pct.toFixed(4)}; zero-shot top1 ${(100 * before.top1).toFixed(1)}% -> ${(100 * after.top1).toFixed(1)}%; ${result.samplesPerS.toFixed(0)} samples/s`);
  writeJson(a.out, result);
  opt.dispose();
  model.dispose();
  tf.dispose(tm.extra);
}

// ------------------------------------------------------------------------------------------------- time-step

async function timeStep(a: { preset: string; loss: 'clip' | 'siglip'; batch: number; accum: number; warmup: number; steps: number; backend: BackendName; out: string; image?: number }): Promise<void> {
  const info = await initBackend({ backend: a.backend });
  log(`backend ${info.backend}: ${info.device}`);
  const config = modelConfig(a.preset, a.loss, a.image ? { vision_config: { image_size: a.image } } : {});
  const runner = createStepRunner(config, a.batch, { accum: a.accum });
  log(`${a.preset} (${a.loss}): ${(runner.params / 1e6).toFixed(2)}M parameters, batch ${a.batch}${a.accum > 1 ? ` (${a.accum} micro-batches)` : ''}`);
  const t = timeSteps(runner, a.batch, a.warmup, a.steps, log);
  const mem = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesInGPUAllocated?: number };
  const result = {
    command: 'time-step', preset: a.preset, loss: a.loss, backend: info.backend, device: info.device, isGpu: info.isGpu, batch: a.batch, accum: a.accum,
    imageSize: (config['vision_config'] as Record<string, number>)['image_size'], params: runner.params, warmup: a.warmup, ...t,
    gpuBytesAllocated: mem.numBytesInGPUAllocated ?? null,
  };
  log(`time-step: median ${t.medianMs.toFixed(0)} ms/step, ${t.samplesPerS.toFixed(1)} samples/s`);
  writeJson(a.out, result);
  runner.dispose();
}

// ------------------------------------------------------------------------------------------------- export-check

/**
 * Writes a model's weights, a batch and Duet's loss + gradients (trainer step, no update) for torch_reference.py
 * --check, which loads the same weights into its PyTorch model and compares: the two implementations must compute
 * the same function, not only have the same shapes.
 */
async function exportCheck(a: { preset: string; loss: 'clip' | 'siglip'; batch: number; backend: BackendName; dir: string }): Promise<void> {
  const info = await initBackend({ backend: a.backend });
  const config = modelConfig(a.preset, a.loss);
  const model = createDualEncoder(config, { seed: 3 });
  const tm = trainable(model);
  const x = syntheticBatch(config, a.batch, 4);
  const pixelValues = tf.tensor4d(x.pixels, x.pixelShape);
  const inputIds = tf.tensor2d(x.ids, x.textShape, 'int32');
  const { loss, grads } = computeGradients(tm, [{ pixelValues, inputIds }]);
  const tensors = new Map<string, RawTensor>();
  for (const [name, v] of tm.namedVariables()) tensors.set(name, fromFloat32((await v.data()) as Float32Array, v.shape));
  tensors.set('batch.pixel_values', fromFloat32(x.pixels, x.pixelShape));
  tensors.set('batch.input_ids', { dtype: 'I32', shape: x.textShape, data: new Uint8Array(x.ids.buffer.slice(0)) });
  const gradNorms: Record<string, number> = {};
  // In float64 on the CPU: a float32 device reduction over millions of elements (tfjs-wasm's Sum accumulates
  // sequentially) is itself off by ~1e-3 relative, which would hide what the check is after.
  for (const [name, g] of grads) {
    let sq = 0;
    for (const x of (await g.data()) as Float32Array) sq += x * x;
    gradNorms[name] = Math.sqrt(sq);
  }
  mkdirSync(a.dir, { recursive: true });
  writeFileSync(join(a.dir, 'check.safetensors'), writeSafetensors(tensors));
  writeJson(join(a.dir, 'check.json'), { preset: a.preset, loss: a.loss, backend: info.backend, device: info.device, duetLoss: loss, gradNorms, config });
  tf.dispose([pixelValues, inputIds, ...grads.values(), ...tm.extra]);
  model.dispose();
}

// ------------------------------------------------------------------------------------------------- report

interface TimeResult { backend: string; device: string; batch: number; medianMs: number; samplesPerS: number; params: number; preset: string; loss: string; accum?: number }
interface TorchMode { mode: string; median_ms?: number; samples_per_s?: number; peak_mem_gib?: number | null; error?: string }
interface TorchResult { device_name: string; torch: string; batch: number; modes: TorchMode[] }

export function reportMarkdown(duet: TimeResult | undefined, torch: TorchResult | undefined, tiny: Record<string, unknown> | undefined, extra: string[] = []): string {
  const lines = ['## Duet on WebGPU vs PyTorch, one training step', ''];
  if (duet) lines.push(`${duet.preset} with the ${duet.loss} loss, batch ${duet.batch}, ${(duet.params / 1e6).toFixed(1)}M parameters.`, '');
  lines.push('| implementation | device | ms/step (median) | samples/s | × PyTorch fp32 |', '|---|---|---:|---:|---:|');
  const fp32 = torch?.modes.find((m) => m.mode === 'fp32')?.samples_per_s;
  const ratio = (sps?: number) => (sps && fp32 ? (sps / fp32).toFixed(3) : '—');
  if (duet) lines.push(`| Duet (tfjs ${duet.backend}, fp32) | ${duet.device} | ${duet.medianMs.toFixed(1)} | ${duet.samplesPerS.toFixed(1)} | ${ratio(duet.samplesPerS)} |`);
  for (const m of torch?.modes ?? []) {
    lines.push(m.error
      ? `| PyTorch ${torch!.torch} eager ${m.mode} | ${torch!.device_name} | ${m.error} | | |`
      : `| PyTorch ${torch!.torch} eager ${m.mode} | ${torch!.device_name} | ${m.median_ms!.toFixed(1)} | ${m.samples_per_s!.toFixed(1)} | ${ratio(m.samples_per_s)} |`);
  }
  if (tiny) {
    const zb = tiny['zeroShotBefore'] as { top1: number }, za = tiny['zeroShotAfter'] as { top1: number };
    lines.push('', `tiny-siglip on Fashion-MNIST (${String(tiny['backend'])}, ${String(tiny['device'])}): ${String(tiny['steps'])} steps of ${String(tiny['batch'])}, ` +
      `loss ${(tiny['lossFirst10pct'] as number).toFixed(3)} → ${(tiny['lossLast10pct'] as number).toFixed(3)} (mean of the first/last 10% of steps), ` +
      `zero-shot top-1 ${(100 * zb.top1).toFixed(1)}% → ${(100 * za.top1).toFixed(1)}% on ${String(tiny['evalImages'])} test images, ${(tiny['samplesPerS'] as number).toFixed(0)} samples/s.`);
  }
  return [...lines, ...extra].join('\n') + '\n';
}

function readJson<T>(path: string | undefined): T | undefined {
  if (!path) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    log(`report: cannot read ${path}: ${(e as Error).message}`);
    return undefined;
  }
}

// ------------------------------------------------------------------------------------------------- CLI

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const { values: v } = parseArgs({
    args: rest,
    options: {
      backend: { type: 'string', default: 'webgpu' },
      out: { type: 'string' },
      data: { type: 'string' },
      steps: { type: 'string' },
      batch: { type: 'string' },
      accum: { type: 'string', default: '1' },
      warmup: { type: 'string', default: '2' },
      eval: { type: 'string', default: '1000' },
      train: { type: 'string', default: '60000' },
      seed: { type: 'string', default: '0' },
      preset: { type: 'string', default: 'ViT-B-32' },
      loss: { type: 'string', default: 'siglip' },
      image: { type: 'string' },
      duet: { type: 'string' },
      torch: { type: 'string' },
      tiny: { type: 'string' },
      profile: { type: 'string' },
      md: { type: 'string' },
    },
  });
  const num = (x: string | undefined, d: number) => (x === undefined ? d : Number(x));
  const backend = v.backend as BackendName;
  if (command === 'train-tiny') {
    if (!v.data || !v.out) throw new Error('train-tiny: --data DIR and --out FILE are required');
    await trainTiny({ data: v.data, steps: num(v.steps, 300), batch: num(v.batch, 64), evalN: num(v.eval, 1000), trainN: num(v.train, 60000), backend, out: v.out, seed: num(v.seed, 0) });
  } else if (command === 'time-step') {
    if (!v.out) throw new Error('time-step: --out FILE is required');
    await timeStep({ preset: v.preset!, loss: v.loss as 'clip' | 'siglip', batch: num(v.batch, 256), accum: num(v.accum, 1), warmup: num(v.warmup, 2), steps: num(v.steps, 5), backend, out: v.out, ...(v.image ? { image: Number(v.image) } : {}) });
  } else if (command === 'profile') {
    if (!v.out) throw new Error('profile: --out FILE (.json; a .md is written beside it) is required');
    const r = await profileStep({ backend, preset: v.preset!, loss: v.loss as 'clip' | 'siglip', batch: num(v.batch, 2), warmup: num(v.warmup, 1) });
    writeJson(v.out, r);
    writeFileSync(v.out.replace(/\.json$/, '') + '.md', profileMarkdown(r));
  } else if (command === 'info') {
    // The adapter, its limits and every backend's availability: the first thing to read when a GPU run fails.
    const info = await initBackend({ backend });
    console.log(JSON.stringify({ backend: info.backend, device: info.device, isGpu: info.isGpu, limits: info.limits }, null, 2));
    if (v.out) writeJson(v.out, info);
  } else if (command === 'export-check') {
    if (!v.out) throw new Error('export-check: --out DIR is required');
    await exportCheck({ preset: v.preset!, loss: v.loss as 'clip' | 'siglip', batch: num(v.batch, 4), backend, dir: v.out });
  } else if (command === 'report') {
    if (!v.out || !v.md) throw new Error('report: --out FILE.json and --md FILE.md are required');
    const duet = readJson<TimeResult>(v.duet);
    const torch = readJson<TorchResult>(v.torch);
    const tiny = readJson<Record<string, unknown>>(v.tiny);
    const prof = readJson<Parameters<typeof profileMarkdown>[0]>(v.profile);
    const md = reportMarkdown(duet, torch, tiny, prof ? ['', profileMarkdown(prof)] : []);
    writeJson(v.out, { duet, torch, tiny, profile: prof ? { ...prof, rows: prof.rows.slice(0, 40) } : undefined });
    writeFileSync(v.md, md);
    console.log(md);
  } else {
    throw new Error(`usage: gpu-bench <info|train-tiny|time-step|profile|export-check|report> [options]; got ${JSON.stringify(command)}`);
  }
  tf.disposeVariables();
}

if (/gpu-bench\.(ts|mjs|js)$/.test(process.argv[1] ?? '')) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.stack ?? e.message : String(e));
    process.exit(1);
  });
}

// The generic training loop over any dual encoder and batch source: accumulated contrastive gradients, AdamW +
// clip-norm + logit-scale clamp, JSONL metrics, periodic eval and checkpoints, abort (Ctrl-C) -> checkpoint and
// clean return, non-finite loss -> stop without touching the last good checkpoint. `train()` wires it to the
// real packages; tests drive it with a minuscule model.
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { tf } from '@duet/runtime';
import { clampLogitScale } from '@duet/losses';
import type { RawTensor } from '@duet/model-format';
import { AdamW } from './optim/adamw.js';
import { clipCoefficient, globalNorm } from './optim/clip-grad.js';
import { disposeGradients } from './optim/storage.js';
import { makeSchedule } from './optim/schedule.js';
import { computeGradients, trainableByName } from './step.js';
import { CheckpointManager, type LoadedCheckpoint } from './io/checkpoints.js';
import { MetricsLog } from './io/metrics-log.js';
import { curvesSvg, svgToPng } from './io/plot.js';
import { writeFileAtomic } from './io/atomic.js';
import type { TrainConfig } from './config.js';
import type { TensorBatch, TrainableDualEncoder } from './model.js';
import type { EvalSummary } from './eval/summary.js';
import type { DataParallel } from './distributed/data-parallel.js';
import { PROFILE_PHASES, stepProfiler as prof, type ProfileFile } from './profile.js';

/** A batch as the data loader yields it (HF layout: pixelValues NCHW, int32 ids/mask). */
export interface LoaderBatch {
  pixelValues: Float32Array;
  pixelShape: [number, number, number, number];
  inputIds: Int32Array;
  attentionMask: Int32Array;
  textShape: [number, number];
  labels?: ArrayLike<number>;
}

export interface BatchSource extends AsyncIterable<LoaderBatch> {
  /** Where the next batch comes from (JSON); passing it back as resumeFrom continues exactly there. */
  position(): unknown;
  /** Release workers/files (called when the loop is done with this source). */
  close?(): Promise<void>;
}

export interface LoopSession {
  model: TrainableDualEncoder & { toTensors(): Map<string, RawTensor> };
  /** Name for plots/logs. */
  label: string;
  /** Samples per epoch the loader will yield (before drop_last). */
  datasetSize: number;
  /** One epoch of batches; a fresh shuffle per epoch, or continuing at `resumeFrom`. */
  makeLoader(epoch: number, resumeFrom?: unknown): BatchSource;
  /** Writes a model folder at `dir` (which may not exist yet); atomic. */
  saveModel(dir: string, info: { step: number; extraFiles?: Record<string, Uint8Array | string>; eval?: EvalSummary }): Promise<void>;
  /** `periodic`: a cheaper mid-run evaluation (capped sample count); the final one uses the full eval set. */
  evaluate?(opts?: { periodic?: boolean }): Promise<EvalSummary>;
  /** Whether the text tower sees the tokenizer's attention mask (default true); SigLIP runs without, as in HF. */
  textUsesAttentionMask?: boolean;
  /** Random state beyond the loader's position (augmentation etc.), saved with checkpoints. */
  rngState?(): unknown;
  /** Data-parallel training: this rank's DDP step and collectives (absent = a single process). Rank 0 writes. */
  parallel?: DataParallel;
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  samplesSeen: number;
  loss: number;
  lr: number;
}

export interface TrainHooks {
  onProgress?: (p: TrainProgress) => void;
  onLog?: (msg: string) => void;
  /** Abort (e.g. on SIGINT): the loop finishes the current step, checkpoints and returns. */
  signal?: AbortSignal;
  /** Called after every optimizer step (tests use it to pace a run that gets killed). */
  afterStep?: (step: number) => void | Promise<void>;
}

export interface TrainResult {
  outDir: string;
  modelDir: string;
  steps: number;
  samplesSeen: number;
  seconds: number;
  samplesPerSecond: number;
  lastLoss: number;
  losses: { step: number; loss: number }[];
  eval?: EvalSummary;
  stopped: 'completed' | 'interrupted' | 'stop-after';
}

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}

export async function runTraining(config: TrainConfig, session: LoopSession, hooks: TrainHooks = {}, resumed?: LoadedCheckpoint): Promise<TrainResult> {
  const log = hooks.onLog ?? ((m: string) => process.stderr.write(m + '\n'));
  const outDir = resolve(config.out);
  const { model, parallel: par } = session;
  const writer = !par || par.rank === 0; // metrics, checkpoints, evaluation and the model folder
  const world = par?.worldSize ?? 1;
  const params = trainableByName(model);
  const opt = new AdamW(params, { lr: config.lr, beta1: config.beta1, beta2: config.beta2, eps: config.eps, weightDecay: config.weightDecay });
  const usable = config.trainLimit > 0 ? Math.min(config.trainLimit, session.datasetSize) : session.datasetSize;
  const perEpoch = Math.floor(usable / config.batchSize);
  if (perEpoch < 1) throw new Error(`data ${config.data}: ${usable} samples is fewer than one batch of ${config.batchSize}`);
  if (!Number.isFinite(usable) && config.steps === undefined) throw new Error(`data ${config.data}: its size is unknown without a full scan; give --steps instead of --epochs`);
  const totalSteps = config.steps ?? Math.max(1, Math.round((config.epochs ?? 1) * perEpoch));
  const schedule = makeSchedule({
    name: config.schedule, baseLr: config.lr, warmup: Math.min(config.warmup, totalSteps - 1), steps: totalSteps, cooldownSteps: config.cooldownSteps,
  });

  let step = 0, epoch = 0, samplesSeen = 0, lastLoss = NaN;
  let dataPosition: unknown = undefined;
  const metrics = new MetricsLog(join(outDir, 'metrics.jsonl'));
  if (resumed) {
    opt.loadState(resumed.optimizerTensors, resumed.state.optimizerStep);
    ({ step, epoch, samplesSeen } = resumed.state);
    lastLoss = resumed.state.lastLoss ?? NaN;
    dataPosition = par ? par.localPosition(resumed.state.dataPosition) : resumed.state.dataPosition;
    if (writer) metrics.truncateAfter(step);
    if (writer) log(`resumed from ${resumed.dir} at step ${step} (epoch ${epoch})`);
  } else if (writer) {
    metrics.truncateAfter(0);
  }
  const savedConfig = { ...config, out: outDir, resume: undefined, stopAfter: undefined } as unknown as Record<string, unknown>;
  const ckpts = new CheckpointManager(join(outDir, 'checkpoints'), config.keepCheckpoints);
  let savedStep = resumed?.state.step ?? -1;
  const checkpoint = async () => {
    if (step === 0 || step === savedStep) return;
    // Distributed: every rank's loader position goes into rank 0's checkpoint; the barrier makes it complete
    // before any rank runs on (a rank dying later then loses nothing before this step).
    const position = par ? await par.gatherPositions(dataPosition) : dataPosition;
    const dir = !writer ? undefined : await ckpts.save({
      state: {
        step, epoch, samplesSeen, optimizerStep: opt.step, dataPosition: position, rngState: session.rngState?.() ?? null, config: savedConfig, lastLoss,
      },
      optimizerTensors: opt.stateTensors().tensors,
      modelTensors: model.toTensors(),
      writeModel: (d) => session.saveModel(d, { step }),
    });
    await par?.barrier();
    savedStep = step;
    return dir;
  };

  const t0 = Date.now();
  const startSamples = samplesSeen;
  const startStep = step;
  let stopped: TrainResult['stopped'] = 'completed';
  let lastEval: EvalSummary | undefined;
  const losses: { step: number; loss: number }[] = [];
  prof.start();
  outer: while (step < totalSteps) {
    const loader = par ? par.syncLoader(session.makeLoader(epoch, dataPosition)) : session.makeLoader(epoch, dataPosition);
    try {
    for await (const batch of loader) {
      prof.lap('data');
      const tStep = Date.now();
      const lr = schedule(step);
      opt.lr = lr;
      const micro = toMicroBatches(batch, config.accum, session.textUsesAttentionMask ?? true);
      prof.lap('upload');
      let result;
      try {
        result = par ? await par.computeGradients(model, micro) : computeGradients(model, micro);
        if (!par) prof.lap('forward');
      } finally {
        micro.forEach((m) => tf.dispose([m.pixelValues, m.inputIds, ...(m.attentionMask ? [m.attentionMask] : [])]));
      }
      const { loss, grads } = result;
      if (!Number.isFinite(loss)) {
        disposeGradients(grads.values());
        opt.dispose();
        const last = ckpts.latest();
        throw new NonFiniteLossError(`loss is ${loss} at step ${step + 1}; stopping. ` +
          (last ? `The last good checkpoint is ${last.dir} (step ${last.step}); resume from it with a lower --lr.` : 'No checkpoint was written; lower --lr or raise --warmup.'));
      }
      // Clipping's coefficient is applied inside AdamW's pass (torch: clip_grad_norm_ rescales, then the step).
      const norm = globalNorm(grads);
      prof.lap('clip');
      opt.applyGradients(grads, { scale: clipCoefficient(norm, config.gradClipNorm) });
      disposeGradients(grads.values());
      prof.lap('optimizer');
      if (params.has('logit_scale')) clampLogitScale(model.logitScale);
      prof.lap('clamp');
      step += 1;
      const globalBatch = batch.pixelShape[0] * world;
      samplesSeen += globalBatch;
      lastLoss = loss;
      losses.push({ step, loss });
      dataPosition = loader.position();
      if (writer && (step % config.logEvery === 0 || step === totalSteps)) {
        const mem = tf.memory();
        metrics.append({
          step, epoch, loss, lr, grad_norm: norm, logit_scale: Math.exp(model.logitScale.dataSync()[0]!),
          ...(model.logitBias ? { logit_bias: model.logitBias.dataSync()[0]! } : {}),
          samples_per_s: globalBatch / Math.max(1e-3, (Date.now() - tStep) / 1000), samples_seen: samplesSeen,
          ...(par ? {
            world_size: world, loss_comm_bytes: par.lastStep.lossBytes, grad_comm_bytes: par.lastStep.reduceBytes,
            loss_comm_ms: par.lastStep.lossMs, grad_comm_ms: par.lastStep.reduceMs,
          } : {}),
          num_tensors: mem.numTensors, num_bytes: mem.numBytes, time: (Date.now() - t0) / 1000,
        });
      }
      prof.lap('metrics');
      hooks.onProgress?.({ step, totalSteps, epoch, samplesSeen, loss, lr });
      if (writer && config.evalEvery > 0 && step % config.evalEvery === 0 && step < totalSteps && session.evaluate) {
        lastEval = await session.evaluate({ periodic: true });
        metrics.append({ step, ...flattenEval(lastEval) });
        writeFileAtomic(join(outDir, 'evals', `step-${String(step).padStart(8, '0')}.json`), JSON.stringify({ step, ...lastEval }, null, 2));
      }
      if (config.saveEvery > 0 && step % config.saveEvery === 0) await checkpoint();
      await hooks.afterStep?.(step);
      // Let the event loop run (signal handlers such as Ctrl-C, worker messages): prefetched batches resolve as
      // microtasks, which alone would never reach the poll phase where signals are delivered.
      prof.lap('hooks');
      await new Promise<void>((r) => setImmediate(r));
      prof.lap('yield');
      prof.endStep();
      if (step >= totalSteps) break outer;
      if (config.stopAfter !== undefined && step - startStep >= config.stopAfter) { stopped = 'stop-after'; break outer; }
      if (hooks.signal?.aborted) { stopped = 'interrupted'; break outer; }
    }
    } finally {
      await loader.close?.();
    }
    if (par?.stopRequested) { stopped = 'interrupted'; break outer; } // a rank's Ctrl-C, agreed on by all
    if (!Number.isFinite(session.datasetSize) && step === 0) throw new Error(`data ${config.data}: the first epoch yielded no full batch of ${config.batchSize}`);
    epoch += 1;
    dataPosition = undefined;
  }
  const seconds = (Date.now() - t0) / 1000;
  if (prof.enabled) await writeProfile(outDir, par, writer);
  await checkpoint();
  const modelDir = join(outDir, 'model');
  if (stopped === 'completed' && writer) {
    if (session.evaluate) {
      lastEval = await session.evaluate();
      metrics.append({ step, ...flattenEval(lastEval) });
      writeFileAtomic(join(outDir, 'eval.json'), JSON.stringify(lastEval, null, 2));
      writeFileAtomic(join(outDir, 'evals', `step-${String(step).padStart(8, '0')}.json`), JSON.stringify({ step, ...lastEval }, null, 2));
    }
    const svg = curvesSvg(metrics.read(), `${session.label} · ${model.lossFamily} · ${config.data}`);
    const png = await svgToPng(svg);
    writeFileAtomic(join(outDir, 'curves.svg'), svg);
    writeFileAtomic(join(outDir, 'curves.png'), png);
    const extraFiles: Record<string, Uint8Array | string> = {
      'training/metrics.jsonl': metrics.read().map((r) => JSON.stringify(r)).join('\n') + '\n',
      'training/curves.svg': svg,
      'training/curves.png': png,
      ...(lastEval ? { 'training/eval.json': JSON.stringify(lastEval, null, 2) } : {}),
    };
    await session.saveModel(modelDir, { step, extraFiles, ...(lastEval ? { eval: lastEval } : {}) });
  } else if (stopped === 'interrupted' && writer) {
    log(`interrupted at step ${step}: checkpoint saved under ${ckpts.root}; continue with --resume ${outDir}`);
  }
  opt.dispose();
  return {
    outDir, modelDir: existsSync(join(modelDir, 'config.json')) || stopped === 'completed' ? modelDir : '', steps: step, samplesSeen, seconds,
    samplesPerSecond: (samplesSeen - startSamples) / Math.max(1e-9, seconds), lastLoss, losses, ...(lastEval ? { eval: lastEval } : {}), stopped,
  };
}

/** `DUET_PROFILE=1`: every rank's per-step phase times, gathered to rank 0 and written to `<out>/profile.json`. */
async function writeProfile(outDir: string, par: DataParallel | undefined, writer: boolean): Promise<void> {
  const gather = async (mine: Float32Array) => (par ? await par.group.allGather(mine) : [mine]);
  const [wall, cpu, gc] = [await gather(prof.flat()), await gather(prof.flat(true)), await gather(Float32Array.from(prof.gcSteps))];
  prof.stop();
  if (!writer) return;
  const p = PROFILE_PHASES.length;
  const rows = (all: Float32Array[]) => all.map((f) => Array.from({ length: f.length / p }, (_, i) => Array.from(f.subarray(i * p, (i + 1) * p), (x) => +x.toFixed(3))));
  const file: ProfileFile = { phases: PROFILE_PHASES, ranks: rows(wall), cpu: rows(cpu), gc: gc.map((g) => Array.from(g, (x) => +x.toFixed(3))) };
  writeFileAtomic(join(outDir, 'profile.json'), JSON.stringify(file));
}

/** Split a loader batch into `accum` equal micro-batches of tensors. */
export function toMicroBatches(batch: LoaderBatch, accum: number, withMask = true): TensorBatch[] {
  const [b, c, h, w] = batch.pixelShape;
  const [tb, l] = batch.textShape;
  if (tb !== b) throw new Error(`batch: ${b} images but ${tb} texts`);
  if (b % accum !== 0) throw new Error(`batch of ${b} does not split into ${accum} equal micro-batches`);
  const m = b / accum;
  const px = c * h * w;
  return Array.from({ length: accum }, (_, j) => ({
    pixelValues: tf.tensor4d(batch.pixelValues.subarray(j * m * px, (j + 1) * m * px), [m, c, h, w]),
    inputIds: tf.tensor2d(batch.inputIds.subarray(j * m * l, (j + 1) * m * l), [m, l], 'int32'),
    ...(withMask ? { attentionMask: tf.tensor2d(batch.attentionMask.subarray(j * m * l, (j + 1) * m * l), [m, l], 'int32') } : {}),
  }));
}

export function flattenEval(e: EvalSummary): Record<string, number> {
  const out: Record<string, number> = {};
  if (e.zeroShot) { out['zeroshot_top1'] = e.zeroShot.top1; out['zeroshot_top5'] = e.zeroShot.top5; }
  if (e.retrieval) {
    out['i2t_r1'] = e.retrieval.imageToText.r1; out['i2t_r5'] = e.retrieval.imageToText.r5; out['i2t_r10'] = e.retrieval.imageToText.r10;
    out['t2i_r1'] = e.retrieval.textToImage.r1; out['t2i_r5'] = e.retrieval.textToImage.r5; out['t2i_r10'] = e.retrieval.textToImage.r10;
  }
  return out;
}

// `duet train`: config file / recipe, then CLI flags on top; validated before the backend starts.
import { readFileSync, existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import {
  train, resolveConfig, getRecipe, listRecipes, resolveCheckpoint, CheckpointManager, ProgressReporter, fmtDur, type TrainConfigInput,
} from '@duet/training';
import { int, num, BACKENDS } from './options.js';
import { trainVqaAction, withVqaOptions } from './train-vqa.js';

export function trainCommand(): Command {
  return withVqaOptions(new Command('train'))
    .description('Train a dual encoder (from a preset, or fine-tune a model folder) with a contrastive loss; --task vqa trains a VQA head on one.')
    .option('-c, --config <file>', 'JSON training config (flags override it)')
    .option('--recipe <name>', `named training recipe (${listRecipes().join(', ')})`)
    .option('--smoke', 'one-step smoke run on a tiny synthetic set (recipe "smoke")')
    .option('--preset <name>', 'encoder preset to train from scratch (tiny-siglip, tiny-clip, ViT-B-32, ...)')
    .option('--model <dir>', 'model folder to fine-tune from (e.g. a HF checkpoint)')
    .addOption(new Option('--loss <family>', 'loss family (default: the model\'s own)').choices(['clip', 'siglip']))
    .option('--data <spec>', "training data: fashion-mnist, shapes, a .csv file or a WebDataset .tar pattern")
    .option('--eval-data <spec>', "eval set: fashion-mnist, shapes, .csv, WebDataset, or 'none'")
    .option('--eval-limit <n>', 'evaluate on at most n samples (0 = all)', int('--eval-limit', 0))
    .option('--batch-size <n>', 'global batch size (negatives span all of it)', int('--batch-size'))
    .option('--accum <n>', 'gradient accumulation steps (micro-batch = batch-size / accum)', int('--accum'))
    .option('--lr <x>', 'peak learning rate', num('--lr', Number.MIN_VALUE))
    .option('--wd <x>', 'AdamW weight decay (not on gains, biases, embeddings, logit scale/bias)', num('--wd'))
    .option('--warmup <n>', 'linear warmup steps', int('--warmup', 0))
    .addOption(new Option('--schedule <name>', 'learning-rate schedule').choices(['cosine', 'const', 'const-cooldown']))
    .option('--cooldown-steps <n>', 'final steps of decay for const-cooldown', int('--cooldown-steps', 0))
    .option('--epochs <x>', 'epochs over the training data', num('--epochs', Number.MIN_VALUE))
    .option('--steps <n>', 'optimizer steps (instead of --epochs)', int('--steps'))
    .option('--grad-clip <x>', 'clip gradients to this global norm (0 = off)', num('--grad-clip'))
    .option('--lock-image', 'LiT: lock the image tower')
    .option('--augment', 'random resized crop augmentation')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices([...BACKENDS]))
    .option('--seed <n>', 'random seed (init, shuffling)', int('--seed', 0))
    .option('--out <dir>', 'run directory (metrics, plot, checkpoints/, model/)')
    .option('--resume <dir>', 'continue a run from its latest checkpoint (run dir or checkpoint dir)')
    .option('--eval-every <n>', 'evaluate every n steps (0 = at the end)', int('--eval-every', 0))
    .option('--save-every <n>', 'checkpoint every n steps (0 = at the end and on Ctrl-C)', int('--save-every', 0))
    .option('--keep <n>', 'keep the last n checkpoints', int('--keep'))
    .option('--train-limit <n>', 'use only the first n training samples per epoch', int('--train-limit', 0))
    .option('--stop-after <n>', 'stop (with a checkpoint) after n steps of this invocation', int('--stop-after'))
    .option('--workers <n>', 'data-parallel worker threads, each with its own TF.js instance (batch-size stays the global batch)', int('--workers'))
    .option('--json', 'print the result summary as JSON on stdout')
    .addHelpText('after', `
Examples:
  $ duet train                                         # tiny-siglip, Fashion-MNIST, wasm (the main job)
  $ duet train --preset tiny-clip --batch-size 128 --accum 4 --lr 2e-3 --epochs 2
  $ duet train --model ./hf-siglip --lock-image --data pairs.csv --steps 500   # LiT fine-tune
  $ duet train --config run.json --lr 1e-3             # flags override the file
  $ duet train --smoke --out /tmp/smoke                # one step on synthetic shapes
  $ duet train --resume runs/tiny-siglip               # Ctrl-C saved a checkpoint; continue exactly
  $ duet train --workers 2                             # data parallel (DDP) over 2 worker threads, one per core
  $ mpirun -n 4 duet train --preset tiny-clip          # one rank per process over MPI (also srun, torchrun-style env)`)
    .action(async (o: Record<string, unknown>) => {
      if (o['task'] === 'vqa') return trainVqaAction(o);
      const config = buildTrainConfig(o);
      const progress = new ProgressReporter({ label: 'train' });
      const ac = new AbortController();
      let firstSigint = 0;
      const onSigint = () => {
        // bin/duet.js may deliver a terminal's Ctrl-C twice; only a second press after a pause forces the exit.
        if (firstSigint && Date.now() - firstSigint > 1500) {
          progress.log('second interrupt: exiting without a checkpoint');
          process.exit(130);
        }
        if (!firstSigint) progress.log('interrupt: finishing this step, saving a checkpoint (Ctrl-C again to force quit)');
        firstSigint ||= Date.now();
        ac.abort();
      };
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigint);
      progress.log(`duet train: ${config.model ?? config.preset} · data ${config.data} · batch ${config.batchSize}${config.accum > 1 ? ` (${config.accum}×${config.batchSize / config.accum})` : ''} · lr ${config.lr} · backend ${config.backend}${config.workers > 1 ? ` × ${config.workers} workers` : ''} · out ${config.out}`);
      const result = await train(config, {
        signal: ac.signal,
        onLog: (m) => progress.log(m),
        onProgress: (p) => progress.update({ step: p.step, total: p.totalSteps, samples: p.samplesSeen, fields: { loss: p.loss, lr: p.lr } }),
      });
      progress.end();
      process.off('SIGINT', onSigint);
      const zs = result.eval?.zeroShot;
      const lines = [
        `${result.stopped} after ${result.steps} steps, ${result.samplesSeen} samples in ${fmtDur(result.seconds)} (${result.samplesPerSecond.toFixed(1)} samples/s), last loss ${result.lastLoss.toFixed(4)}`,
        ...(zs ? [`zero-shot top-1 ${(zs.top1 * 100).toFixed(2)}%  top-5 ${(zs.top5 * 100).toFixed(2)}% on ${result.eval!.samples} ${result.eval!.dataset} test images`] : []),
        ...(result.eval?.retrieval ? [`retrieval R@1 image→text ${(result.eval.retrieval.imageToText.r1 * 100).toFixed(1)}%  text→image ${(result.eval.retrieval.textToImage.r1 * 100).toFixed(1)}% (${result.eval.retrieval.samples} pairs)`] : []),
        result.modelDir ? `model folder: ${result.modelDir}  (metrics: ${result.outDir}/metrics.jsonl, plot: ${result.outDir}/curves.png)` : `checkpoints: ${result.outDir}/checkpoints`,
      ];
      for (const l of lines) process.stderr.write(l + '\n');
      if (o['json']) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      if (result.stopped === 'interrupted') process.exitCode = 130;
    });
}

const FLAG_TO_FIELD: Record<string, string> = {
  preset: 'preset', model: 'model', loss: 'loss', data: 'data', evalData: 'evalData', evalLimit: 'evalLimit', batchSize: 'batchSize',
  accum: 'accum', lr: 'lr', wd: 'weightDecay', warmup: 'warmup', schedule: 'schedule', cooldownSteps: 'cooldownSteps', epochs: 'epochs',
  steps: 'steps', gradClip: 'gradClipNorm', lockImage: 'lockImage', augment: 'augment', backend: 'backend', seed: 'seed', out: 'out',
  resume: 'resume', evalEvery: 'evalEvery', saveEvery: 'saveEvery', keep: 'keepCheckpoints', trainLimit: 'trainLimit', stopAfter: 'stopAfter',
  workers: 'workers',
};

/** Layers: recipe (or smoke) < config file < checkpoint's config (on --resume) < flags. */
export function buildTrainConfig(o: Record<string, unknown>) {
  const flags: Partial<TrainConfigInput> = {};
  for (const [k, field] of Object.entries(FLAG_TO_FIELD)) if (o[k] !== undefined) (flags as Record<string, unknown>)[field] = o[k];
  const recipe = o['smoke'] ? getRecipe('smoke') : o['recipe'] ? getRecipe(String(o['recipe'])) : undefined;
  let file: Partial<TrainConfigInput> | undefined;
  if (o['config']) {
    const p = String(o['config']);
    if (!existsSync(p)) throw new Error(`--config ${p}: no such file`);
    try {
      file = JSON.parse(readFileSync(p, 'utf8')) as Partial<TrainConfigInput>;
    } catch (e) {
      throw new Error(`--config ${p}: not valid JSON (${(e as Error).message})`);
    }
  }
  let fromCheckpoint: Partial<TrainConfigInput> | undefined;
  if (o['resume']) {
    const dir = resolveCheckpoint(String(o['resume']));
    const saved = CheckpointManager.load(dir).state.config as Partial<TrainConfigInput>;
    fromCheckpoint = { ...saved, resume: undefined, stopAfter: undefined };
  }
  const defaults: Partial<TrainConfigInput> = recipe || file || fromCheckpoint ? {} : getRecipe('fashion-mnist-siglip');
  if (!recipe && !file && !fromCheckpoint && flags.preset === 'tiny-clip') Object.assign(defaults, getRecipe('fashion-mnist-clip'));
  const c = resolveConfig(defaults, recipe, file, fromCheckpoint, flags);
  if (!o['out'] && !fromCheckpoint && !file?.out && !recipe?.out) c.out = `runs/${(c.model ?? c.preset).replace(/[^\w.-]+/g, '_')}-${stamp()}`;
  return c;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

// `train(config)`: validate inputs, start the backend, build the model/data session from the real packages and
// run the loop. Everything that can be checked cheaply (config, preset, data path, --resume folder) fails first.
import { initBackend } from '@duet/runtime';
import { CheckpointManager, resolveCheckpoint } from './io/checkpoints.js';
import type { TrainConfig } from './config.js';
import { runTraining, type TrainHooks, type TrainResult } from './loop.js';
import { buildSession, openDataset, presetModelConfig } from './session.js';

export async function train(config: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const resumeDir = config.resume ? resolveCheckpoint(config.resume) : undefined;
  const resumed = resumeDir ? CheckpointManager.load(resumeDir) : undefined;
  if (resumed) checkResumeCompatible(config, resumed.state.config as Partial<TrainConfig>, resumeDir!);
  if (!config.model && !resumeDir) presetModelConfig(config); // unknown preset -> clear error now
  const trainData = await openDataset(config.data, 'train', { seed: config.seed, limit: config.trainLimit });
  if (config.evalData !== 'none') await openDataset(config.evalData, 'test', { seed: config.seed, limit: config.evalLimit });
  await initBackend({ backend: config.backend });
  const session = await buildSession(config, trainData, resumeDir, hooks.onLog);
  return runTraining(config, session, hooks, resumed);
}

/** A resume must continue the same run: same model, loss, data, batch geometry and schedule. */
export function checkResumeCompatible(now: TrainConfig, was: Partial<TrainConfig>, dir: string): void {
  const keys: (keyof TrainConfig)[] = [
    'preset', 'model', 'loss', 'data', 'batchSize', 'accum', 'seed', 'schedule', 'lr', 'warmup', 'epochs', 'steps', 'trainLimit',
    'lockImage', 'lockText', 'augment', 'modelOverrides',
  ];
  const diffs = keys.filter((k) => JSON.stringify(now[k] ?? null) !== JSON.stringify(was[k] ?? (k === 'modelOverrides' ? {} : null)));
  if (diffs.length) {
    const list = diffs.map((k) => `${k}: checkpoint ${JSON.stringify(was[k])} vs now ${JSON.stringify(now[k])}`);
    throw new Error(`--resume ${dir}: incompatible with this run (${list.join('; ')}). Resume with the checkpoint's settings (omit those flags) or start a new --out.`);
  }
}

// `train(config)`: validate inputs, start the backend, build the model/data session from the real packages and
// run the loop. Everything that can be checked cheaply (config, preset, data path, --resume folder) fails first.
import { initBackend, installLowAllocKernels } from '@duet/runtime';
import { createMpiGroup, discoverRank } from '@duet/distributed';
import { CheckpointManager, resolveCheckpoint, type LoadedCheckpoint } from './io/checkpoints.js';
import type { TrainConfig } from './config.js';
import { runTraining, type TrainHooks, type TrainResult } from './loop.js';
import { buildSession, openDataset, presetModelConfig, type OpenDataset } from './session.js';
import { checkResumeWorld, createDataParallel, type DataParallelOptions } from './distributed/data-parallel.js';
import { broadcastVariables } from './distributed/buckets.js';
import { trainThreads } from './distributed/threads.js';
import type { ProcessGroup } from '@duet/losses';

/**
 * `duet train`: one process; `config.workers` > 1 worker threads (data parallel); or, when started by
 * mpirun / srun / torchrun (rank variables in the environment), one rank of an MPI data-parallel job.
 */
export async function train(config: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const env = discoverRank();
  if (env.source !== 'single' && env.worldSize > 1) {
    if (config.workers > 1) throw new Error(`--workers ${config.workers}: started by ${env.source} as rank ${env.rank} of ${env.worldSize}; each launched process is one rank, so drop --workers (or run one process with --workers)`);
    const group = await createMpiGroup();
    return trainRank(config, group.rank === 0 ? hooks : { ...hooks, onLog: () => undefined, onProgress: undefined }, { group, shouldStop: () => hooks.signal?.aborted ?? false });
  }
  if (config.workers > 1) {
    await prepareTraining(config, config.workers); // fail before starting any thread
    return trainThreads(config, hooks);
  }
  return trainRank(config, hooks);
}

/** Checks that need no backend: config, preset, data, --resume folder. Returns the checkpoint to resume from. */
export async function prepareTraining(config: TrainConfig, worldSize = 1): Promise<{ trainData: OpenDataset; resumeDir?: string; resumed?: LoadedCheckpoint }> {
  const resumeDir = config.resume ? resolveCheckpoint(config.resume) : undefined;
  const resumed = resumeDir ? CheckpointManager.load(resumeDir) : undefined;
  if (resumed) checkResumeCompatible(config, resumed.state.config as Partial<TrainConfig>, resumeDir!);
  if (resumed) checkResumeWorld(resumed.state.dataPosition, worldSize, resumeDir!);
  if (config.batchSize % (worldSize * config.accum) !== 0) {
    throw new Error(`batch size ${config.batchSize} does not split into ${worldSize} rank${worldSize > 1 ? 's' : ''} × ${config.accum} accumulation steps (each rank's micro-batch is batchSize / (ranks·accum))`);
  }
  if (!config.model && !resumeDir) presetModelConfig(config); // unknown preset -> clear error now
  const trainData = await openDataset(config.data, 'train', { seed: config.seed, limit: config.trainLimit });
  if (config.evalData !== 'none') await openDataset(config.evalData, 'test', { seed: config.seed, limit: config.evalLimit });
  return { trainData, ...(resumeDir ? { resumeDir } : {}), ...(resumed ? { resumed } : {}) };
}

export interface RankOptions extends DataParallelOptions {
  group: ProcessGroup;
  /** Decode threads per rank's loader (threads mode: 0, the ranks fill the cores). */
  loaderWorkers?: number;
}

/** Training as one process, or as one rank of `dist.group` (DDP: rank 0's initial weights, sharded data, summed gradients). */
export async function trainRank(config: TrainConfig, hooks: TrainHooks = {}, dist?: RankOptions): Promise<TrainResult> {
  const worldSize = dist?.group.worldSize ?? 1;
  const { trainData, resumeDir, resumed } = await prepareTraining(config, worldSize);
  await initBackend({ backend: config.backend });
  installLowAllocKernels(); // no per-step JS ArrayBuffers from Mean/Sum gradients and wasm slices (fewer GCs per step)
  const shard = dist ? { rank: dist.group.rank, worldSize, ...(dist.loaderWorkers !== undefined ? { loaderWorkers: dist.loaderWorkers } : {}) } : undefined;
  // Only rank 0 evaluates (the others would wait for it at the next collective either way).
  const rankConfig = dist && dist.group.rank !== 0 ? { ...config, evalData: 'none' } : config;
  const session = await buildSession(rankConfig, trainData, resumeDir, hooks.onLog, shard);
  if (dist) {
    await broadcastVariables(dist.group, [...session.model.namedVariables().values()], 0, dist.bucketBytes);
    session.parallel = createDataParallel(dist.group, dist);
  }
  return runTraining(config, session, dist ? { ...hooks, signal: undefined } : hooks, resumed);
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

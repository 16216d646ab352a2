// Test worker (launchThreads): trains one rank exactly as `duet train --workers N` does and returns its losses and
// final weights, so tests can compare every rank with each other and with a single process.
import type { ThreadContext } from '@duet/distributed';
import { runTraining } from '../../loop.js';
import { prepareTraining } from '../../train.js';
import { buildSession } from '../../session.js';
import { initBackend } from '@duet/runtime';
import { broadcastVariables } from '../buckets.js';
import { createDataParallel } from '../data-parallel.js';
import type { TrainConfig } from '../../config.js';
import type { RankOutcome } from './equivalence.js';

export async function main({ group, args }: ThreadContext<{ config: TrainConfig; deferredBackward?: boolean }>): Promise<RankOutcome> {
  const { config } = args;
  const { trainData, resumeDir, resumed } = await prepareTraining(config, group.worldSize);
  await initBackend({ backend: config.backend });
  const session = await buildSession({ ...config, evalData: 'none' }, trainData, resumeDir, () => undefined, { rank: group.rank, worldSize: group.worldSize, loaderWorkers: 0 });
  await broadcastVariables(group, [...session.model.namedVariables().values()]);
  session.parallel = createDataParallel(group, { ...(args.deferredBackward === false ? { deferredBackward: false } : {}) });
  const r = await runTraining(config, session, { onLog: () => undefined }, resumed);
  const tensors: Record<string, Float32Array> = {};
  for (const [name, v] of session.model.namedVariables()) tensors[name] = v.dataSync() as Float32Array;
  return { losses: r.losses.map((l) => l.loss), tensors };
}

// Test worker (launchThreads): trains one rank exactly as `duet train --workers N` does and returns its losses and
// final weights, so tests can compare every rank with each other and with a single process. `rankOutcome` is the
// group-agnostic part: an mpi runner's per-process entry calls it with createMpiGroup()'s group.
import type { ThreadContext } from '@duet/distributed';
import type { ProcessGroup } from '@duet/losses';
import { initBackend } from '@duet/runtime';
import { runTraining } from '../../loop.js';
import { prepareTraining } from '../../train.js';
import { buildSession } from '../../session.js';
import { broadcastVariables } from '../buckets.js';
import { createDataParallel } from '../data-parallel.js';
import type { TrainConfig } from '../../config.js';
import type { RankOutcome } from './equivalence.js';

export interface RankArgs {
  config: TrainConfig;
  deferredBackward?: boolean;
}

/** One rank's DDP run (no group: the plain single-process loop); losses and every parameter afterwards. */
export async function rankOutcome(group: ProcessGroup | undefined, { config, deferredBackward }: RankArgs): Promise<RankOutcome> {
  const worldSize = group?.worldSize ?? 1;
  const { trainData, resumeDir, resumed } = await prepareTraining(config, worldSize);
  await initBackend({ backend: config.backend });
  const session = await buildSession({ ...config, evalData: 'none' }, trainData, resumeDir, () => undefined, { rank: group?.rank ?? 0, worldSize, loaderWorkers: 0 });
  if (group) {
    await broadcastVariables(group, [...session.model.namedVariables().values()]);
    session.parallel = createDataParallel(group, deferredBackward === false ? { deferredBackward: false } : {});
  }
  const r = await runTraining(config, session, { onLog: () => undefined }, resumed);
  const tensors: Record<string, Float32Array> = {};
  for (const [name, v] of session.model.namedVariables()) tensors[name] = v.dataSync() as Float32Array;
  session.model.dispose();
  return { losses: r.losses.map((l) => l.loss), tensors };
}

export function main({ group, args }: ThreadContext<RankArgs>): Promise<RankOutcome> {
  return rankOutcome(group, args);
}

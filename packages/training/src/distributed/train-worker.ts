// One rank of `duet train --workers N` (run by launchThreads in a worker thread): trains with DDP over the
// threads group. Rank 0 logs and reports progress; every rank stops when the main thread sets the stop flag.
// Test hook: DUET_TEST_EXIT_RANK_AFTER_STEP="<rank>:<step>" makes that rank call process.exit(3) after that
// step (after its checkpoint, if one is due), to test that the others fail naming it and that --resume recovers.
import type { ThreadContext } from '@duet/distributed';
import type { TrainResult } from '../loop.js';
import { trainRank } from '../train.js';
import { writeProgress, type ThreadsTrainArgs } from './threads.js';

export async function main({ group, rank, args }: ThreadContext<ThreadsTrainArgs>): Promise<TrainResult> {
  const stop = new Int32Array(args.control, 0, 1);
  const hook = /^(\d+):(\d+)$/.exec(process.env['DUET_TEST_EXIT_RANK_AFTER_STEP'] ?? '');
  const exitAt = hook && Number(hook[1]) === rank ? Number(hook[2]) : undefined;
  return trainRank(args.config, {
    onLog: rank === 0 ? (m) => process.stderr.write(m + '\n') : () => undefined,
    ...(rank === 0 ? { onProgress: (p) => writeProgress(args.control, p) } : {}),
    ...(exitAt !== undefined ? { afterStep: (s: number) => { if (s === exitAt) process.exit(3); } } : {}),
  }, { group, shouldStop: () => Atomics.load(stop, 0) === 1, loaderWorkers: 0 });
}

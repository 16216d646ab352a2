// Public surface of @duet/distributed (Node-only): ProcessGroup implementations for @duet/losses' distributed
// forms and data-parallel training.
export type { ProcessGroup, ReduceOp } from '@duet/losses';
export { createThreadWorld, type ThreadWorld, type ThreadWorldOptions } from './world.js';
export { createThreadGroup, CollectiveError } from './thread-group.js';
export type { ThreadContext, ThreadMain } from './thread-context.js';
export { launchThreads, ThreadsLaunchError, type LaunchThreadsOptions, type RankFailure } from './launch-threads.js';
export { discoverRank, type RankInfo, type RankSource } from './rank-env.js';
export { createMpiGroup, MpiGroup, MpiUnavailableError, type MpiGroupOptions, type MpiThreadLevel } from './mpi.js';

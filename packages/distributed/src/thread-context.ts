import type { ProcessGroup } from '@duet/losses';

/** What launchThreads hands each rank's main. */
export interface ThreadContext<A = unknown> {
  group: ProcessGroup;
  rank: number;
  worldSize: number;
  /** The launcher's `args` (structured-cloned into every worker). */
  args: A;
}

/** A worker module exports `main` (or a default function) of this type; its result is structured-cloned back. */
export type ThreadMain<A = unknown, R = unknown> = (ctx: ThreadContext<A>) => Promise<R> | R;

// Worker module for the fault tests: `badRank` throws, exits or hangs instead of joining the collectives.
import type { ThreadContext } from '../../src/index.js';

export interface FaultArgs {
  badRank: number;
  mode: 'throw' | 'exit' | 'hang' | 'return-early';
}

export async function main({ group, rank, args }: ThreadContext<FaultArgs>) {
  await group.barrier(); // everyone is up
  if (rank === args.badRank) {
    if (args.mode === 'throw') throw new Error('planted failure in rank ' + rank);
    if (args.mode === 'exit') process.exit(3);
    if (args.mode === 'hang') await new Promise((resolve) => setTimeout(resolve, 60_000));
    if (args.mode === 'return-early') return 'left';
  }
  await group.allGather(new Float32Array(8).fill(rank));
  await group.barrier();
  return 'ok';
}

// Worker module for the mpi fault tests: `badRank` exits, is killed, throws or hangs instead of joining.
import type { ThreadContext } from '../../src/index.js';

export interface MpiFaultArgs {
  badRank: number;
  mode: 'exit' | 'kill' | 'throw' | 'hang';
}

export async function main({ group, rank, args }: ThreadContext<MpiFaultArgs>) {
  await group.barrier(); // everyone is up
  if (rank === args.badRank) {
    if (args.mode === 'exit') process.exit(3);
    if (args.mode === 'kill') process.kill(process.pid, 'SIGKILL');
    if (args.mode === 'throw') throw new Error('planted failure in rank ' + rank);
    if (args.mode === 'hang') await new Promise((resolve) => setTimeout(resolve, 60_000));
  }
  try {
    await group.allGather(new Float32Array(8).fill(rank));
    await group.barrier();
  } catch (e) {
    // One line with the blamed rank, for the test to read (stderr to a pipe is synchronous on Linux).
    process.stderr.write(`FAULT rank=${rank} ${(e as Error).name} blamedRank=${(e as { blamedRank?: number }).blamedRank}: ${(e as Error).message}\n`);
    process.exit(1);
  }
  return 'ok';
}

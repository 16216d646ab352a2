// Worker module of mpi-collectives.bench.ts: runs distributed.worker.ts' cases one after another in one launch.
import type { ThreadContext } from '@duet/distributed';
import { main as one, type BenchArgs } from './distributed.worker.ts';

export async function main(ctx: ThreadContext<BenchArgs[]>): Promise<{ ms: number; bytes: number }[]> {
  const out = [];
  for (const args of ctx.args) out.push(await one({ ...ctx, args }));
  return out;
}

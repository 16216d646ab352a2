// Worker module for the mpi loss tests: several loss cases in one launch (one MPI start-up for all of them).
import type { ThreadContext } from '../../src/index.js';
import { main as lossMain, type LossArgs } from './losses.js';

export async function main(ctx: ThreadContext<LossArgs[]>) {
  const out = [];
  for (const args of ctx.args) out.push(await lossMain({ ...ctx, args }));
  return out;
}

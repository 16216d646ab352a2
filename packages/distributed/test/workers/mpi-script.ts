// Worker module for the mpi collectives tests: the shared closed-form script, then what only a multi-process
// group shows: the event loop keeps running while a collective waits, several collectives in flight at once,
// and a large all-reduce.
import { readdirSync } from 'node:fs';
import type { ThreadContext } from '../../src/index.js';
import { input, runScript } from '../script.js';

export async function main({ group, rank, worldSize: w }: ThreadContext) {
  // Bad arguments are rejected before reaching MPI and leave the group usable.
  const argErrors = await Promise.all([
    group.allReduce([1, 2] as unknown as Float32Array).then(() => 'accepted', (e: Error) => `${e.name}: ${e.message}`),
    group.sendRecv(new Float32Array(1), w, 0).then(() => 'accepted', (e: Error) => `${e.name}: ${e.message}`),
  ]);
  const script = await runScript(group);
  // Empty contributions: every other rank gathers nothing, sends nothing.
  const sparse = (await group.allGather(new Float32Array(rank % 2 ? 0 : 2).fill(rank))).map((a) => [...a]);
  const emptyRing = (await group.sendRecv(new Float32Array(0), (rank + 1) % w, (rank - 1 + w) % w)).length;
  // Rank 0 joins late; the others count event-loop turns while their all-reduce waits for it.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  if (rank === 0) await new Promise((resolve) => setTimeout(resolve, 400));
  const late = [...(await group.allReduce(Float32Array.from([rank + 1])))];
  clearInterval(timer);
  // Issued together: every rank starts them in the same (program) order.
  const [gathered, sum, bcast, ring, ...barrier] = await Promise.all([
    group.allGather(input(rank, 2 * rank + 1)),
    group.allReduce(input(rank, 11)),
    group.broadcast(rank === 0 ? input(0, 3) : new Float32Array(0), 0),
    group.sendRecv(input(rank, rank + 1), (rank + 1) % w, (rank - 1 + w) % w),
    group.barrier(),
  ]);
  const large = await group.allReduce(new Float32Array(1 << 20).fill(rank + 1));
  const largeOk = large.every((v) => v === (w * (w + 1)) / 2);
  return {
    script,
    late,
    ticksWhileWaiting: rank === 0 ? null : ticks,
    concurrent: { gathered: gathered.map((a) => [...a]), sum: [...sum], bcast: [...bcast], ring: [...ring], barrier: barrier.length },
    largeOk,
    argErrors,
    sparse,
    emptyRing,
    bytesSent: group.bytesSent,
    // The network interfaces this rank sees (which namespace it runs in, for the two-namespace test).
    netIfaces: readdirSync('/sys/class/net').sort(),
  };
}

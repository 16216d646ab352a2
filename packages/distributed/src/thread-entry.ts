// Worker-thread entry of launchThreads: builds this rank's group, runs the user module's main, reports back.
// The rank's status word is set here as soon as main settles, so peers blocked on this rank fail at once.
import { parentPort, workerData } from 'node:worker_threads';
import { createThreadGroup } from './thread-group.js';
import { DONE, FAILED, markRank, type ThreadWorld } from './world.js';
import type { ThreadContext, ThreadMain } from './thread-context.js';

const port = parentPort!;
const data = workerData as { moduleUrl: string; rank: number; world: ThreadWorld; args: unknown };

try {
  const mod = (await import(data.moduleUrl)) as { main?: ThreadMain; default?: ThreadMain };
  const main = mod.main ?? mod.default;
  if (typeof main !== 'function') throw new Error(`${data.moduleUrl} exports neither main nor a default function`);
  const ctx: ThreadContext = { group: createThreadGroup(data.world, data.rank), rank: data.rank, worldSize: data.world.worldSize, args: data.args };
  const value = await main(ctx);
  markRank(data.world, data.rank, DONE);
  port.postMessage({ kind: 'result', value });
} catch (e) {
  markRank(data.world, data.rank, FAILED);
  const err = e instanceof Error ? e : new Error(String(e));
  port.postMessage({ kind: 'error', message: err.message, stack: err.stack });
}

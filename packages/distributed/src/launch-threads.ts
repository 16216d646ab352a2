// Starts one worker thread per rank around a shared ThreadWorld, collects each rank's result, and fails fast:
// the first rank that throws, crashes or exits marks itself failed in shared memory (peers' collectives then
// throw an error naming it), the others get `graceMs` to unwind, and stragglers are terminated.
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { createThreadWorld, FAILED, markRank, type ThreadWorld, type ThreadWorldOptions } from './world.js';

export interface LaunchThreadsOptions extends ThreadWorldOptions {
  /** After the first failure, how long the other ranks get to exit on their own before being terminated (ms). Default 2000. */
  graceMs?: number;
  /** Per-worker V8 heap limits etc. */
  resourceLimits?: ResourceLimits;
}

export interface RankFailure {
  rank: number;
  message: string;
  stack?: string;
}

/** launchThreads' rejection: every rank that failed, the first one first. */
export class ThreadsLaunchError extends Error {
  constructor(readonly failures: RankFailure[]) {
    const [first, ...rest] = failures;
    super(`launchThreads: rank ${first!.rank} failed: ${first!.message}` + rest.map((f) => `\n  then rank ${f.rank}: ${f.message}`).join(''));
    this.name = 'ThreadsLaunchError';
  }
  get firstRank(): number {
    return this.failures[0]!.rank;
  }
}

const fromSource = import.meta.url.endsWith('.ts');

function spawn(world: ThreadWorld, rank: number, moduleUrl: string, args: unknown, opts: LaunchThreadsOptions): Worker {
  const workerData = { moduleUrl, rank, world, args };
  const common = { workerData, resourceLimits: opts.resourceLimits, env: process.env };
  if (!fromSource) return new Worker(new URL('./thread-entry.js', import.meta.url), common);
  // Source mode (tests, benchmarks): register tsx inside the worker and resolve workspace packages from source,
  // the same way @duet/data starts its decode workers.
  const req = createRequire(import.meta.url);
  const tsxApi = pathToFileURL(req.resolve('tsx/package.json').replace(/package\.json$/, 'dist/esm/api/index.mjs')).href;
  const entry = new URL('./thread-entry.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { ...common, eval: true, execArgv: ['--conditions=@duet/source'] });
}

/**
 * Runs `main` of `workerModuleUrl` on `worldSize` worker threads joined by a threads ProcessGroup and resolves
 * with every rank's return value (index = rank). Rejects with ThreadsLaunchError if any rank fails.
 */
export async function launchThreads<R = unknown>(workerModuleUrl: string | URL, worldSize: number, args?: unknown, opts: LaunchThreadsOptions = {}): Promise<R[]> {
  const moduleUrl = String(workerModuleUrl);
  if (!/^(file|data):/.test(moduleUrl)) throw new Error(`launchThreads: workerModuleUrl must be a file: URL (e.g. new URL('./worker.ts', import.meta.url)), got ${moduleUrl}`);
  const world = createThreadWorld(worldSize, opts);
  const graceMs = opts.graceMs ?? 2000;
  const results = new Array<R>(worldSize);
  const failures: RankFailure[] = [];
  const finished = new Array<boolean>(worldSize).fill(false);

  await new Promise<void>((resolve) => {
    let left = worldSize;
    let graceTimer: NodeJS.Timeout | undefined;
    const workers: Worker[] = [];
    const settle = (rank: number, failure?: RankFailure) => {
      if (finished[rank]) return;
      finished[rank] = true;
      if (failure) {
        markRank(world, rank, FAILED);
        failures.push(failure);
        // Peers see the failure through shared memory and unwind; terminate whoever has not after graceMs.
        graceTimer ??= setTimeout(() => {
          workers.forEach((w, r) => {
            if (finished[r]) return;
            settle(r, { rank: r, message: `terminated ${graceMs} ms after rank ${failures[0]!.rank} failed` });
            void w.terminate();
          });
        }, graceMs);
      }
      if (--left === 0) {
        if (graceTimer) clearTimeout(graceTimer);
        resolve();
      }
    };
    for (let r = 0; r < worldSize; r++) {
      const w = spawn(world, r, moduleUrl, args, opts);
      workers.push(w);
      w.on('message', (m: { kind: 'result'; value: R } | { kind: 'error'; message: string; stack?: string }) => {
        if (m.kind === 'result') {
          results[r] = m.value;
          settle(r);
        } else settle(r, { rank: r, message: m.message, stack: m.stack });
        void w.terminate(); // the rank is done; release its isolate (tfjs/wasm keep handles alive)
      });
      w.on('error', (e) => settle(r, { rank: r, message: `crashed: ${e.message}`, stack: e.stack }));
      w.on('exit', (code) => settle(r, { rank: r, message: `exited with code ${code} before returning a result` }));
    }
  });
  if (failures.length) {
    // Order by who failed first in shared memory (a peer's report can reach this thread before the culprit's).
    const first = Atomics.load(new Int32Array(world.control), 0) - 1;
    failures.sort((a, b) => Number(b.rank === first) - Number(a.rank === first));
    throw new ThreadsLaunchError(failures);
  }
  return results;
}

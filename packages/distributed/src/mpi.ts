// The `mpi` process group: one MPI world per process (launched by mpirun, srun, or an MPIJob), through the N-API
// binding. Optional: without MPI the package still works and createMpiGroup rejects with MpiUnavailableError.
import type { ProcessGroup } from '@duet/losses';
import { MpiGroup } from './mpi-group.js';
import { loadMpiNative, MpiUnavailableError, type MpiNative } from './mpi-native.js';

export { MpiUnavailableError } from './mpi-native.js';
export { MpiGroup } from './mpi-group.js';

export type MpiThreadLevel = 'single' | 'funneled' | 'serialized' | 'multiple';
const LEVELS: MpiThreadLevel[] = ['single', 'funneled', 'serialized', 'multiple'];

export interface MpiGroupOptions {
  /** An operation that does not complete within this long fails naming the rank(s) that have not joined. Default 120 000 ms. */
  timeoutMs?: number;
  /** Thread level requested from MPI_Init_thread. All MPI calls come from the binding's one thread: 'funneled' (default) suffices. */
  threadLevel?: MpiThreadLevel;
  /**
   * Install a SIGTERM handler that prints which operation this rank was in and which local peers are gone, then
   * exits with 143 unless the application has SIGTERM handlers too (mpirun stops the survivors with SIGTERM when a
   * rank dies). Default true.
   */
  handleSignals?: boolean;
}

let created: Promise<MpiGroup> | undefined;

/**
 * Initialises MPI (once per process; later calls return the same group) and returns this process's group of
 * MPI_COMM_WORLD. Run under a launcher (`mpirun -n N node app.js`); started alone it is a world of one.
 * MPI is finalised when the process exits normally with nothing in flight; on any other exit it is left
 * unfinalised, so the launcher aborts the job and the other ranks stop instead of waiting.
 */
export function createMpiGroup(opts: MpiGroupOptions = {}): Promise<ProcessGroup & MpiGroup> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  if (!(Number.isInteger(timeoutMs) && timeoutMs > 0 && timeoutMs < 2 ** 31)) return Promise.reject(new Error(`createMpiGroup: timeoutMs must be a positive integer (ms), got ${timeoutMs}`));
  const level = LEVELS.indexOf(opts.threadLevel ?? 'funneled');
  if (level < 0) return Promise.reject(new Error(`createMpiGroup: threadLevel must be one of ${LEVELS.join(', ')}, got ${String(opts.threadLevel)}`));
  created ??= (async () => {
    const native = await loadMpiNative();
    const info = await native.init(level, timeoutMs).catch((e: Error) => {
      throw new MpiUnavailableError(`mpi process group: MPI_Init failed: ${e.message}`);
    });
    const group = new MpiGroup(native, info);
    installExitHooks(native, group, opts.handleSignals ?? true);
    return group;
  })();
  created.catch(() => (created = undefined));
  return created;
}

function installExitHooks(native: MpiNative, group: MpiGroup, signals: boolean): void {
  process.on('exit', (code) => {
    // Finalising is collective: only a clean exit may wait for the other ranks to finalise too.
    const clean = code === 0 && native.pending() === 0 && !group.failed;
    native.shutdown(clean, clean ? 30_000 : 2000);
  });
  if (!signals) return;
  // mpirun / srun stop the surviving ranks with SIGTERM when one fails. Say where this rank was; exit unless the
  // application has SIGTERM handlers of its own (then they decide). SIGINT (Ctrl-C) is left to the application.
  const onTerm = () => {
    process.stderr.write(`${describeStop(group, 'SIGTERM')}\n`);
    if (process.listenerCount('SIGTERM') === 1) process.exit(143);
  };
  process.on('SIGTERM', onTerm);
}

/** "mpi group: rank 0 stopped by SIGTERM while in allGather #12; rank 1 (pid 4242 on vm) has exited". */
export function describeStop(group: MpiGroup, signal: string): string {
  const ops = [...group.inFlight].map(([seq, op]) => `${op} #${seq}`);
  const me = group.hosts[group.rank];
  const gone: string[] = [];
  for (let q = 0; q < group.worldSize; q++) {
    if (q === group.rank || group.hosts[q] !== me) continue;
    try {
      process.kill(group.pids[q]!, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') gone.push(`rank ${q} (pid ${group.pids[q]} on ${me})`);
    }
  }
  const where = ops.length ? `while in ${ops.join(', ')}` : 'between operations';
  const why = gone.length
    ? `; ${gone.join(', ')} ${gone.length > 1 ? 'have' : 'has'} exited`
    : '; the launcher stops every rank when one fails (its report names the failed rank)';
  return `mpi group: rank ${group.rank} stopped by ${signal} ${where}${why}`;
}

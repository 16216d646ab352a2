// Loads the N-API MPI binding (build/Release/duet_mpi.node), building it on first use when it is missing
// (e.g. Open MPI was installed after `npm install`). The build itself lives in tools/build-mpi.mjs.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The binding's surface (native/duet_mpi.c). Every operation resolves on the JS thread; MPI runs on its own thread. */
export interface MpiNative {
  /** threadLevel: 0 single, 1 funneled, 2 serialized, 3 multiple (requested; all MPI calls come from one thread). */
  init(threadLevel: number, timeoutMs: number): Promise<MpiInitInfo>;
  allreduce(x: Float32Array): Promise<Float32Array>;
  reduceScatter(x: Float32Array, counts: number[]): Promise<Float32Array>;
  allgatherv(x: Float32Array): Promise<{ data: Float32Array; counts: Int32Array }>;
  bcast(x: Float32Array, root: number): Promise<Float32Array>;
  sendrecv(x: Float32Array, to: number, from: number): Promise<Float32Array>;
  barrier(): Promise<void>;
  setTimeout(ms: number): void;
  /** Stops the communication thread (MPI_Finalize when `finalize`), waiting up to waitMs; true when it stopped. */
  shutdown(finalize: boolean, waitMs: number): boolean;
  /** Operations in flight. */
  pending(): number;
}

export interface MpiInitInfo {
  rank: number;
  size: number;
  /** The thread level MPI provided (0..3). */
  threadLevel: number;
  libraryVersion: string;
  pids: Int32Array;
  hosts: string[];
}

/** Thrown when the mpi group cannot be used here; the message says what to install or what failed. */
export class MpiUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MpiUnavailableError';
  }
}

const PKG_ROOT = fileURLToPath(new URL('..', import.meta.url)); // the same from src/ and dist/
export const BINDING_PATH = `${PKG_ROOT}build/Release/duet_mpi.node`;
const BUILD_SCRIPT = `${PKG_ROOT}tools/build-mpi.mjs`;
export const INSTALL_HINT = 'on Debian/Ubuntu: `apt-get install libopenmpi-dev openmpi-bin` (and make + g++ to compile the binding)';

function build(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BUILD_SCRIPT, '--if-missing'], { timeout: 600_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const detail = String(stderr).trim().replace(/^@duet\/distributed: /gm, '');
      const code = (err as { code?: unknown }).code;
      reject(new MpiUnavailableError(code === 2 ? `mpi process group unavailable: ${detail}` : `mpi process group unavailable: building the N-API MPI binding failed: ${detail || err.message}`));
    });
  });
}

let loading: Promise<MpiNative> | undefined;

/** The binding, built first if needed. Rejects with MpiUnavailableError when there is no MPI or it cannot build. */
export function loadMpiNative(): Promise<MpiNative> {
  loading ??= (async () => {
    if (!existsSync(BINDING_PATH)) await build();
    try {
      return createRequire(import.meta.url)(BINDING_PATH) as MpiNative;
    } catch (e) {
      throw new MpiUnavailableError(`mpi process group unavailable: ${BINDING_PATH} does not load (${(e as Error).message.split('\n')[0]}); is Open MPI still installed? (${INSTALL_HINT}; then \`npm run build:mpi -w @duet/distributed\`)`);
    }
  })();
  loading.catch(() => (loading = undefined));
  return loading;
}

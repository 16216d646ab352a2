// Runs a worker module (the same `main({ group, rank, worldSize, args })` modules launchThreads runs) on N MPI
// ranks with mpirun and collects every rank's result (see mpi-main.ts). For tests and benchmarks.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package folder (the same from src/testing and dist/testing). */
export const PKG_DIR = fileURLToPath(new URL('../..', import.meta.url));
const fromSource = import.meta.url.endsWith('.ts');
const MAIN = fileURLToPath(new URL(fromSource ? './mpi-main.ts' : './mpi-main.js', import.meta.url));

/** Options every container launch needs: root is allowed, more ranks than cores, no CMA single-copy. */
export const CONTAINER_MCA = ['--oversubscribe', '--mca', 'btl_vader_single_copy_mechanism', 'none'];
export const ROOT_ENV = { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' };

/** Fails (never skips) when Open MPI or the binding is missing: CI installs Open MPI for these tests. */
export function requireMpi(): void {
  const which = spawnSync('mpirun', ['--version'], { encoding: 'utf8' });
  if (which.error || which.status !== 0) {
    throw new Error('Open MPI is not installed (no mpirun on PATH): the mpi tests need it. Install with `apt-get install libopenmpi-dev openmpi-bin` (Debian/Ubuntu).');
  }
  const build = spawnSync(process.execPath, [`${PKG_DIR}tools/build-mpi.mjs`, '--if-missing'], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`the MPI binding does not build: ${build.stderr.trim()}`);
}

/** The node command of one rank; in source mode TypeScript through tsx and workspace packages from source. */
export function rankCommand(moduleUrl: URL | string, args: unknown): string[] {
  const node = fromSource ? [process.execPath, '--conditions=@duet/source', '--import', 'tsx'] : [process.execPath];
  return [...node, MAIN, String(moduleUrl), JSON.stringify(args ?? null)];
}

export interface MpiRun<R> {
  code: number | null;
  signal: NodeJS.Signals | null;
  results: R[];
  stdout: string;
  stderr: string;
  ms: number;
}

export function runMpi<R>(n: number, moduleUrl: URL | string, args: unknown, opts: { extra?: string[]; env?: Record<string, string>; timeoutMs?: number; launcher?: string[] } = {}): Promise<MpiRun<R>> {
  const argv = [...(opts.launcher ?? ['mpirun', '-n', String(n), ...CONTAINER_MCA]), ...(opts.extra ?? []), ...rankCommand(moduleUrl, args)];
  const t0 = Date.now();
  const out = mkdtempSync(join(tmpdir(), 'duet-mpirun-'));
  return new Promise<MpiRun<R>>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: PKG_DIR, env: { ...process.env, ...ROOT_ENV, DUET_RESULT_DIR: out, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      // SIGTERM lets mpirun stop its ranks; SIGKILL if it does not go.
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      reject(new Error(`mpirun -n ${n} did not finish within ${opts.timeoutMs ?? 90_000} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, opts.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try {
        const results: R[] = [];
        for (let r = 0; r < n; r++) if (existsSync(join(out, `rank-${r}.json`))) results[r] = JSON.parse(readFileSync(join(out, `rank-${r}.json`), 'utf8')) as R;
        // Node echoes the source line of an uncaught error; in minified bundles (tfjs-backend-wasm) that is huge.
        const trimmed = stderr.replace(/^.{2000,}$/gm, (l) => `${l.slice(0, 200)}… [${l.length} characters]`);
        resolve({ code, signal, results, stdout, stderr: trimmed, ms: Date.now() - t0 });
      } catch (e) {
        reject(e as Error);
      }
    });
  }).finally(() => rmSync(out, { recursive: true, force: true }));
}

#!/usr/bin/env node
// Builds the N-API MPI binding (build/Release/duet_mpi.node) against the system's MPI.
//   node tools/build-mpi.mjs             build; exit 1 with the reason when it cannot
//   node tools/build-mpi.mjs --optional  the npm `install` script: never fails, only says why the mpi group is off
//   node tools/build-mpi.mjs --if-missing  build only when the binding is not there yet (lazy build on first use)
// Compiler flags come from the MPI wrapper (mpicc --showme, or MPICH's -compile_info); Node's headers from the
// local Node install (--nodedir), so nothing is downloaded. node-gyp (the copy npm ships) drives the build; when it
// is unavailable or fails (e.g. no python3) the binding is compiled with mpicc directly. Concurrent builds (several
// ranks starting at once) are serialised with a lock file.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(PKG, 'build', 'Release', 'duet_mpi.node');
const LOCK = join(PKG, '.mpi-build.lock');
const INSTALL_HINT = 'on Debian/Ubuntu: apt-get install libopenmpi-dev openmpi-bin (plus make, g++ or gcc)';
const args = new Set(process.argv.slice(2));
const optional = args.has('--optional');
const log = (m) => console.error(`@duet/distributed: ${m}`);

class Skip extends Error {}

function which(cmd) {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

function run(cmd, argv, env = process.env) {
  return execFileSync(cmd, argv, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function mpiFlags(mpicc) {
  try {
    return { cflags: run(mpicc, ['--showme:compile']), libs: run(mpicc, ['--showme:link']) }; // Open MPI
  } catch {
    try {
      return { cflags: run(mpicc, ['-compile_info']).split(/\s+/).filter((f) => /^-[ID]/.test(f)).join(' '), libs: run(mpicc, ['-link_info']).split(/\s+/).filter((f) => /^-[LlW]/.test(f)).join(' ') }; // MPICH
    } catch (e) {
      throw new Skip(`${mpicc} did not report its compile/link flags (${e.message.split('\n')[0]})`);
    }
  }
}

/** A Node install prefix whose include/node has node_api.h (so node-gyp needs no download). */
function nodeDir() {
  const candidates = [process.env.npm_config_nodedir, resolve(dirname(process.execPath), '..'), '/usr', '/usr/local'];
  const dir = candidates.find((d) => d && existsSync(join(d, 'include', 'node', 'node_api.h')));
  if (!dir) throw new Skip(`Node's C headers (include/node/node_api.h) were not found next to ${process.execPath} nor in /usr or /usr/local; install the Node development headers (Debian: the nodejs package from NodeSource ships them, or libnode-dev) or set npm_config_nodedir`);
  return dir;
}

function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp, join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not installed as a package */
  }
  return candidates.find((p) => p && existsSync(p));
}

function withLock(fn) {
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      const fd = openSync(LOCK, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(readFileSync(LOCK, 'utf8'));
      } catch {
        continue;
      }
      const alive = Number.isInteger(holder) && holder > 0 && (() => { try { process.kill(holder, 0); return true; } catch (err) { return err.code === 'EPERM'; } })();
      const stale = !alive || Date.now() - statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs > 600_000;
      if (stale) rmSync(LOCK, { force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for another build (pid ${holder}, lock ${LOCK})`);
      else spawnSync('sleep', ['0.2']);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK, { force: true });
  }
}

/** Loads the built addon in a fresh process: catches a binding that compiles but cannot load (missing libmpi). */
function verify(path) {
  const r = spawnSync(process.execPath, ['-e', `process.dlopen({ exports: {} }, ${JSON.stringify(path)})`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`built ${path} but it does not load: ${(r.stderr || '').trim().split('\n').slice(0, 3).join(' ')}`);
}

function build() {
  const mpicc = which(process.env.MPICC || 'mpicc');
  if (!mpicc) throw new Skip(`no MPI found (no mpicc on PATH); the 'mpi' process group is disabled. To enable it install Open MPI (${INSTALL_HINT}) and run \`npm run build:mpi -w @duet/distributed\``);
  const { cflags, libs } = mpiFlags(mpicc);
  const nodedir = nodeDir();
  const env = { ...process.env, DUET_MPI_CFLAGS: cflags, DUET_MPI_LIBS: libs };
  const gyp = nodeGyp();
  let gypError = 'node-gyp not found';
  if (gyp && which('python3')) {
    const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=warn'], { cwd: PKG, env, encoding: 'utf8' });
    if (r.status === 0 && existsSync(OUT)) return verify(OUT), `node-gyp (${gyp})`;
    gypError = `node-gyp failed: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-4).join(' | ')}`;
  } else if (gyp) gypError = 'node-gyp needs python3, which is not on PATH';
  // Direct compile with the MPI wrapper: same flags, no python.
  mkdirSync(dirname(OUT), { recursive: true });
  const tmp = `${OUT}.${process.pid}.tmp`;
  const r = spawnSync(mpicc, ['-O2', '-Wall', '-shared', '-fPIC', '-DNAPI_VERSION=8', `-I${join(nodedir, 'include', 'node')}`, join(PKG, 'native', 'duet_mpi.c'), '-o', tmp], { encoding: 'utf8' });
  try {
    if (r.status !== 0) throw new Error(`${gypError}; compiling with ${mpicc} failed too: ${(r.stderr || '').trim().split('\n').slice(-4).join(' | ')}`);
    verify(tmp);
    renameSync(tmp, OUT);
  } finally {
    rmSync(tmp, { force: true });
  }
  return `${mpicc} directly (${gypError})`;
}

try {
  if (args.has('--if-missing') && existsSync(OUT)) process.exit(0);
  const how = withLock(() => (args.has('--if-missing') && existsSync(OUT) ? 'another process' : build()));
  log(`built the MPI binding ${OUT} with ${how}`);
} catch (e) {
  log(e instanceof Skip ? e.message : `could not build the MPI binding: ${e.message}`);
  process.exit(optional ? 0 : e instanceof Skip ? 2 : 1);
}

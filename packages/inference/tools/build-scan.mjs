#!/usr/bin/env node
// Builds the optional N-API int8 scan addon (build/Release/duet_scan.node) used by Int8ExactSearch.
//   node tools/build-scan.mjs             build; exit 1 with the reason when it cannot
//   node tools/build-scan.mjs --optional  the npm `install` script: never fails, only says why the native scan is off
//   node tools/build-scan.mjs --if-missing  build only when the addon is not there yet (lazy build on first use)
// Node's headers come from the local Node install (--nodedir), so nothing is downloaded. node-gyp (the copy npm
// ships) drives the build; when it is unavailable or fails (e.g. no python3) the addon is compiled with cc
// directly. Concurrent builds (several test workers starting at once) are serialised with a lock file.
// Without the addon Int8ExactSearch uses onnxruntime's MatMulInteger instead (same results, slower).
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(PKG, 'build', 'Release', 'duet_scan.node');
const SRC = join(PKG, 'native', 'duet_scan.c');
const LOCK = join(PKG, '.scan-build.lock');
const INSTALL_HINT = 'on Debian/Ubuntu: apt-get install make g++ (or gcc)';
const args = new Set(process.argv.slice(2));
const optional = args.has('--optional');
const log = (m) => console.error(`@duet/inference: ${m}`);

class Skip extends Error {}

function which(cmd) {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
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

/** Loads the built addon in a fresh process: catches an addon that compiles but cannot load. */
function verify(path) {
  const r = spawnSync(process.execPath, ['-e', `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(path)}); if (!m.exports.isas().length) process.exit(3)`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`built ${path} but it does not load: ${(r.stderr || '').trim().split('\n').slice(0, 3).join(' ')}`);
}

function build() {
  const nodedir = nodeDir();
  const gyp = nodeGyp();
  let gypError = 'node-gyp not found';
  if (gyp && which('python3') && which('make')) {
    // A failed rebuild removes the partial output, so loaders never find a half-written addon.
    const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=warn'], { cwd: PKG, encoding: 'utf8' });
    if (r.status === 0 && existsSync(OUT)) return verify(OUT), `node-gyp (${gyp})`;
    rmSync(OUT, { force: true });
    gypError = `node-gyp failed: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-4).join(' | ')}`;
  } else if (gyp) gypError = 'node-gyp needs python3 and make, which are not both on PATH';
  // Direct compile: same flags, no python.
  const cc = [process.env.CC, 'cc', 'gcc', 'clang'].find((c) => c && which(c));
  if (!cc) throw new Skip(`no C compiler found (${gypError}); the native int8 scan is disabled and Int8ExactSearch uses onnxruntime. To enable it install a compiler (${INSTALL_HINT}) and run \`npm run build:native -w @duet/inference\``);
  mkdirSync(dirname(OUT), { recursive: true });
  const tmp = `${OUT}.${process.pid}.tmp`;
  const r = spawnSync(cc, ['-O3', '-Wall', '-ffp-contract=off', '-shared', '-fPIC', '-DNAPI_VERSION=8', `-I${join(nodedir, 'include', 'node')}`, SRC, '-o', tmp, '-lpthread', '-lm'], { encoding: 'utf8' });
  try {
    if (r.status !== 0) throw new Error(`${gypError}; compiling with ${cc} failed too: ${(r.stderr || '').trim().split('\n').slice(-4).join(' | ')}`);
    verify(tmp);
    renameSync(tmp, OUT);
  } finally {
    rmSync(tmp, { force: true });
  }
  return `${cc} directly (${gypError})`;
}

try {
  if (args.has('--if-missing') && existsSync(OUT)) process.exit(0);
  const how = withLock(() => (args.has('--if-missing') && existsSync(OUT) ? 'another process' : build()));
  log(`built the native int8 scan ${OUT} with ${how}`);
} catch (e) {
  log(e instanceof Skip ? e.message : `could not build the native int8 scan: ${e.message}`);
  process.exit(optional ? 0 : e instanceof Skip ? 2 : 1);
}

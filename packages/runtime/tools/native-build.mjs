// Shared driver for the workspace's optional N-API addons (the Open MPI binding in @duet/distributed, the int8 scan
// in @duet/inference): one command-line contract, Node's local headers (nothing downloaded), node-gyp when it can run
// and a direct compile otherwise, a lock so concurrent builds (test workers, MPI ranks) serialise, and a check that
// the result loads in a fresh process before it is put in place — a failed build never leaves a half-written addon.
//   node tools/build-<addon>.mjs               build; exit 1 with the reason (2: a prerequisite is missing)
//   node tools/build-<addon>.mjs --optional    the npm `install` script: never fails, only says why the addon is off
//   node tools/build-<addon>.mjs --if-missing  build only when the addon is not there yet (lazy build on first use)
// Plain JavaScript (no build step): it runs from `npm install` before anything in the workspace is compiled.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';

/** A prerequisite is missing (not an error of the build itself): exit 2, or 0 with --optional. */
export class Skip extends Error {}

export function which(cmd) {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** A Node install prefix whose include/node has node_api.h (so node-gyp needs no download). */
export function nodeDir() {
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

function withLock(lock, fn) {
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(readFileSync(lock, 'utf8'));
      } catch {
        continue;
      }
      const alive = Number.isInteger(holder) && holder > 0 && (() => { try { process.kill(holder, 0); return true; } catch (err) { return err.code === 'EPERM'; } })();
      const stale = !alive || Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 600_000;
      if (stale) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for another build (pid ${holder}, lock ${lock})`);
      else spawnSync('sleep', ['0.2']);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

const tail = (s, n) => (s || '').trim().split('\n').slice(-n).join(' | ');

/**
 * Builds `<pkgDir>/build/Release/<name>.node` and runs the command line above.
 * - `what`: how log lines name the addon (e.g. "the MPI binding").
 * - `prepare()`: checks prerequisites (throw Skip) and returns `{ env?, compiler, flags, libs? }`: the environment
 *   for node-gyp (binding.gyp reads its flags from there), and for the direct compile `compiler(gypError)` (the
 *   compiler to use, or throw Skip naming why node-gyp could not be used) with its flags before and libs after
 *   `<source> -o <output>` (Node's include dir is added here).
 * - `loadCheck`: a JS expression over `m.exports` that must hold once the addon is loaded (default: it loads).
 */
export function runNativeBuild({ pkgDir, name, what, logPrefix, prepare, loadCheck = 'true' }) {
  const out = join(pkgDir, 'build', 'Release', `${name}.node`);
  const args = new Set(process.argv.slice(2));
  const log = (m) => console.error(`${logPrefix}: ${m}`);
  // Loads the addon in a fresh process: catches one that compiles but cannot load (e.g. a missing shared library).
  const verify = (path) => {
    const r = spawnSync(process.execPath, ['-e', `const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(path)}); if (!(${loadCheck})) process.exit(3)`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`built ${path} but it does not load: ${(r.stderr || '').trim().split('\n').slice(0, 3).join(' ')}`);
  };
  const build = () => {
    const { env = process.env, compiler, flags, libs = [] } = prepare();
    const nodedir = nodeDir();
    const gyp = nodeGyp();
    let gypError = 'node-gyp not found';
    if (gyp && which('python3') && which('make')) {
      const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=warn'], { cwd: pkgDir, env, encoding: 'utf8' });
      if (r.status === 0 && existsSync(out)) return verify(out), `node-gyp (${gyp})`;
      rmSync(out, { force: true }); // a failed rebuild leaves no partial output for loaders to find
      gypError = `node-gyp failed: ${tail(r.stderr || r.stdout, 4)}`;
    } else if (gyp) gypError = 'node-gyp needs python3 and make, which are not both on PATH';
    // Direct compile: same flags, no python; written to a temp file and renamed once it loads.
    const cc = compiler(gypError);
    mkdirSync(dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    const r = spawnSync(cc, [...flags, `-I${join(nodedir, 'include', 'node')}`, join(pkgDir, 'native', `${name}.c`), '-o', tmp, ...libs], { encoding: 'utf8' });
    try {
      if (r.status !== 0) throw new Error(`${gypError}; compiling with ${cc} failed too: ${tail(r.stderr, 4)}`);
      verify(tmp);
      renameSync(tmp, out);
    } finally {
      rmSync(tmp, { force: true });
    }
    return `${cc} directly (${gypError})`;
  };
  try {
    if (args.has('--if-missing') && existsSync(out)) process.exit(0);
    const how = withLock(join(pkgDir, `.${name}-build.lock`), () => (args.has('--if-missing') && existsSync(out) ? 'another process' : build()));
    log(`built ${what} ${out} with ${how}`);
  } catch (e) {
    log(e instanceof Skip ? e.message : `could not build ${what}: ${e.message}`);
    process.exit(args.has('--optional') ? 0 : e instanceof Skip ? 2 : 1);
  }
}

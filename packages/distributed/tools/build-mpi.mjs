#!/usr/bin/env node
// Builds the N-API MPI binding (build/Release/duet_mpi.node) against the system's MPI.
//   node tools/build-mpi.mjs             build; exit 1 with the reason when it cannot
//   node tools/build-mpi.mjs --optional  the npm `install` script: never fails, only says why the mpi group is off
//   node tools/build-mpi.mjs --if-missing  build only when the binding is not there yet (lazy build on first use)
// Compiler flags come from the MPI wrapper (mpicc --showme, or MPICH's -compile_info); the driver (Node's local
// headers, node-gyp or a direct compile with mpicc, lock, load check) is shared with the int8 scan addon:
// @duet/runtime's tools/native-build.mjs.
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Skip, runNativeBuild, which } from '@duet/runtime/native-build';

const INSTALL_HINT = 'on Debian/Ubuntu: apt-get install libopenmpi-dev openmpi-bin (plus make, g++ or gcc)';

function run(cmd, argv) {
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
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

runNativeBuild({
  pkgDir: resolve(dirname(fileURLToPath(import.meta.url)), '..'),
  name: 'duet_mpi',
  what: 'the MPI binding',
  logPrefix: '@duet/distributed',
  prepare: () => {
    const mpicc = which(process.env.MPICC || 'mpicc');
    if (!mpicc) throw new Skip(`no MPI found (no mpicc on PATH); the 'mpi' process group is disabled. To enable it install Open MPI (${INSTALL_HINT}) and run \`npm run build:mpi -w @duet/distributed\``);
    const { cflags, libs } = mpiFlags(mpicc);
    // binding.gyp reads the MPI flags from the environment; the direct compile lets the mpicc wrapper add them.
    return { env: { ...process.env, DUET_MPI_CFLAGS: cflags, DUET_MPI_LIBS: libs }, compiler: () => mpicc, flags: ['-O2', '-Wall', '-shared', '-fPIC', '-DNAPI_VERSION=8'] };
  },
});

#!/usr/bin/env node
// Builds the optional N-API int8 scan addon (build/Release/duet_scan.node) used by Int8ExactSearch.
//   node tools/build-scan.mjs             build; exit 1 with the reason when it cannot
//   node tools/build-scan.mjs --optional  the npm `install` script: never fails, only says why the native scan is off
//   node tools/build-scan.mjs --if-missing  build only when the addon is not there yet (lazy build on first use)
// The driver (Node's local headers, node-gyp or a direct cc compile, lock, load check) is shared with the MPI
// binding: @duet/runtime's tools/native-build.mjs. Without the addon Int8ExactSearch uses onnxruntime's
// MatMulInteger instead (same results, slower).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Skip, runNativeBuild, which } from '@duet/runtime/native-build';

const INSTALL_HINT = 'on Debian/Ubuntu: apt-get install make g++ (or gcc)';

runNativeBuild({
  pkgDir: resolve(dirname(fileURLToPath(import.meta.url)), '..'),
  name: 'duet_scan',
  what: 'the native int8 scan',
  logPrefix: '@duet/inference',
  loadCheck: 'm.exports.isas().length > 0',
  prepare: () => ({
    compiler: (gypError) => {
      const cc = [process.env.CC, 'cc', 'gcc', 'clang'].find((c) => c && which(c));
      if (!cc) throw new Skip(`no C compiler found (${gypError}); the native int8 scan is disabled and Int8ExactSearch uses onnxruntime. To enable it install a compiler (${INSTALL_HINT}) and run \`npm run build:native -w @duet/inference\``);
      return cc;
    },
    flags: ['-O3', '-Wall', '-ffp-contract=off', '-shared', '-fPIC', '-DNAPI_VERSION=8'],
    libs: ['-lpthread', '-lm'],
  }),
});

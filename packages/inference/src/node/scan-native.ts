// Loads the optional N-API int8 scan addon (build/Release/duet_scan.node, source native/duet_scan.c), building it
// on first use when it is missing (e.g. a compiler was installed after `npm install`). The build itself lives in
// tools/build-scan.mjs. Without the addon, Int8ExactSearch falls back to onnxruntime's MatMulInteger.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export type ScanIsa = 'portable' | 'avx2' | 'avx512vnni';
/** Index of each instruction set in the addon's `isa` argument. */
export const SCAN_ISAS: readonly ScanIsa[] = ['portable', 'avx2', 'avx512vnni'];

/** The addon's surface (native/duet_scan.c). */
export interface ScanNative {
  /** Row codes (stride-padded), code sums, [scale, ||x - x~||, ||x~||] (float64 and float32), rows split over threads; returns max ||x~|| + ||x - x~||. */
  quantize(vectors: Float32Array, n: number, dim: number, stride: number, codes: Int8Array, rowsum: Int32Array, rowd: Float64Array, rowf: Float32Array, threads: number): number;
  search(
    codes: Int8Array, rowsum: Int32Array, rowd: Float64Array, rowf: Float32Array, vectors: Float32Array, queries: Float32Array,
    n: number, dim: number, stride: number, q: number, k: number, threads: number, isa: number, maxMag: number,
  ): Promise<{ indices: Int32Array; scores: Float32Array; rescored: number; exact: number; msPrepare: number; msScan: number; msRescore: number }>;
  /** Instruction sets this CPU supports, best last. */
  isas(): ScanIsa[];
}

const PKG_ROOT = fileURLToPath(new URL('../..', import.meta.url)); // the same from src/node and dist/node
export const SCAN_BINDING_PATH = `${PKG_ROOT}build/Release/duet_scan.node`;
const BUILD_SCRIPT = `${PKG_ROOT}tools/build-scan.mjs`;

let loading: Promise<ScanNative | undefined> | undefined;
let reason = '';

function build(): Promise<void> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BUILD_SCRIPT, '--if-missing'], { timeout: 300_000 }, (err, _stdout, stderr) => {
      if (err) reason = String(stderr).trim().replace(/^@duet\/inference: /gm, '') || err.message;
      resolve();
    });
  });
}

/**
 * The addon, built first if needed (once per process); undefined when it cannot be built or loaded
 * (`scanNativeUnavailableReason()` says why). DUET_SCAN_NATIVE=0 disables it.
 */
export function loadScanNative(): Promise<ScanNative | undefined> {
  loading ??= (async () => {
    if (process.env['DUET_SCAN_NATIVE'] === '0') {
      reason = 'disabled by DUET_SCAN_NATIVE=0';
      return undefined;
    }
    if (!existsSync(SCAN_BINDING_PATH)) await build();
    if (!existsSync(SCAN_BINDING_PATH)) {
      reason ||= `${SCAN_BINDING_PATH} is missing`;
      return undefined;
    }
    try {
      return createRequire(import.meta.url)(SCAN_BINDING_PATH) as ScanNative;
    } catch (e) {
      reason = `${SCAN_BINDING_PATH} does not load (${(e as Error).message.split('\n')[0]}); rebuild with \`npm run build:native -w @duet/inference\``;
      return undefined;
    }
  })();
  return loading;
}

/** Why the native scan is not used ('' when it loaded or was not tried yet). */
export function scanNativeUnavailableReason(): string {
  return reason;
}

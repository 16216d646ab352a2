// onnxruntime-web (wasm) loaded on demand, single-threaded by default (works in browsers and in Node).
import type { OrtModuleLike } from './ort-types.js';

let cached: Promise<OrtModuleLike> | undefined;

export function loadOrtWeb(opts: { numThreads?: number } = {}): Promise<OrtModuleLike> {
  cached ??= import('onnxruntime-web').then((m) => {
    const ort = ((m as { default?: unknown }).default ?? m) as OrtModuleLike & { env: { wasm: { numThreads?: number } } };
    ort.env.wasm.numThreads = opts.numThreads ?? 1;
    return ort;
  });
  return cached;
}

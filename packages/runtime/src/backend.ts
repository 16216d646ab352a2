// Backend selection. (Minimal first version: explicit name or DUET_BACKEND, default wasm; extended by the runtime work.)
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'webgl' | 'cpu';
export interface BackendInfo { backend: BackendName; device: string }
export interface InitBackendOptions { backend?: BackendName | 'auto' }

export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const env = typeof process !== 'undefined' ? process.env['DUET_BACKEND'] : undefined;
  const want = (opts.backend && opts.backend !== 'auto' ? opts.backend : env) ?? 'wasm';
  if (want !== 'wasm' && want !== 'cpu') throw new Error(`backend "${want}" is not available yet`);
  const ok = await tf.setBackend(want);
  if (!ok) throw new Error(`failed to initialise TensorFlow.js backend "${want}"`);
  await tf.ready();
  return { backend: want, device: want === 'wasm' ? 'CPU (WebAssembly, single thread)' : 'CPU (JavaScript reference)' };
}

// Providers that work everywhere (wasm, cpu) or in browsers (webgl, webgpu via navigator.gpu).
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { BackendUnavailableError } from './errors.js';
import { isNode } from './env.js';
import { registerComposedConv2DBackpropFilter } from './conv-filter-grad.js';
import { registerFallbackKernels } from './fallback-kernels.js';
import { activateWebGpu, requestAdapter, summariseAdapter } from './webgpu.js';
import type { BackendAvailability, BackendProvider, InitResult } from './types.js';

async function setOrThrow(name: 'wasm' | 'cpu' | 'webgl', reason: string): Promise<void> {
  let ok = false;
  let err: unknown;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    err = e;
  }
  if (!ok) throw new BackendUnavailableError(name, err ? `${reason}: ${(err as Error).message}` : reason);
  await tf.ready();
}

export const wasmProvider: BackendProvider = {
  name: 'wasm',
  async probe() {
    return { backend: 'wasm', available: true, autoEligible: true, isGpu: false, reason: 'WebAssembly (XNNPACK) on the CPU' };
  },
  async init() {
    await setOrThrow('wasm', 'the WebAssembly backend failed to initialise');
    // Kernels tfjs-backend-wasm 4.22 lacks: the conv2d weight gradient composed from wasm matmuls; the rest
    // (UnsortedSegmentSum for gather's gradient, Einsum) through the cpu kernels.
    registerComposedConv2DBackpropFilter('wasm');
    registerFallbackKernels('wasm');
    const [simd, threads] = await Promise.all([
      tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
      tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    ]);
    const n = threads ? getThreadsCount() : 1;
    return { backend: 'wasm', isGpu: false, device: `CPU (WebAssembly, ${n} thread${n === 1 ? '' : 's'}${simd ? ', SIMD' : ''})` };
  },
};

export const cpuProvider: BackendProvider = {
  name: 'cpu',
  async probe() {
    return { backend: 'cpu', available: true, autoEligible: true, isGpu: false, reason: 'plain JavaScript reference kernels (slow)' };
  },
  async init() {
    await setOrThrow('cpu', 'the cpu backend failed to initialise');
    return { backend: 'cpu', isGpu: false, device: 'CPU (JavaScript reference kernels)' };
  },
};

const WEBGL_NODE = 'WebGL needs a browser (no WebGL context in Node)';

export const webglProvider: BackendProvider = {
  name: 'webgl',
  async probe(): Promise<BackendAvailability> {
    if (isNode()) return { backend: 'webgl', available: false, autoEligible: false, reason: WEBGL_NODE, hint: 'use webgpu or wasm in Node' };
    const ok = hasWebGl();
    return { backend: 'webgl', available: ok, autoEligible: ok, isGpu: ok, reason: ok ? 'WebGL 2 context' : 'no WebGL context in this browser' };
  },
  async init(): Promise<InitResult> {
    if (isNode()) throw new BackendUnavailableError('webgl', WEBGL_NODE, 'use webgpu or wasm in Node');
    await setOrThrow('webgl', 'no WebGL context could be created');
    const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
    const renderer = gl ? String(gl.getParameter(gl.RENDERER)) : 'WebGL';
    return { backend: 'webgl', isGpu: !/swiftshader|llvmpipe|software/i.test(renderer), device: renderer };
  },
};

function hasWebGl(): boolean {
  try {
    const c = (globalThis as { document?: Document }).document?.createElement('canvas');
    return Boolean(c?.getContext('webgl2') ?? c?.getContext('webgl'));
  } catch {
    return false;
  }
}

const BROWSER_WEBGPU_HINT = 'use a browser with WebGPU enabled (Chrome/Edge 113+, Safari 26+, Firefox 141+ on Windows)';

/** WebGPU through the browser's navigator.gpu. */
export const browserWebGpuProvider: BackendProvider = {
  name: 'webgpu',
  async probe(): Promise<BackendAvailability> {
    const gpu = navigatorGpu();
    if (!gpu) return { backend: 'webgpu', available: false, autoEligible: false, reason: 'navigator.gpu is missing', hint: BROWSER_WEBGPU_HINT };
    const adapter = await requestAdapter(gpu);
    if (!adapter) return { backend: 'webgpu', available: false, autoEligible: false, reason: 'navigator.gpu returned no adapter', hint: BROWSER_WEBGPU_HINT };
    const s = summariseAdapter(adapter);
    return { backend: 'webgpu', available: true, autoEligible: !s.software, isGpu: !s.software, reason: s.description };
  },
  async init() {
    const gpu = navigatorGpu();
    if (!gpu) throw new BackendUnavailableError('webgpu', 'navigator.gpu is missing', BROWSER_WEBGPU_HINT);
    return activateWebGpu(gpu, () => new BackendUnavailableError('webgpu', 'navigator.gpu returned no adapter', BROWSER_WEBGPU_HINT));
  },
};

function navigatorGpu(): GPU | undefined {
  return (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
}

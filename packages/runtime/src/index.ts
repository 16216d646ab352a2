// Public surface of @duet/runtime: TensorFlow.js, backend selection, seeded randomness, memory accounting.
// Isomorphic: Node-only backends (tfjs-node, Dawn WebGPU) are loaded at runtime by initBackend (see backend.ts).
export { tf } from './tf.js';
export {
  initBackend,
  describeBackends,
  currentBackend,
  resolveBackendRequest,
  chooseAuto,
  registerBackendProvider,
  AUTO_ORDER,
  type InitBackendOptions,
} from './backend.js';
export {
  BACKEND_NAMES,
  type BackendName,
  type BackendRequest,
  type BackendInfo,
  type BackendAvailability,
  type BackendProvider,
  type InitResult,
} from './types.js';
export { BackendUnavailableError } from './errors.js';
export { isNode } from './env.js';
export { summariseAdapter, type AdapterSummary } from './webgpu.js';
export { registerFallbackKernels, FALLBACK_KERNELS } from './fallback-kernels.js';
export { installLowAllocKernels, installLowAllocGradients, installZeroCopyWasmSlice, installZeroCopyWasmIdentity, copySlice } from './low-alloc-kernels.js';
export { Rng, createRng, type RngState } from './rng.js';
export { fillNormal, randomNormal, randomUniform, truncatedNormal, glorotUniform } from './init.js';
export {
  memorySnapshot,
  measureLeaks,
  assertNoLeaks,
  assertNoLeaksSync,
  trackLeaks,
  TensorLeakError,
  type MemorySnapshot,
  type LeakReport,
} from './memory.js';
export {
  runConformance,
  CONFORMANCE_CASES,
  geluTanh,
  geluErf,
  quickGelu,
  layerNorm,
  logSigmoid,
  type ConformanceCase,
  type ConformanceResult,
} from './conformance.js';
// Browsers: where the tfjs-backend-wasm .wasm files are served from (call before initBackend({ backend: 'wasm' })).
export { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
export { profileKernels, type KernelProfile, type KernelProfileRow } from './profile.js';

// Shared types of backend selection.

export const BACKEND_NAMES = ['tensorflow', 'webgpu', 'wasm', 'webgl', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendRequest = BackendName | 'auto';

export interface BackendInfo {
  /** The TensorFlow.js backend now active. */
  backend: BackendName;
  /** Human-readable device, e.g. the WebGPU adapter description or "CPU (WebAssembly, 1 thread, SIMD)". */
  device: string;
  /** True when ops run on a hardware GPU (a software rasteriser such as llvmpipe is not a GPU). */
  isGpu: boolean;
  /** Device limits that matter for sizing work (WebGPU: buffer sizes, workgroup limits). */
  limits?: Record<string, number>;
  /** With 'auto': why each better backend was skipped; with 'tensorflow': why the CPU build (tfjs-node) was used. */
  fallbackReason?: string;
  /** Where the choice came from. */
  source: 'option' | 'env' | 'auto';
}

export interface BackendAvailability {
  backend: BackendName;
  available: boolean;
  /** Why it is (not) available; for available backends, the device it would use. */
  reason: string;
  /** How to make it available, when it is not. */
  hint?: string;
  /** Whether 'auto' would pick it (e.g. webgpu on a software adapter is available but not auto-eligible). */
  autoEligible: boolean;
  isGpu?: boolean;
}

/** Result of initialising one backend (BackendInfo without the selection source). */
export type InitResult = Omit<BackendInfo, 'source'>;

/** One way of providing a backend on this platform. Node-only providers live in backends-node.ts. */
export interface BackendProvider {
  readonly name: BackendName;
  /** Cheap-ish check; must not switch the active backend. */
  probe(): Promise<BackendAvailability>;
  /** Makes the backend active (tf.setBackend) or throws BackendUnavailableError. */
  init(): Promise<InitResult>;
}

// WebGPU plumbing shared by browsers (navigator.gpu) and Node (Dawn via the `webgpu` package):
// adapter discovery, description, limits, and registering TensorFlow.js's WebGPU backend on a chosen adapter.
import * as tf from '@tensorflow/tfjs';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { BackendUnavailableError } from './errors.js';
import { registerWebGpuKernels } from './webgpu-kernels.js';
import type { InitResult } from './types.js';

/** Limits reported in BackendInfo.limits (the ones that bound tensor sizes and kernel shapes). */
export const REPORTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
] as const;

export interface AdapterSummary {
  description: string;
  vendor: string;
  architecture: string;
  /** Software rasterisers (llvmpipe/lavapipe, SwiftShader, WARP) run on the CPU. */
  software: boolean;
  limits: Record<string, number>;
}

const SOFTWARE_RE = /llvmpipe|lavapipe|swiftshader|software|microsoft basic render|warp/i;

export function summariseAdapter(adapter: GPUAdapter): AdapterSummary {
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const described = info?.description || [vendor, architecture, info?.device].filter(Boolean).join(' ');
  const fallback =
    (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ??
    (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    false;
  const software = fallback || SOFTWARE_RE.test(`${described} ${architecture} ${info?.device ?? ''}`);
  const limits: Record<string, number> = {};
  for (const k of REPORTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[k];
    if (typeof v === 'number') limits[k] = v;
  }
  return { description: described || 'unknown WebGPU adapter', vendor, architecture, software, limits };
}

export async function requestAdapter(gpu: GPU): Promise<GPUAdapter | null> {
  const lowPower = Boolean(tf.env().get('WEBGPU_USE_LOW_POWER_GPU'));
  return gpu.requestAdapter({ powerPreference: lowPower ? 'low-power' : 'high-performance' });
}

let registered: { gpu: GPU; summary: AdapterSummary } | undefined;

/**
 * Registers TensorFlow.js's `webgpu` backend on an adapter of `gpu` (replacing the package's own registration,
 * which only exists in browsers) and makes it active. Idempotent for the same `gpu`.
 */
export async function activateWebGpu(
  gpu: GPU,
  noAdapter: () => BackendUnavailableError,
  /** Platform fix-ups applied to each new backend (Node: a working synchronous readSync). */
  patchBackend?: (backend: WebGPUBackend) => void,
): Promise<InitResult> {
  if (registered?.gpu !== gpu) {
    const adapter = await requestAdapter(gpu);
    if (!adapter) throw noAdapter();
    const summary = summariseAdapter(adapter);
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', async () => {
      // Same device request as @tensorflow/tfjs-backend-webgpu's own factory: ask for the adapter's full limits.
      const requiredFeatures: GPUFeatureName[] = [];
      if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
      const l = adapter.limits;
      const device = await adapter.requestDevice({
        requiredFeatures,
        requiredLimits: {
          maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
          maxBufferSize: l.maxBufferSize,
          maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        },
      });
      const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
      const backend = new WebGPUBackend(device, info as never);
      patchBackend?.(backend);
      return backend;
    }, 0);
    registered = { gpu, summary };
  }
  const { summary } = registered;
  registerWebGpuKernels();
  let ok = false;
  try {
    ok = await tf.setBackend('webgpu');
  } catch (e) {
    throw new BackendUnavailableError('webgpu', `device creation failed on ${summary.description}: ${(e as Error).message}`);
  }
  if (!ok) throw new BackendUnavailableError('webgpu', `TensorFlow.js could not initialise WebGPU on ${summary.description}`);
  await tf.ready();
  return {
    backend: 'webgpu',
    device: summary.software ? `${summary.description} (software rasteriser on the CPU)` : summary.description,
    isGpu: !summary.software,
    limits: summary.limits,
  };
}

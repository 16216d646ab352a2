// WebGPU conformance (Dawn in Node). Needs a WebGPU adapter: on CPU-only machines Mesa's llvmpipe Vulkan driver
// (Debian: libvulkan1 + mesa-vulkan-drivers), on GPU hosts the vendor driver. Without one this suite FAILS with
// the diagnosis (what is missing, how to install it); it is never skipped.
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_CASES, assertNoLeaks, initBackend, memorySnapshot, runConformance, tf, type BackendInfo, type ConformanceResult } from './index.js';

let info: BackendInfo;
let results: ConformanceResult[];

beforeAll(async () => {
  info = await initBackend({ backend: 'webgpu' });
  // GPU transcendentals (exp, tanh, erf) may differ from V8's by a few ulp more than wasm's do.
  results = await runConformance('webgpu', { reference: 'cpu', atol: 1e-4, rtol: 1e-4 });
  await initBackend({ backend: 'webgpu' });
}, 300_000);

describe('webgpu backend (Node, Dawn)', () => {
  it('reports the adapter and its limits', () => {
    expect(info.backend).toBe('webgpu');
    expect(info.device.length).toBeGreaterThan(3);
    expect(info.limits?.['maxStorageBufferBindingSize']).toBeGreaterThanOrEqual(128 * 2 ** 20); // WebGPU spec minimum
    expect(info.limits?.['maxComputeInvocationsPerWorkgroup']).toBeGreaterThanOrEqual(256);
    expect(info.isGpu).toBe(!/llvmpipe|lavapipe|swiftshader/i.test(info.device));
  });

  for (const c of CONFORMANCE_CASES) {
    it(`matches cpu: ${c.name} (forward + gradients)`, () => {
      const mine = results.filter((r) => r.case === c.name);
      expect(mine.length).toBeGreaterThanOrEqual(2);
      for (const r of mine) expect({ output: r.output, ok: r.ok, maxAbsDiff: r.maxAbsDiff }).toEqual({ output: r.output, ok: true, maxAbsDiff: r.maxAbsDiff });
    });
  }

  it('reports GPU memory and the leak helper works on GPU tensors', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    const before = memorySnapshot();
    const t = tf.tidy(() => tf.add(tf.ones([256, 256]), 1)); // computed on the GPU (uploads are lazy)
    await t.data();
    const during = memorySnapshot();
    expect(during.numTensors - before.numTensors).toBe(1);
    expect(during.gpuBytesUsed! - (before.gpuBytesUsed ?? 0)).toBeGreaterThanOrEqual(256 * 256 * 4);
    expect(during.gpuBytesAllocated!).toBeGreaterThanOrEqual(during.gpuBytesUsed!);
    t.dispose();
    await expect(assertNoLeaks(() => void tf.matMul(tf.ones([4, 4]), tf.ones([4, 4])), 'gpu')).rejects.toThrow(/^gpu: leaked 3 tensors/);
    tf.disposeVariables();
  });
});

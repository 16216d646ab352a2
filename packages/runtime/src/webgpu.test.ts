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

  it('reads GPU-computed tensors synchronously (dataSync/arraySync; tfjs needs OffscreenCanvas for this in browsers)', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    // [[1,2],[3,4]] @ [[5,6],[7,8]] = [[19,22],[43,50]]
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const b = tf.tensor2d([[5, 6], [7, 8]]);
    const y = tf.matMul(a, b);
    expect(Array.from(y.dataSync())).toEqual([19, 22, 43, 50]);
    expect(tf.sum(tf.add(y, 1)).arraySync()).toBe(138);
    // int32 and bool outputs, and a sync read while an async read of another tensor is in flight.
    const ids = tf.cast(tf.mul(tf.range(0, 5), 3), 'int32');
    const pending = tf.exp(tf.zeros([1000])).data();
    expect(Array.from(ids.dataSync())).toEqual([0, 3, 6, 9, 12]);
    expect(Array.from(tf.greater(ids, 4).dataSync())).toEqual([0, 0, 1, 1, 1]);
    expect((await pending).every((v) => v === 1)).toBe(true);
    // A larger buffer (4 MiB) read back exactly: sum of i over a range.
    const big = tf.range(0, 1 << 20, 1, 'float32');
    const vals = tf.mul(big, 2).dataSync();
    expect(vals.length).toBe(1 << 20);
    expect(vals[12345]).toBe(24690);
    expect(vals[(1 << 20) - 1]).toBe(2 * ((1 << 20) - 1));
    tf.dispose([a, b, y, ids, big]);
  });

  it('UnsortedSegmentSum (gather gradient) is the CSR kernel: exact sums, ids outside [0, n) dropped, int32 too', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    // rows [i, 10 i] for i = 0..5; ids 2, 0, 2, -1, 7 (out of range), 0 -> seg0 = rows 1+5, seg1 = none, seg2 = rows 0+2.
    const x = tf.tensor2d([0, 0, 1, 10, 2, 20, 3, 30, 4, 40, 5, 50], [6, 2]);
    const ids = tf.tensor1d([2, 0, 2, -1, 7, 0], 'int32');
    expect(await tf.unsortedSegmentSum(x, ids, 3).array()).toEqual([[6, 60], [0, 0], [2, 20]]);
    expect(await tf.unsortedSegmentSum(tf.cast(x, 'int32'), ids, 3).array()).toEqual([[6, 60], [0, 0], [2, 20]]);
    // rank 3 rows, and the gradient of gather: d/dtable sum(gather(table, ids) * w) = per-row sums of w.
    const x3 = tf.ones([4, 2, 3]);
    expect(await tf.unsortedSegmentSum(x3, tf.tensor1d([1, 1, 0, 1], 'int32'), 2).array()).toEqual([[[1, 1, 1], [1, 1, 1]], [[3, 3, 3], [3, 3, 3]]]);
    const table = tf.zeros([5, 2]);
    const gIds = tf.tensor1d([4, 1, 4, 4], 'int32');
    const w = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
    const [dTable] = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, gIds), w)))([table]);
    expect(await dTable!.array()).toEqual([[0, 0], [3, 4], [0, 0], [0, 0], [1 + 5 + 7, 2 + 6 + 8]]);
    tf.dispose([x, ids, x3, table, gIds, w, dTable!]);
  });

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

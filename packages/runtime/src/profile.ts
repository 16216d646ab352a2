// Per-kernel profile of a step (which ops dominate on a backend), aggregated from tf.profile.
// Kernel times come from the backend's timer: wall time on cpu/wasm, GPU timestamp queries on webgpu when the
// adapter has 'timestamp-query' (NaN otherwise). Composed kernels (e.g. wasm's Conv2DBackpropFilter) appear both
// as themselves and as the kernels they run.
import * as tf from '@tensorflow/tfjs';

export interface KernelProfileRow {
  kernel: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  /** totalMs / sum of all kernel rows' totalMs (NaN for scope rows). */
  share: number;
  /**
   * A scope, not a kernel: tf.customGrad ops ("unnamed scope") and named functions are recorded around the kernels
   * they run, so their time (wall time on cpu/wasm) repeats their kernels'. Excluded from totalKernelMs and shares.
   */
  scope: boolean;
  bytesAdded: number;
  /** Output shapes of the most expensive call, e.g. "[256,512]". */
  slowestOutput: string;
}

export interface KernelProfile<T> {
  result: T;
  rows: KernelProfileRow[];
  totalKernelMs: number;
  peakBytes: number;
  newTensors: number;
  newBytes: number;
}

export async function profileKernels<T>(fn: () => T | Promise<T>): Promise<KernelProfile<T>> {
  let result!: T;
  const info = await tf.profile(async () => {
    result = await fn();
    return result as unknown as tf.TensorContainer;
  });
  const byName = new Map<string, KernelProfileRow & { slowest: number }>();
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : Number.NaN;
    const row = byName.get(k.name) ?? {
      kernel: k.name, calls: 0, totalMs: 0, meanMs: 0, share: 0, scope: !tf.getKernel(k.name, tf.getBackend()), bytesAdded: 0, slowestOutput: '', slowest: -1,
    };
    row.calls++;
    row.totalMs += ms;
    row.bytesAdded += k.bytesAdded;
    if (!(ms <= row.slowest)) {
      row.slowest = ms;
      row.slowestOutput = k.outputShapes.map((s) => `[${s.join(',')}]`).join(' ');
    }
    byName.set(k.name, row);
  }
  const rows = [...byName.values()].map(({ slowest: _s, ...r }) => ({ ...r, meanMs: r.totalMs / r.calls }));
  const totalKernelMs = rows.reduce((a, r) => a + (r.scope || Number.isNaN(r.totalMs) ? 0 : r.totalMs), 0);
  for (const r of rows) r.share = !r.scope && totalKernelMs > 0 ? r.totalMs / totalKernelMs : Number.NaN;
  // Kernels by time, then scopes.
  rows.sort((a, b) => Number(a.scope) - Number(b.scope) || (b.totalMs || 0) - (a.totalMs || 0) || b.calls - a.calls);
  return { result, rows, totalKernelMs, peakBytes: info.peakBytes, newTensors: info.newTensors, newBytes: info.newBytes };
}

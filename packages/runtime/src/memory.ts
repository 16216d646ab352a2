// Memory accounting: tensor counts and bytes before/after a step, to catch leaked tensors.
import * as tf from '@tensorflow/tfjs';

export interface MemorySnapshot {
  numTensors: number;
  numBytes: number;
  numDataBuffers: number;
  backend: string;
  /** WebGPU: bytes of GPU buffers in use / allocated (the pool keeps freed buffers for reuse). */
  gpuBytesUsed?: number;
  gpuBytesAllocated?: number;
  /** tfjs could not account exactly (e.g. strings). */
  unreliable?: boolean;
}

export function memorySnapshot(): MemorySnapshot {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  return {
    numTensors: m.numTensors,
    numBytes: m.numBytes,
    numDataBuffers: m.numDataBuffers,
    backend: tf.getBackend(),
    ...(m.numBytesInGPU !== undefined ? { gpuBytesUsed: m.numBytesInGPU } : {}),
    ...(m.numBytesAllocatedInGPU !== undefined ? { gpuBytesAllocated: m.numBytesAllocatedInGPU } : {}),
    ...(m.unreliable ? { unreliable: true } : {}),
  };
}

export interface LeakReport {
  label?: string;
  before: MemorySnapshot;
  after: MemorySnapshot;
  /** Tensors alive after minus before, not counting tensors returned by the function. */
  leakedTensors: number;
  leakedBytes: number;
  /** Tensors created by the function and found in its return value (kept on purpose). */
  returnedTensors: number;
}

export class TensorLeakError extends Error {
  override readonly name = 'TensorLeakError';
  constructor(readonly report: LeakReport) {
    super(
      `${report.label ? `${report.label}: ` : ''}leaked ${report.leakedTensors} tensor${report.leakedTensors === 1 ? '' : 's'} ` +
        `(${report.leakedBytes} bytes; ${report.before.numTensors} -> ${report.after.numTensors} live tensors` +
        `${report.returnedTensors ? `, ${report.returnedTensors} returned` : ''})`,
    );
  }
}

/** Tensors in a return value: a tensor, or arrays / plain objects / Maps of them (a few levels deep). */
function collectTensors(value: unknown, out: Map<number, tf.Tensor>, depth = 0): void {
  if (depth > 4 || value == null) return;
  if (value instanceof tf.Tensor) {
    if (!value.isDisposed) out.set(value.id, value);
  } else if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, out, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collectTensors(v, out, depth + 1);
  } else if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, out, depth + 1);
  }
}

/** Id the next tensor will get (tfjs ids increase monotonically), to tell new returned tensors from old ones. */
function nextTensorId(): number {
  return (tf.engine().constructor as unknown as { nextTensorId?: number }).nextTensorId ?? 0;
}

function report(before: MemorySnapshot, firstId: number, result: unknown, label?: string): LeakReport {
  const after = memorySnapshot();
  const returned = new Map<number, tf.Tensor>();
  collectTensors(result, returned);
  for (const id of [...returned.keys()]) if (id < firstId) returned.delete(id); // existed before: not created here
  const dataIds = new Set<object>();
  let returnedBytes = 0;
  for (const t of returned.values()) {
    if (dataIds.has(t.dataId)) continue;
    dataIds.add(t.dataId);
    returnedBytes += t.dtype === 'string' ? 0 : t.size * tf.util.bytesPerElement(t.dtype);
  }
  return {
    ...(label !== undefined ? { label } : {}),
    before,
    after,
    leakedTensors: after.numTensors - before.numTensors - returned.size,
    leakedBytes: after.numBytes - before.numBytes - returnedBytes,
    returnedTensors: returned.size,
  };
}

/** Runs fn and reports tensors it left alive (tensors it returns are not leaks). */
export async function measureLeaks<T>(fn: () => T | Promise<T>, label?: string): Promise<{ result: T; report: LeakReport }> {
  const before = memorySnapshot();
  const firstId = nextTensorId();
  const result = await fn();
  return { result, report: report(before, firstId, result, label) };
}

/** Runs fn; throws TensorLeakError naming the count if it left tensors alive. Returns fn's result. */
export async function assertNoLeaks<T>(fn: () => T | Promise<T>, label?: string): Promise<T> {
  const { result, report: r } = await measureLeaks(fn, label);
  if (r.leakedTensors > 0) throw new TensorLeakError(r);
  return result;
}

/** Synchronous assertNoLeaks for synchronous code (e.g. inside a training step). */
export function assertNoLeaksSync<T>(fn: () => T, label?: string): T {
  const before = memorySnapshot();
  const firstId = nextTensorId();
  const result = fn();
  const r = report(before, firstId, result, label);
  if (r.leakedTensors > 0) throw new TensorLeakError(r);
  return result;
}

/** Starts tracking now; check() reports, assert() throws on growth since start (e.g. per training step). */
export function trackLeaks(label?: string): { check(keep?: unknown): LeakReport; assert(keep?: unknown): void } {
  const before = memorySnapshot();
  const firstId = nextTensorId();
  return {
    check: (keep?: unknown) => report(before, firstId, keep, label),
    assert: (keep?: unknown) => {
      const r = report(before, firstId, keep, label);
      if (r.leakedTensors > 0) throw new TensorLeakError(r);
    },
  };
}

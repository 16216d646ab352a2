// Direct access to a float32 tensor's storage on the CPU-resident backends (wasm: a view of the wasm heap; cpu:
// the backend's own array), so the optimizer and gradient clipping run as one pass of plain JS over the values
// instead of a chain of TensorFlow.js ops per parameter (each op costs microseconds of dispatch on a tiny tensor,
// which on a small model adds up to more than the arithmetic). Views are only valid until the next tensor
// allocation (a wasm heap growth detaches them): take one, use it, drop it.
import { tf } from '@duet/runtime';

/** A gradient as it reaches the optimizer: a tensor, or values already in JS (the data-parallel all-reduce's buffer). */
export type Gradient = tf.Tensor | Float32Array;

interface WasmBackend {
  typedArrayFromHeap(t: { shape: number[]; dtype: string; dataId: object }): Float32Array;
}
interface CpuBackend {
  data: { get(dataId: object): { values?: unknown } | undefined };
}

/** Whether the active backend keeps tensors in JS-reachable memory (wasm, cpu). */
export function hostBackend(): boolean {
  const name = tf.getBackend();
  return name === 'wasm' || name === 'cpu';
}

/**
 * A view of `t`'s values without a copy (wasm heap / cpu array), or undefined where the backend keeps them
 * elsewhere (webgpu). Read-only unless the caller owns the buffer (see AdamW). Invalid after the next allocation.
 */
export function storageView(t: tf.Tensor): Float32Array | undefined {
  if (t.dtype !== 'float32' || t.isDisposed) return undefined;
  const name = tf.getBackend();
  const backend = tf.backend() as unknown;
  if (name === 'wasm') {
    const be = backend as WasmBackend;
    return typeof be.typedArrayFromHeap === 'function' ? be.typedArrayFromHeap({ shape: t.shape, dtype: 'float32', dataId: t.dataId }) : undefined;
  }
  if (name === 'cpu') {
    const v = (backend as CpuBackend).data?.get(t.dataId)?.values;
    return v instanceof Float32Array && v.length === t.size ? v : undefined;
  }
  return undefined;
}

/** `g`'s values: the array itself, a storage view, or (other backends) a copy. */
export function gradientValues(g: Gradient): Float32Array {
  if (g instanceof Float32Array) return g;
  return storageView(g) ?? (g.dataSync() as Float32Array);
}

/** How many holders share the tensor's buffer (1 = only this tensor/variable). */
export function bufferRefCount(t: tf.Tensor): number {
  return tf.backend().refCount(t.dataId);
}

/** Disposes the tensors among `grads` (arrays need nothing). */
export function disposeGradients(grads: Iterable<Gradient>): void {
  for (const g of grads) if (!(g instanceof Float32Array)) g.dispose();
}

// TensorFlow.js 4.x hot spots of a training step, replaced by versions with identical results (process-wide kernel
// and gradient registrations, so they live here with the backends; @duet/training installs them).
// The first two allocate JS ArrayBuffers on every step; the replacements allocate none. ArrayBuffers count as V8
// external memory: ~7 MB of them per step at batch 64 on the Fashion-MNIST recipe triggered an "external memory
// pressure" scavenge about every other step (each copying a tape's worth of live objects) plus extra mark-compacts,
// on the training thread and on V8's helper threads: a per-step cost that does not shrink with the per-rank batch.
//  - Mean / Sum gradients: tfjs builds `ones(x.shape)` as a JS array and uploads it (5.3 MB per step, the layer
//    norms' means); here the ones come from the backend's Fill kernel. Same ops otherwise (dy·1, then /n).
//  - wasm Slice: copies the WHOLE input out of the wasm heap (readSync) for every slice (1.8 MB per step); here
//    the input is read through a view of the heap.
//  - wasm Identity: a full copy of its input, and tfjs runs it for every tensor it saves for the backward pass
//    (Engine.clone): ~5% of a training step's time. Here it shares the input's buffer (the reference count goes
//    up), as the cpu backend's Identity does. Safe because tensor buffers are immutable — which anything writing
//    into a buffer in place must respect: the wasm backend also keeps per-buffer state (XNNPACK's packed weights),
//    so @duet/training's fused AdamW writes each parameter into a new buffer.
import { tf } from './tf.js';

interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  incRef(dataId: tf.DataId): void;
}

let gradients = false;

/** Installs all three (idempotent); call after the backend is initialised. */
export function installLowAllocKernels(): void {
  installLowAllocGradients();
  installZeroCopyWasmSlice();
  installZeroCopyWasmIdentity();
}

const replaced = new Set<string>();

/**
 * Swaps the wasm backend's `name` kernel for `kernelFunc` (falling back to the stock one when it returns
 * undefined), once per process; false when the wasm backend has no such kernel.
 */
function replaceWasmKernel(name: string, kernelFunc: (args: Parameters<tf.KernelFunc>[0], stock: tf.KernelFunc) => ReturnType<tf.KernelFunc> | undefined): boolean {
  if (replaced.has(name)) return true;
  const orig = tf.getKernel(name, 'wasm');
  if (!orig) return false;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...orig, kernelFunc: (args) => kernelFunc(args, orig.kernelFunc) ?? orig.kernelFunc(args) });
  replaced.add(name);
  return true;
}

/** Replaces the wasm backend's Identity kernel with one that shares the input's buffer (idempotent); false when absent. */
export function installZeroCopyWasmIdentity(): boolean {
  return replaceWasmKernel('Identity', (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const be = args.backend as unknown as Partial<WasmBackend>;
    if (x.dtype === 'string' || typeof be.incRef !== 'function') return undefined;
    be.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}

/** Mean and Sum gradients whose ones tensor is filled by the backend (no JS array); same arithmetic as tfjs. */
export function installLowAllocGradients(): void {
  if (gradients) return;
  const expanded = (dy: tf.Tensor, x: tf.Tensor, axis: unknown): { dy: tf.Tensor; axes: number[] } => {
    const axes = tf.util.parseAxisParam(axis as number | number[], x.shape);
    const shape = x.shape.slice();
    for (const a of axes) shape[a] = 1;
    return { dy: tf.reshape(dy, shape), axes };
  };
  tf.registerGradient({
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0]!;
      return {
        x: () => {
          const e = expanded(dy as tf.Tensor, x, attrs['axis']);
          const n = tf.util.sizeFromShape(tf.backend_util.computeOutAndReduceShapes(x.shape, e.axes)[1]);
          return tf.div(tf.mul(e.dy, tf.fill(x.shape, 1, 'float32')), n);
        },
      };
    },
  });
  tf.registerGradient({
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0]!;
      const derX = tf.mul(expanded(dy as tf.Tensor, x, attrs['axis']).dy, tf.fill(x.shape, 1, 'float32'));
      return { x: () => derX };
    },
  });
  gradients = true;
}

/** Replaces the wasm backend's Slice kernel (idempotent); false when the wasm kernel is not registered. */
export function installZeroCopyWasmSlice(): boolean {
  return replaceWasmKernel('Slice', (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const be = args.backend as unknown as Partial<WasmBackend>;
    if (x.dtype === 'string' || typeof be.typedArrayFromHeap !== 'function' || typeof be.makeOutput !== 'function') return undefined;
    const attrs = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
    const out = be.makeOutput(size, x.dtype);
    if (tf.util.sizeFromShape(size) === 0) return out;
    // Views only after the output's allocation (a heap growth would detach views taken before it).
    const xv = be.typedArrayFromHeap(x);
    const ov = be.typedArrayFromHeap(out);
    copySlice(xv, x.shape, ov, begin, size);
    return out;
  });
}

/** out = x[begin : begin + size] (row-major), copying contiguous runs of the last dimension. */
export function copySlice<T extends Float32Array | Int32Array | Uint8Array>(x: T, shape: number[], out: T, begin: number[], size: number[]): void {
  const rank = shape.length;
  if (rank === 0) {
    out[0] = x[0]!;
    return;
  }
  const strides = tf.util.computeStrides(shape); // rank − 1 entries
  if (tf.slice_util.isSliceContinous(shape, begin, size)) {
    const off = tf.slice_util.computeFlatOffset(begin, strides);
    out.set(x.subarray(off, off + tf.util.sizeFromShape(size)));
    return;
  }
  const inner = size[rank - 1]!;
  const rows = tf.util.sizeFromShape(size.slice(0, -1));
  const idx = new Array<number>(rank - 1).fill(0); // position among the outer dims of the slice
  for (let row = 0; row < rows; row++) {
    let src = begin[rank - 1]!;
    for (let d = 0; d < rank - 1; d++) src += (begin[d]! + idx[d]!) * strides[d]!;
    out.set(x.subarray(src, src + inner), row * inner);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d]! < size[d]!) break;
      idx[d] = 0;
    }
  }
}

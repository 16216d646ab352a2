// A fast UnsortedSegmentSum for backends without one (wasm in tfjs 4.22). It is the gradient of gather, i.e. of
// every token/position embedding lookup, so it runs every step; the generic cpu-routed fallback (one masked
// reduction per segment, O(vocab · N · D)) made a tiny-siglip step take ~15 s. This is a direct scatter-add,
// O(N · D). Belongs in @duet/runtime's fallback kernels; kept here until it moves there.
import { tf } from '@duet/runtime';

type Info = { dataId: object; shape: number[]; dtype: tf.DataType };
type Backend = {
  readSync(dataId: object): tf.backend_util.BackendValues;
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object;
};

const NATIVE = new Set(['cpu', 'tensorflow', 'webgl', 'webgpu']);

/** Install the scatter-add kernel on `backendName` (default: the active backend) unless it has a native one. */
export function registerTrainingKernels(backendName = tf.getBackend()): boolean {
  if (NATIVE.has(backendName)) return false;
  if (tf.getKernel('UnsortedSegmentSum', backendName)) tf.unregisterKernel('UnsortedSegmentSum', backendName);
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, segmentIds } = inputs as unknown as { x: Info; segmentIds: Info };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const b = backend as unknown as Backend;
      const xv = b.readSync(x.dataId) as Float32Array | Int32Array;
      const ids = b.readSync(segmentIds.dataId) as Int32Array | Float32Array;
      const inner = x.shape.slice(1).reduce((a, c) => a * c, 1);
      const out = x.dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i]!;
        if (s < 0 || s >= numSegments) continue; // as tf: out-of-range ids contribute nothing
        const o = s * inner, xi = i * inner;
        for (let k = 0; k < inner; k++) out[o + k]! += xv[xi + k]!;
      }
      const shape = [numSegments, ...x.shape.slice(1)];
      return { dataId: b.write(out, shape, x.dtype), shape, dtype: x.dtype } as never;
    },
  });
  return true;
}

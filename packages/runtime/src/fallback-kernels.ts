// Kernels a backend lacks run through the cpu backend's implementation (read inputs, compute, write back),
// so gradients that need them (conv2d filter gradient, gather gradient) work everywhere. Correct but not
// fast: a native kernel or an op composition in the model is preferable where one of these is hot.
import * as tf from '@tensorflow/tfjs';

type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
type AnyBackend = {
  readSync(dataId: object): tf.backend_util.BackendValues;
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object;
  disposeData(dataId: object, force?: boolean): boolean;
};

/** Kernels missing from a backend in tfjs 4.22 that the training stack needs. */
export const FALLBACK_KERNELS: Record<string, readonly string[]> = {
  wasm: ['Conv2DBackpropFilter', 'UnsortedSegmentSum', 'Einsum'],
};

/** Registers cpu-backed versions of the listed kernels that `backendName` does not have; returns the names added. */
export function registerFallbackKernels(backendName: string, kernels = FALLBACK_KERNELS[backendName] ?? []): string[] {
  const added: string[] = [];
  for (const kernelName of kernels) {
    if (tf.getKernel(kernelName, backendName)) continue;
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    if (!cpuKernel) continue;
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc: ({ inputs, attrs, backend }) => {
        const cpu = tf.engine().findBackend('cpu') as unknown as AnyBackend;
        const src = backend as unknown as AnyBackend;
        const created: object[] = [];
        const toCpu = (t: TensorInfo): TensorInfo => {
          const dataId = cpu.write(src.readSync(t.dataId), t.shape, t.dtype);
          created.push(dataId);
          return { dataId, shape: t.shape, dtype: t.dtype };
        };
        const cpuInputs = Array.isArray(inputs)
          ? (inputs as TensorInfo[]).map(toCpu)
          : Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, toCpu(t as TensorInfo)]));
        try {
          const out = cpuKernel.kernelFunc({ inputs: cpuInputs as never, attrs, backend: cpu as never }) as TensorInfo | TensorInfo[];
          const back = (o: TensorInfo): TensorInfo => {
            const values = cpu.readSync(o.dataId);
            cpu.disposeData(o.dataId, true);
            return { dataId: src.write(values, o.shape, o.dtype), shape: o.shape, dtype: o.dtype };
          };
          return (Array.isArray(out) ? out.map(back) : back(out)) as never;
        } finally {
          for (const id of created) cpu.disposeData(id, true);
        }
      },
    });
    added.push(kernelName);
  }
  return added;
}

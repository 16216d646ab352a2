// Float32 access to a model's HF-named tensors for graph building, with clear errors on missing/mis-shaped names.
import { toTypedArray, type RawTensor } from '@duet/model-format';

export class ExportError extends Error {
  override name = 'ExportError';
}

export class Weights {
  constructor(private readonly tensors: Map<string, RawTensor>) {}

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** The tensor as float32 with its shape; `shape` (when given) must match exactly. */
  get(name: string, shape?: number[]): { data: Float32Array; shape: number[] } {
    const raw = this.tensors.get(name);
    if (!raw) throw new ExportError(`model.safetensors: missing tensor ${name}${shape ? ` (expected shape [${shape.join(', ')}])` : ''}`);
    if (shape && (raw.shape.length !== shape.length || raw.shape.some((d, i) => d !== shape[i]))) {
      throw new ExportError(`model.safetensors: ${name}: expected shape [${shape.join(', ')}], got [${raw.shape.join(', ')}]`);
    }
    const arr = toTypedArray(raw);
    const data = arr instanceof Float32Array ? arr : Float32Array.from(arr as ArrayLike<number>);
    return { data, shape: [...raw.shape] };
  }

  /** A scalar tensor value (e.g. logit_scale stored as [] or [1]). */
  scalar(name: string): number {
    const { data } = this.get(name);
    if (data.length !== 1) throw new ExportError(`model.safetensors: ${name}: expected a scalar, got ${data.length} values`);
    return data[0]!;
  }
}

/** Transposes a row-major [rows, cols] matrix (HF Linear weight [out, in] -> [in, out] for MatMul). */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

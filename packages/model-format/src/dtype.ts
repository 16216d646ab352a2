// Element types of safetensors and conversions between raw little-endian bytes and JS numbers.
// Float16/BFloat16 encoders round to nearest, ties to even (the IEEE default, as torch's .half()/.bfloat16()).

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<DType, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

export const DTYPES = Object.keys(DTYPE_BYTES) as DType[];

/** A tensor as raw little-endian bytes plus dtype and shape (what the file stores). */
export interface RawTensor {
  dtype: DType;
  shape: number[];
  data: Uint8Array;
}

export type NumericArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** Raised for every malformed safetensors input or invalid tensor; `tensor` names the offending entry when known. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
  constructor(message: string, readonly tensor?: string) {
    super(message);
  }
}

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, x);
}

/** Element count of a shape; null when a dimension is invalid or the count is not a safe integer. */
export function numElements(shape: readonly unknown[]): number | null {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return null;
    n *= d;
    if (!Number.isSafeInteger(n)) return null;
  }
  return n;
}

/** Bytes a dtype × shape tensor occupies; null when not representable. */
export function tensorByteLength(dtype: DType, shape: readonly number[]): number | null {
  const n = numElements(shape);
  if (n === null) return null;
  const b = n * DTYPE_BYTES[dtype];
  return Number.isSafeInteger(b) ? b : null;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

let F16_TABLE: Float32Array | undefined;
/** All 65536 binary16 values as float32 (256 KB, built on first use): decoding becomes one lookup per element. */
function f16Table(): Float32Array {
  if (!F16_TABLE) {
    F16_TABLE = new Float32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) F16_TABLE[h] = f16ToF32(h);
  }
  return F16_TABLE;
}

/** float32 value -> IEEE binary16 bits (round to nearest even; overflow -> ±Inf; NaN stays NaN). */
export function f32ToF16(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Result is a binary16 subnormal (or zero): shift the 24-bit significand into place, then round.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Inf).
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

export function bf16ToF32(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}

/** float32 value -> bfloat16 bits (round to nearest even; NaN stays a quiet NaN). */
export function f32ToBf16(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  if ((u & 0x7f800000) === 0x7f800000 && u & 0x7fffff) return (u >>> 16) | 0x40;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Decodes a raw tensor to a JS typed array. F16/BF16 widen to Float32Array, I64 narrows to a checked Int32Array.
 *  Aligned data are returned as views (no copy); misaligned data are copied first. */
export function toTypedArray(t: RawTensor): NumericArray {
  const size = DTYPE_BYTES[t.dtype];
  if (t.data.byteLength % size !== 0) throw new SafetensorsError(`${t.dtype} tensor has ${t.data.byteLength} bytes, not a multiple of ${size}`);
  const buf = t.data.byteOffset % size === 0 ? t.data : t.data.slice();
  const n = buf.byteLength / size;
  switch (t.dtype) {
    case 'F32': return new Float32Array(buf.buffer, buf.byteOffset, n);
    case 'F64': return new Float64Array(buf.buffer, buf.byteOffset, n);
    case 'I32': return new Int32Array(buf.buffer, buf.byteOffset, n);
    case 'I16': return new Int16Array(buf.buffer, buf.byteOffset, n);
    case 'I8': return new Int8Array(buf.buffer, buf.byteOffset, n);
    case 'U8': case 'BOOL': return new Uint8Array(buf.buffer, buf.byteOffset, n);
    case 'I64': {
      const src = new BigInt64Array(buf.buffer, buf.byteOffset, n);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = src[i]!;
        if (v > 2147483647n || v < -2147483648n) throw new SafetensorsError(`I64 value ${v} at index ${i} does not fit in int32`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'F16': {
      const src = new Uint16Array(buf.buffer, buf.byteOffset, n);
      const out = new Float32Array(n);
      const lut = f16Table();
      for (let i = 0; i < n; i++) out[i] = lut[src[i]!]!;
      return out;
    }
    case 'BF16': {
      const src = new Uint16Array(buf.buffer, buf.byteOffset, n);
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = src[i]! << 16;
      return new Float32Array(out.buffer);
    }
  }
}

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  I32: [-2147483648, 2147483647], I16: [-32768, 32767], I8: [-128, 127], U8: [0, 255], BOOL: [0, 1],
  I64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** Encodes numbers as a raw tensor of `dtype` (floats rounded to nearest even; integers range-checked). */
export function encodeTensor(values: ArrayLike<number>, shape: number[], dtype: DType, name = 'tensor'): RawTensor {
  const n = numElements(shape);
  if (n === null) throw new SafetensorsError(`${name}: invalid shape ${JSON.stringify(shape)}`, name);
  if (n !== values.length) throw new SafetensorsError(`${name}: shape ${JSON.stringify(shape)} holds ${n} elements but ${values.length} values were given`, name);
  const data = new Uint8Array(n * DTYPE_BYTES[dtype]);
  const range = INT_RANGE[dtype];
  if (range) {
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (!Number.isInteger(v) || v < range[0] || v > range[1]) {
        throw new SafetensorsError(`${name}: value ${v} at index ${i} is not representable as ${dtype}`, name);
      }
    }
  }
  switch (dtype) {
    case 'F32': new Float32Array(data.buffer).set(values); break;
    case 'F64': new Float64Array(data.buffer).set(values); break;
    case 'I32': new Int32Array(data.buffer).set(values); break;
    case 'I16': new Int16Array(data.buffer).set(values); break;
    case 'I8': new Int8Array(data.buffer).set(values); break;
    case 'U8': case 'BOOL': data.set(values); break;
    case 'I64': {
      const out = new BigInt64Array(data.buffer);
      for (let i = 0; i < n; i++) out[i] = BigInt(values[i]!);
      break;
    }
    case 'F16': {
      const out = new Uint16Array(data.buffer);
      for (let i = 0; i < n; i++) out[i] = f32ToF16(values[i]!);
      break;
    }
    case 'BF16': {
      const out = new Uint16Array(data.buffer);
      for (let i = 0; i < n; i++) out[i] = f32ToBf16(values[i]!);
      break;
    }
  }
  return { dtype, shape: [...shape], data };
}

/** Wraps a Float32Array as a raw tensor (copying into little-endian bytes); `dtype` F16/BF16 encodes for fp16 exports. */
export function fromFloat32(data: Float32Array, shape: number[], dtype: 'F32' | 'F16' | 'BF16' | 'F64' = 'F32'): RawTensor {
  if (dtype !== 'F32') return encodeTensor(data, shape, dtype);
  const n = numElements(shape);
  if (n !== null && n !== data.length) throw new SafetensorsError(`fromFloat32: shape ${JSON.stringify(shape)} holds ${n} elements but the array has ${data.length}`);
  return { dtype: 'F32', shape, data: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

/** Wraps a typed array, choosing the dtype from its type (copies the bytes). */
export function fromTypedArray(data: NumericArray | BigInt64Array | Uint16Array, shape: number[], dtype?: DType): RawTensor {
  const inferred: DType = data instanceof Float32Array ? 'F32' : data instanceof Float64Array ? 'F64' : data instanceof Int32Array ? 'I32'
    : data instanceof Int16Array ? 'I16' : data instanceof Int8Array ? 'I8' : data instanceof BigInt64Array ? 'I64'
    : data instanceof Uint16Array ? 'F16' : 'U8';
  const dt = dtype ?? inferred;
  // Only relabel where the bytes mean the same thing: U8 <-> BOOL, and raw 16-bit words as F16 or BF16.
  const ok = dt === inferred || (inferred === 'U8' && dt === 'BOOL') || (inferred === 'F16' && dt === 'BF16');
  if (!ok) throw new SafetensorsError(`fromTypedArray: a ${data.constructor.name} cannot be stored as ${dt} without conversion (use convertTensor)`);
  const n = numElements(shape);
  if (n === null || n !== data.length) throw new SafetensorsError(`fromTypedArray: shape ${JSON.stringify(shape)} does not match ${data.length} elements`);
  return { dtype: dt, shape: [...shape], data: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

/** Converts a tensor to another dtype (e.g. F32 -> F16/BF16 for fp16 exports, I64 -> I32). */
export function convertTensor(t: RawTensor, dtype: DType, name = 'tensor'): RawTensor {
  if (t.dtype === dtype) return { dtype, shape: [...t.shape], data: t.data.slice() };
  if (t.dtype === 'I64') {
    // Decode I64 exactly (as far as doubles allow) rather than through the int32 narrowing of toTypedArray.
    const buf = t.data.byteOffset % 8 === 0 ? t.data : t.data.slice();
    const src = new BigInt64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
    const vals = new Float64Array(src.length);
    for (let i = 0; i < src.length; i++) vals[i] = Number(src[i]!);
    return encodeTensor(vals, t.shape, dtype, name);
  }
  return encodeTensor(toTypedArray(t), t.shape, dtype, name);
}

/** Converts every floating-point tensor of a map (e.g. to F16 for fp16 exports); integer tensors are kept as they are. */
export function convertTensors(tensors: Map<string, RawTensor>, dtype: 'F32' | 'F16' | 'BF16' | 'F64', filter: (name: string, t: RawTensor) => boolean = () => true): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  for (const [name, t] of tensors) {
    const isFloat = t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16' || t.dtype === 'F64';
    out.set(name, isFloat && filter(name, t) ? convertTensor(t, dtype, name) : t);
  }
  return out;
}

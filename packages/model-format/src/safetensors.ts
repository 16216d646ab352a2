// safetensors reader/writer written to the spec: u64 little-endian header length, JSON header
// { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { string: string } }, then the byte buffer.

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<DType, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

export interface TensorInfo {
  dtype: DType;
  shape: number[];
  /** Byte offsets relative to the start of the data buffer. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  /** Byte offset in the file where the data buffer begins (8 + header length). */
  dataStart: number;
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
}

/** A tensor as raw little-endian bytes plus dtype and shape (what the file stores). */
export interface RawTensor {
  dtype: DType;
  shape: number[];
  data: Uint8Array;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

const MAX_HEADER = 100 * 1024 * 1024;

/** Parses and validates the header. `fileSize` is the full file length in bytes. */
export function parseHeader(prefix: Uint8Array, fileSize: number, source = 'safetensors'): SafetensorsHeader {
  if (fileSize < 8 || prefix.length < 8) throw new SafetensorsError(`${source}: file is ${fileSize} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) throw new SafetensorsError(`${source}: header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  const headerLen = Number(n);
  if (8 + headerLen > fileSize) throw new SafetensorsError(`${source}: header length ${headerLen} runs past the end of the ${fileSize}-byte file`);
  if (prefix.length < 8 + headerLen) throw new SafetensorsError(`${source}: need ${8 + headerLen} bytes of header, got ${prefix.length}`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(prefix.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError(`${source}: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new SafetensorsError(`${source}: header must be a JSON object`);
  const dataStart = 8 + headerLen;
  const dataLen = fileSize - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SafetensorsError(`${source}: __metadata__ must be an object of strings`);
      for (const [k, s] of Object.entries(v)) if (typeof s !== 'string') throw new SafetensorsError(`${source}: __metadata__.${k} must be a string`);
      metadata = v as Record<string, string>;
      continue;
    }
    tensors.set(name, validateInfo(name, v, dataLen, source));
  }
  // Offsets must tile the buffer exactly: sorted, contiguous, non-overlapping, ending at the buffer end.
  const sorted = [...tensors.entries()].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
  let pos = 0;
  for (const [name, t] of sorted) {
    if (t.dataOffsets[0] !== pos) {
      throw new SafetensorsError(t.dataOffsets[0] < pos
        ? `${source}: tensor "${name}" overlaps the previous tensor (starts at ${t.dataOffsets[0]}, previous ends at ${pos})`
        : `${source}: gap before tensor "${name}" (starts at ${t.dataOffsets[0]}, previous ends at ${pos})`);
    }
    pos = t.dataOffsets[1];
  }
  if (pos !== dataLen) throw new SafetensorsError(`${source}: tensors cover ${pos} bytes but the data buffer holds ${dataLen}`);
  return { dataStart, tensors, metadata };
}

function validateInfo(name: string, v: unknown, dataLen: number, source: string): TensorInfo {
  const where = `${source}: tensor "${name}"`;
  if (v === null || typeof v !== 'object') throw new SafetensorsError(`${where}: entry must be an object`);
  const { dtype, shape, data_offsets } = v as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) throw new SafetensorsError(`${where}: unsupported dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(DTYPE_BYTES).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new SafetensorsError(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(`${where}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(data_offsets)}`);
  }
  const [b, e] = data_offsets as [number, number];
  if (e < b) throw new SafetensorsError(`${where}: data_offsets end ${e} is before begin ${b}`);
  if (e > dataLen) throw new SafetensorsError(`${where}: data_offsets [${b}, ${e}] run past the ${dataLen}-byte data buffer`);
  const numel = (shape as number[]).reduce((a, d) => a * d, 1);
  const expect = numel * DTYPE_BYTES[dtype as DType];
  if (!Number.isSafeInteger(expect) || expect !== e - b) throw new SafetensorsError(`${where}: ${dtype} ${JSON.stringify(shape)} needs ${expect} bytes but data_offsets span ${e - b}`);
  return { dtype: dtype as DType, shape: shape as number[], dataOffsets: [b, e] };
}

/** Reads a whole safetensors file held in memory. Tensor data are views into `bytes` (no copy). */
export function readSafetensors(bytes: Uint8Array, source = 'safetensors'): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  const h = parseHeader(bytes, bytes.byteLength, source);
  const tensors = new Map<string, RawTensor>();
  for (const [name, t] of h.tensors) {
    tensors.set(name, { dtype: t.dtype, shape: t.shape, data: bytes.subarray(h.dataStart + t.dataOffsets[0], h.dataStart + t.dataOffsets[1]) });
  }
  return { tensors, metadata: h.metadata };
}

/** Serialises tensors (in the given order) with 8-byte aligned header padding, as the reference writer does. */
export function writeSafetensors(tensors: Map<string, RawTensor> | Record<string, RawTensor>, metadata?: Record<string, string>): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const numel = t.shape.reduce((a, d) => a * d, 1);
    const nbytes = numel * DTYPE_BYTES[t.dtype];
    if (nbytes !== t.data.byteLength) throw new SafetensorsError(`tensor "${name}": ${t.dtype} ${JSON.stringify(t.shape)} needs ${nbytes} bytes, got ${t.data.byteLength}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.byteLength % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.byteLength + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let pos = 8 + json.byteLength;
  for (const [, t] of entries) {
    out.set(t.data, pos);
    pos += t.data.byteLength;
  }
  return out;
}

/** Decodes a raw tensor to a JS typed array. F16/BF16 widen to Float32Array, I64 narrows to a checked Int32Array unless `keepI64`. */
export function toTypedArray(t: RawTensor): Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array {
  const buf = t.data.byteOffset % DTYPE_BYTES[t.dtype] === 0 ? t.data : t.data.slice();
  const n = buf.byteLength / DTYPE_BYTES[t.dtype];
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
      for (let i = 0; i < n; i++) out[i] = f16ToF32(src[i]!);
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

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Wraps a Float32Array as an F32 raw tensor (copying into little-endian bytes). */
export function fromFloat32(data: Float32Array, shape: number[]): RawTensor {
  return { dtype: 'F32', shape, data: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

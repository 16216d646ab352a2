// safetensors reader/writer written to the spec: u64 little-endian header length, JSON header
// { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { string: string } }, then the byte buffer.
// Every violation is a SafetensorsError naming the source and, where there is one, the tensor.
import { DTYPE_BYTES, SafetensorsError, isDType, numElements, tensorByteLength, type DType, type RawTensor } from './dtype.js';

export {
  type DType, type RawTensor, DTYPE_BYTES, SafetensorsError,
};
export { toTypedArray, f16ToF32, fromFloat32 } from './dtype.js';

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

/** Same cap as the reference implementation: a header above 100 MB is rejected before allocating it. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Reads the u64 header length from the first 8 bytes and checks it against the file size. */
export function headerLength(prefix: Uint8Array, fileSize: number, source = 'safetensors'): number {
  if (fileSize < 8 || prefix.length < 8) throw new SafetensorsError(`${source}: file is ${fileSize} bytes, shorter than the 8-byte header length`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`${source}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const len = Number(n);
  if (8 + len > fileSize) throw new SafetensorsError(`${source}: header length ${len} runs past the end of the ${fileSize}-byte file`);
  if (len < 2) throw new SafetensorsError(`${source}: header length ${len} is too short for a JSON object`);
  return len;
}

/** Parses and validates the header. `prefix` holds at least the first 8 + header-length bytes; `fileSize` is the full file length. */
export function parseHeader(prefix: Uint8Array, fileSize: number, source = 'safetensors'): SafetensorsHeader {
  const headerLen = headerLength(prefix, fileSize, source);
  if (prefix.length < 8 + headerLen) throw new SafetensorsError(`${source}: need ${8 + headerLen} bytes of header, got ${prefix.length}`);
  const raw = prefix.subarray(8, 8 + headerLen);
  if (raw[0] !== 0x7b) throw new SafetensorsError(`${source}: header must start with '{' (byte 0x7b), found byte 0x${raw[0]!.toString(16).padStart(2, '0')}`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
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
      metadata = validateMetadata(v, source);
      continue;
    }
    tensors.set(name, validateInfo(name, v, dataLen, source));
  }
  // Offsets must tile the buffer exactly: sorted, contiguous, non-overlapping, ending at the buffer end.
  const sorted = [...tensors.entries()].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);
  let pos = 0;
  let prev = '';
  for (const [name, t] of sorted) {
    if (t.dataOffsets[0] !== pos) {
      throw new SafetensorsError(t.dataOffsets[0] < pos
        ? `${source}: tensor "${name}" overlaps tensor "${prev}" (starts at ${t.dataOffsets[0]}, "${prev}" ends at ${pos})`
        : `${source}: gap of ${t.dataOffsets[0] - pos} bytes before tensor "${name}" (starts at ${t.dataOffsets[0]}, previous data ends at ${pos})`, name);
    }
    pos = t.dataOffsets[1];
    prev = name;
  }
  if (pos !== dataLen) {
    throw new SafetensorsError(pos < dataLen
      ? `${source}: tensors cover ${pos} bytes but the data buffer holds ${dataLen} (${dataLen - pos} trailing bytes)`
      : `${source}: tensors cover ${pos} bytes but the data buffer holds only ${dataLen}`);
  }
  return { dataStart, tensors, metadata };
}

function validateMetadata(v: unknown, source: string): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SafetensorsError(`${source}: __metadata__ must be an object of strings`);
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string') throw new SafetensorsError(`${source}: __metadata__.${k} must be a string, got ${JSON.stringify(s)}`);
  }
  return { ...(v as Record<string, string>) };
}

function validateInfo(name: string, v: unknown, dataLen: number, source: string): TensorInfo {
  const where = `${source}: tensor "${name}"`;
  const fail = (msg: string): never => { throw new SafetensorsError(`${where}: ${msg}`, name); };
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`entry must be an object {dtype, shape, data_offsets}, got ${JSON.stringify(v)}`);
  const { dtype, shape, data_offsets } = v as Record<string, unknown>;
  if (!isDType(dtype)) fail(`unsupported dtype ${JSON.stringify(dtype)} (expected one of ${Object.keys(DTYPE_BYTES).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(data_offsets)}`);
  }
  const [b, e] = data_offsets as [number, number];
  if (e < b) fail(`data_offsets end ${e} is before begin ${b}`);
  if (e > dataLen) fail(`data_offsets [${b}, ${e}] run past the ${dataLen}-byte data buffer`);
  const expect = tensorByteLength(dtype as DType, shape as number[]);
  if (expect === null) fail(`${dtype} ${JSON.stringify(shape)} has too many elements to address`);
  if (expect !== e - b) fail(`${dtype} ${JSON.stringify(shape)} needs ${expect} bytes but data_offsets [${b}, ${e}] span ${e - b}`);
  return { dtype: dtype as DType, shape: [...(shape as number[])], dataOffsets: [b, e] };
}

/** Reads a whole safetensors file held in memory. Tensor data are views into `bytes` (no copy). */
export function readSafetensors(input: Uint8Array | ArrayBuffer, source = 'safetensors'): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
  if (!(bytes instanceof Uint8Array)) throw new SafetensorsError(`${source}: expected a Uint8Array or ArrayBuffer, got ${bytes === null ? 'null' : typeof bytes}`);
  const h = parseHeader(bytes, bytes.byteLength, source);
  const tensors = new Map<string, RawTensor>();
  for (const [name, t] of h.tensors) {
    tensors.set(name, { dtype: t.dtype, shape: t.shape, data: bytes.subarray(h.dataStart + t.dataOffsets[0], h.dataStart + t.dataOffsets[1]) });
  }
  return { tensors, metadata: h.metadata };
}

export interface SafetensorsPlan {
  /** The 8-byte length prefix plus the space-padded JSON header; its length is a multiple of 8. */
  header: Uint8Array;
  /** Tensors in data-buffer order. */
  entries: [string, RawTensor][];
  /** Bytes of the data buffer after the header. */
  dataLength: number;
}

export interface WriteOptions {
  /**
   * 'given' (default): tensors in the order given. 'reference': the order of the reference (Rust) writer, wider
   * dtypes first then by name, which keeps every tensor aligned to its element size and makes files byte-identical
   * to what HF's save_file writes for the same tensors and metadata.
   */
  order?: 'given' | 'reference';
}

// The reference writer sorts by its Dtype enum, descending; for the dtypes supported here that is this rank.
const DTYPE_RANK: Record<DType, number> = { BOOL: 0, U8: 1, I8: 2, I16: 3, F16: 4, BF16: 5, I32: 6, F32: 7, F64: 8, I64: 9 };

/** Validates tensors and builds the header; writers (in-memory or streaming to a file) then append the data in `entries` order. */
export function planSafetensors(tensors: Map<string, RawTensor> | Record<string, RawTensor>, metadata?: Record<string, string>, opts: WriteOptions = {}): SafetensorsPlan {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  if (opts.order === 'reference') {
    entries.sort(([an, a], [bn, b]) => (DTYPE_RANK[b.dtype] ?? -1) - (DTYPE_RANK[a.dtype] ?? -1) || (an < bn ? -1 : an > bn ? 1 : 0));
  }
  // Null prototype: a tensor named "__proto__" must become a key, not the prototype.
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (metadata !== undefined) {
    const meta = validateMetadata(metadata, 'writeSafetensors');
    if (Object.keys(meta).length) header.__metadata__ = meta;
  }
  let offset = 0;
  for (const [name, t] of entries) {
    const where = `writeSafetensors: tensor "${name}"`;
    if (name === '__metadata__') throw new SafetensorsError(`${where}: the name __metadata__ is reserved`, name);
    if (t === null || typeof t !== 'object') throw new SafetensorsError(`${where}: expected a RawTensor {dtype, shape, data}`, name);
    if (!isDType(t.dtype)) throw new SafetensorsError(`${where}: unsupported dtype ${JSON.stringify(t.dtype)} (expected one of ${Object.keys(DTYPE_BYTES).join(', ')})`, name);
    if (!Array.isArray(t.shape) || numElements(t.shape) === null) throw new SafetensorsError(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`, name);
    if (!(t.data instanceof Uint8Array)) throw new SafetensorsError(`${where}: data must be a Uint8Array of raw little-endian bytes`, name);
    const nbytes = tensorByteLength(t.dtype, t.shape);
    if (nbytes !== t.data.byteLength) throw new SafetensorsError(`${where}: ${t.dtype} ${JSON.stringify(t.shape)} needs ${nbytes} bytes, got ${t.data.byteLength}`, name);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad with spaces so the data buffer starts 8-byte aligned (as the reference writer does).
  const padded = json.byteLength + ((8 - (json.byteLength % 8)) % 8);
  if (padded > MAX_HEADER_BYTES) throw new SafetensorsError(`writeSafetensors: header of ${padded} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const out = new Uint8Array(8 + padded).fill(0x20);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return { header: out, entries, dataLength: offset };
}

/** Serialises tensors (in the given order) with 8-byte aligned header padding, as the reference writer does. */
export function writeSafetensors(tensors: Map<string, RawTensor> | Record<string, RawTensor>, metadata?: Record<string, string>, opts: WriteOptions = {}): Uint8Array {
  const plan = planSafetensors(tensors, metadata, opts);
  const out = new Uint8Array(plan.header.byteLength + plan.dataLength);
  out.set(plan.header, 0);
  let pos = plan.header.byteLength;
  for (const [, t] of plan.entries) {
    out.set(t.data, pos);
    pos += t.data.byteLength;
  }
  return out;
}

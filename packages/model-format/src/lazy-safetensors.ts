// Lazy safetensors reader over any ByteSource: reads the header once, tensor bytes only when asked for,
// so a large checkpoint never needs to sit in memory twice.
import { httpSource, memorySource, type ByteSource, type HttpSourceOptions } from './byte-source.js';
import { SafetensorsError, type RawTensor } from './dtype.js';
import { headerLength, parseHeader, type SafetensorsHeader, type TensorInfo } from './safetensors.js';

export class SafetensorsReader {
  private constructor(readonly source: ByteSource, readonly header: SafetensorsHeader) {}

  static async open(source: ByteSource): Promise<SafetensorsReader> {
    const first = await source.read(0, Math.min(8, source.size));
    const len = headerLength(first, source.size, source.name);
    const prefix = new Uint8Array(8 + len);
    prefix.set(first.subarray(0, 8));
    prefix.set(await source.read(8, len), 8);
    return new SafetensorsReader(source, parseHeader(prefix, source.size, source.name));
  }

  get metadata(): Record<string, string> {
    return this.header.metadata;
  }

  /** Tensor names in file (data-offset) order. */
  tensorNames(): string[] {
    return [...this.header.tensors.entries()].sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0]).map(([n]) => n);
  }

  has(name: string): boolean {
    return this.header.tensors.has(name);
  }

  tensorInfo(name: string): TensorInfo {
    const t = this.header.tensors.get(name);
    if (!t) throw new SafetensorsError(`${this.source.name}: no tensor named "${name}" (the file has ${this.header.tensors.size} tensors)`, name);
    return t;
  }

  async getTensor(name: string): Promise<RawTensor> {
    const t = this.tensorInfo(name);
    const data = await this.source.read(this.header.dataStart + t.dataOffsets[0], t.dataOffsets[1] - t.dataOffsets[0]);
    return { dtype: t.dtype, shape: [...t.shape], data };
  }

  /** Reads the whole data buffer in one go (one request over HTTP) and returns views into it. */
  async getAllTensors(): Promise<Map<string, RawTensor>> {
    const buf = await this.source.read(this.header.dataStart, this.source.size - this.header.dataStart);
    const out = new Map<string, RawTensor>();
    for (const name of this.tensorNames()) {
      const t = this.header.tensors.get(name)!;
      out.set(name, { dtype: t.dtype, shape: [...t.shape], data: buf.subarray(t.dataOffsets[0], t.dataOffsets[1]) });
    }
    return out;
  }
}

/** Lazy reader over bytes already in memory (tensor data are views). */
export function openSafetensorsBytes(bytes: Uint8Array, name = 'safetensors'): Promise<SafetensorsReader> {
  return SafetensorsReader.open(memorySource(bytes, name));
}

/** Browser/isomorphic: opens a safetensors file by URL, using HTTP Range requests when the server supports them. */
export async function fetchSafetensors(url: string, opts: HttpSourceOptions = {}): Promise<SafetensorsReader> {
  return SafetensorsReader.open(await httpSource(url, opts));
}

// Read-only access to the HF reference fixtures for tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, toTypedArray, type RawTensor } from '@duet/model-format';

export const HF_REF = join(new URL('.', import.meta.url).pathname, '../../../../../shared/fixtures/hf-reference');
export type Fixture = 'tiny-clip' | 'tiny-siglip';

export function fixtureDir(name: Fixture): string {
  return join(HF_REF, name);
}

export function referenceIO(name: Fixture): Map<string, RawTensor> {
  return readSafetensors(readFileSync(join(HF_REF, name, 'reference_io.safetensors'))).tensors;
}

export function refFloat(io: Map<string, RawTensor>, key: string): { data: Float32Array; shape: number[] } {
  const t = io.get(key)!;
  return { data: Float32Array.from(toTypedArray(t) as ArrayLike<number>), shape: [...t.shape] };
}

export function refInt(io: Map<string, RawTensor>, key: string): { data: BigInt64Array; shape: number[] } {
  const t = io.get(key)!;
  return { data: BigInt64Array.from(Array.from(toTypedArray(t) as ArrayLike<number>, (v) => BigInt(v))), shape: [...t.shape] };
}

/** Max |a - b| / max(|b|) over all entries (relative to the reference's scale). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

export function l2normRows(a: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < a.length / dim; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += a[r * dim + j]! ** 2;
    const n = Math.sqrt(s);
    for (let j = 0; j < dim; j++) out[r * dim + j] = a[r * dim + j]! / n;
  }
  return out;
}

// Reads the float64 loss references from ../shared (read-only ground truth produced by HF/torch).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const FIXTURE = fileURLToPath(new URL('../../../../shared/fixtures/hf-reference/losses_float64.safetensors', import.meta.url));

export interface RefTensor {
  shape: number[];
  data: Float64Array;
}

let cache: Map<string, RefTensor> | undefined;

/** Minimal safetensors reader for the F64 fixture (kept here so tests need no extra dependency). */
export function lossFixture(): Map<string, RefTensor> {
  if (cache) return cache;
  const buf = readFileSync(FIXTURE);
  const headerLen = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const base = 8 + headerLen;
  cache = new Map();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (info.dtype !== 'F64') throw new Error(`fixture ${name}: expected F64, got ${info.dtype}`);
    const [a, b] = info.data_offsets;
    const bytes = buf.subarray(base + a, base + b);
    const data = new Float64Array(new Uint8Array(bytes).buffer);
    cache.set(name, { shape: info.shape, data });
  }
  return cache;
}

export const FIXTURE_SETS = [
  { n: 8, d: 16 },
  { n: 64, d: 32 },
  { n: 257, d: 48 },
] as const;

export function ref(n: number, d: number, key: string): RefTensor {
  const t = lossFixture().get(`N${n}_D${d}_${key}`);
  if (!t) throw new Error(`fixture has no N${n}_D${d}_${key}`);
  return t;
}

export function refScalar(n: number, d: number, key: string): number {
  return ref(n, d, key).data[0]!;
}

/** max|actual − expected| / max|expected| ≤ tol (scalars: plain relative error). */
export function expectClose(actual: ArrayLike<number> | number, expected: ArrayLike<number> | number, tol: number, label: string): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : Array.from(expected);
  expect(a.length, `${label}: length`).toBe(e.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < e.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i]! - e[i]!));
    maxRef = Math.max(maxRef, Math.abs(e[i]!));
  }
  const rel = maxDiff / maxRef;
  expect(rel, `${label}: relative error ${rel.toExponential(2)} (max |diff| ${maxDiff.toExponential(2)}, max |ref| ${maxRef.toExponential(2)})`).toBeLessThanOrEqual(tol);
}

// Reads the float64 loss references (HF/torch ground truth) from /work/shared, read-only.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../../../../shared/fixtures/hf-reference/losses_float64.safetensors', import.meta.url));
let cache: Map<string, Float64Array> | undefined;

export function ref(n: number, d: number, key: string): Float64Array {
  if (!cache) {
    const buf = readFileSync(FIXTURE);
    const headerLen = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    cache = new Map();
    for (const [name, info] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const [a, b] = info.data_offsets;
      cache.set(name, new Float64Array(new Uint8Array(buf.subarray(8 + headerLen + a, 8 + headerLen + b)).buffer));
    }
  }
  const t = cache.get(`N${n}_D${d}_${key}`);
  if (!t) throw new Error(`fixture has no N${n}_D${d}_${key}`);
  return t;
}

/** Near-equal contiguous split of n rows over w ranks. */
export function rowRange(n: number, w: number, r: number): [number, number] {
  return [Math.floor((n * r) / w), Math.floor((n * (r + 1)) / w)];
}

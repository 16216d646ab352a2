// Test helpers: backend selection, HF fixture loading, error metrics.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRng, initBackend, registerFallbackKernels, tf } from '@duet/runtime';
import { fromFloat32, readSafetensors, toTypedArray, type RawTensor } from '@duet/model-format';

export async function useBackend(backend: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  try {
    await initBackend({ backend });
  } catch (e) {
    // vitest's module runner cannot always resolve runtime's dynamic provider imports; the kernels are the same.
    if (!(await tf.setBackend(backend))) throw e;
    await tf.ready();
  }
  registerFallbackKernels(backend); // idempotent: cpu kernels for gradients wasm lacks (gather's UnsortedSegmentSum)
}

export const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/hf-reference/', import.meta.url));

export interface Fixture {
  config: Record<string, unknown>;
  weights: Map<string, RawTensor>;
  io: Map<string, RawTensor>;
}

export function loadFixture(name: 'tiny-clip' | 'tiny-siglip'): Fixture {
  const dir = `${FIXTURES}${name}/`;
  return {
    config: JSON.parse(readFileSync(`${dir}config.json`, 'utf8')) as Record<string, unknown>,
    weights: readSafetensors(readFileSync(`${dir}model.safetensors`)).tensors,
    io: readSafetensors(readFileSync(`${dir}reference_io.safetensors`)).tensors,
  };
}

export function ioFloat(io: Map<string, RawTensor>, name: string): { data: Float32Array; shape: number[] } {
  const t = io.get(name)!;
  return { data: toTypedArray(t) as Float32Array, shape: t.shape };
}

export function ioInt(io: Map<string, RawTensor>, name: string): tf.Tensor2D {
  const t = io.get(name)!;
  return tf.tensor2d(Int32Array.from(toTypedArray(t) as ArrayLike<number>), t.shape as [number, number], 'int32');
}

/** Relative error of a tensor: max|got - ref| / max|ref| over the whole tensor. */
export function relError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (got.length !== ref.length) throw new Error(`length ${got.length} != ${ref.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(got[i]! - ref[i]!));
    den = Math.max(den, Math.abs(ref[i]!));
  }
  return num / den;
}

/** Adds N(0, scale²) noise to every tensor (as the HF fixtures do), so no weight is exactly 0 or 1. */
export function perturb(tensors: Map<string, RawTensor>, seed = 1, scale = 0.02): Map<string, RawTensor> {
  const rng = createRng(seed);
  const out = new Map<string, RawTensor>();
  for (const [name, t] of tensors) {
    const a = Float32Array.from(toTypedArray(t) as Float32Array);
    if (!name.endsWith('running_var') && !name.endsWith('running_mean')) for (let i = 0; i < a.length; i++) a[i]! += rng.normal(0, scale);
    out.set(name, fromFloat32(a, t.shape));
  }
  return out;
}

export function randomPixels(b: number, c: number, s: number, seed = 3): tf.Tensor4D {
  const rng = createRng(seed);
  const a = new Float32Array(b * c * s * s);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal(0, 1);
  return tf.tensor4d(a, [b, c, s, s]);
}

export function randomIds(b: number, l: number, vocab: number, seed = 5): tf.Tensor2D {
  const rng = createRng(seed);
  const a = new Int32Array(b * l);
  for (let i = 0; i < a.length; i++) a[i] = rng.int(vocab);
  return tf.tensor2d(a, [b, l], 'int32');
}

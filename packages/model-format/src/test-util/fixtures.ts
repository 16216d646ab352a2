// Test helpers: paths of the shared HF reference fixtures and an independent header decoder (plain JSON.parse).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const HF_REF = fileURLToPath(new URL('../../../../../shared/fixtures/hf-reference/', import.meta.url));
export const MODELS = ['tiny-clip', 'tiny-siglip'] as const;

export function fixturePath(model: string, file = 'model.safetensors'): string {
  return `${HF_REF}${model}/${file}`;
}

/** The raw header as written by the reference (Rust) implementation, decoded without our parser. */
export function rawHeader(bytes: Uint8Array): { len: number; json: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> } {
  const len = Number(Buffer.from(bytes).readBigUInt64LE(0));
  return { len, json: JSON.parse(Buffer.from(bytes.subarray(8, 8 + len)).toString('utf8')) };
}

export function readFixture(model: string, file = 'model.safetensors'): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(model, file)));
}

// Input validation shared by every loss form: clear errors naming the input and what was expected.
import { tf } from '@duet/runtime';
import type { ContrastiveInputs, ScalarLike } from './types.js';

export interface Validated {
  batch: number;
  dim: number;
}

function shapeStr(t: tf.Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

export function validatePair(inputs: ContrastiveInputs, what: string, needBias: boolean): Validated {
  const { imageEmbeds, textEmbeds } = inputs;
  if (!(imageEmbeds instanceof tf.Tensor)) throw new TypeError(`${what}: imageEmbeds must be a tf.Tensor [B, E]`);
  if (!(textEmbeds instanceof tf.Tensor)) throw new TypeError(`${what}: textEmbeds must be a tf.Tensor [B, E]`);
  if (imageEmbeds.rank !== 2) throw new Error(`${what}: imageEmbeds: expected [B, E], got ${shapeStr(imageEmbeds)}`);
  if (textEmbeds.rank !== 2) throw new Error(`${what}: textEmbeds: expected [B, E], got ${shapeStr(textEmbeds)}`);
  const [b, e] = imageEmbeds.shape as [number, number];
  const [bt, et] = textEmbeds.shape as [number, number];
  if (b !== bt) throw new Error(`${what}: batch mismatch: imageEmbeds has ${b} rows, textEmbeds has ${bt} (pairs must align row by row)`);
  if (e !== et) throw new Error(`${what}: embedding dim mismatch: imageEmbeds is [${b}, ${e}], textEmbeds is [${bt}, ${et}]`);
  if (b < 1 || e < 1) throw new Error(`${what}: empty batch: imageEmbeds is [${b}, ${e}]`);
  for (const [name, t] of [['imageEmbeds', imageEmbeds], ['textEmbeds', textEmbeds]] as const) {
    if (t.dtype !== 'float32') throw new Error(`${what}: ${name}: expected float32, got ${t.dtype}`);
  }
  checkScalar(inputs.logitScale, 'logitScale', what);
  if (needBias) {
    if (inputs.logitBias === undefined) throw new Error(`${what}: logitBias is required for the SigLIP loss`);
    checkScalar(inputs.logitBias, 'logitBias', what);
  }
  return { batch: b, dim: e };
}

function checkScalar(v: ScalarLike | undefined, name: string, what: string): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`${what}: ${name}: expected a finite number, got ${v}`);
    return;
  }
  if (!(v instanceof tf.Tensor)) throw new TypeError(`${what}: ${name} must be a number or a scalar tf.Tensor`);
  if (v.size !== 1) throw new Error(`${what}: ${name}: expected a scalar, got shape [${v.shape.join(', ')}]`);
}

/** Throws when any of the tensors holds NaN or ±Infinity (one boolean read back per call). */
export function checkFinite(what: string, named: Record<string, tf.Tensor | number | undefined>): void {
  const entries = Object.entries(named).filter((kv): kv is [string, tf.Tensor] => kv[1] instanceof tf.Tensor);
  const flags = tf.tidy(() => tf.stack(entries.map(([, t]) => tf.all(tf.isFinite(t)).cast('float32'))).dataSync());
  entries.forEach(([name], i) => {
    if (flags[i] !== 1) throw new Error(`${what}: ${name} contains non-finite values (NaN or Infinity)`);
  });
}

export function validateChunk(chunkSize: number | undefined, what: string): void {
  if (chunkSize === undefined) return;
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
    throw new Error(`${what}: chunkSize must be a positive integer, got ${chunkSize}`);
  }
}

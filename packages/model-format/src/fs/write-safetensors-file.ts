// Streams a safetensors file to disk tensor by tensor (never builds the whole file in memory).
import { planSafetensors } from '../safetensors.js';
import type { RawTensor } from '../dtype.js';
import type { WriteOptions } from '../safetensors.js';
import { writeFileAtomic } from './atomic.js';

function* chunks(tensors: Map<string, RawTensor> | Record<string, RawTensor>, metadata?: Record<string, string>, opts?: WriteOptions): Generator<Uint8Array> {
  const plan = planSafetensors(tensors, metadata, opts);
  yield plan.header;
  for (const [, t] of plan.entries) yield t.data;
}

/** Writes a safetensors file atomically (temp file + rename), streaming each tensor's bytes. */
export async function writeSafetensorsFile(path: string, tensors: Map<string, RawTensor> | Record<string, RawTensor>, metadata?: Record<string, string>, opts?: WriteOptions): Promise<void> {
  const it = chunks(tensors, metadata, opts);
  const first = it.next(); // validate before touching the disk
  await writeFileAtomic(path, (function* () {
    if (!first.done) yield first.value;
    yield* it;
  })());
}

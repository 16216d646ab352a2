// Synchronous GPU -> CPU reads (tensor.dataSync / arraySync) for tfjs-backend-webgpu on Dawn in Node.
//
// tfjs-backend-webgpu 4.22 implements readSync by drawing the buffer into OffscreenCanvas contexts, which exist only
// in browsers: in Node every dataSync() of a GPU-computed tensor throws "OffscreenCanvas is not defined". The
// training stack reads scalars synchronously (loss, global gradient norm, id range checks), so webgpu in Node needs a
// working readSync.
//
// Dawn's Node binding completes a mapAsync only inside wgpuInstanceProcessEvents, which it runs from a native
// callback it hands to the global setImmediate (AsyncRunner::ScheduleProcessEvents) while any async task is waiting.
// We wrap setImmediate to remember that native callback and, in readSync, call it synchronously until the staging
// buffer is mapped. Dawn sets the buffer's state to mapped inside the map callback, so getMappedRange() works at
// once, without waiting for the promise (which settles later, harmlessly).
import * as tf from '@tensorflow/tfjs';
import { promisify } from 'node:util';

type Tick = () => void;
type SetImmediate = typeof globalThis.setImmediate;

const WRAPPED = Symbol.for('duet.dawnTickCapture');
let lastTick: Tick | undefined;

/** Dawn schedules its event pump as an anonymous native function (not a user closure, not a bound function). */
function isDawnTick(fn: unknown): fn is Tick {
  return typeof fn === 'function' && fn.name === '' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
}

/** Wraps globalThis.setImmediate (once) to capture Dawn's event-pump callback. Must run before Dawn's first async task. */
export function installDawnTickCapture(): void {
  const current = globalThis.setImmediate as SetImmediate & { [WRAPPED]?: true };
  if (current[WRAPPED]) return;
  const orig = current;
  const wrapped = function setImmediate(fn: (...a: unknown[]) => void, ...args: unknown[]) {
    if (isDawnTick(fn)) lastTick = fn;
    return orig(fn, ...args);
  } as unknown as SetImmediate & { [WRAPPED]?: true };
  Object.defineProperty(wrapped, promisify.custom, { value: (orig as unknown as Record<symbol, unknown>)[promisify.custom], configurable: true });
  wrapped[WRAPPED] = true;
  globalThis.setImmediate = wrapped;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Runs Dawn's event pump synchronously until `done()` (or throws after `timeoutMs`). */
export function pumpDawnUntil(done: () => boolean, what: string, timeoutMs = 600_000): void {
  const deadline = performance.now() + timeoutMs;
  let spins = 0;
  while (!done()) {
    if (!lastTick) throw new Error(`${what}: Dawn's event pump was not captured (installDawnTickCapture must run before the first GPU operation)`);
    lastTick();
    if (done()) return;
    if (performance.now() > deadline) throw new Error(`${what}: the GPU did not finish within ${timeoutMs / 1000} s`);
    // Spin briefly for short waits, then yield the core in 50 µs naps (a GPU step can take seconds on llvmpipe).
    if (++spins > 64) Atomics.wait(sleeper, 0, 0, 0.05);
  }
}

interface TensorData {
  values: tf.backend_util.BackendValues | null;
  dtype: tf.DataType;
  shape: number[];
  resource: GPUBuffer | null;
  complexTensorInfos?: { real: { dataId: object }; imag: { dataId: object } };
}

interface WebGpuBackendInternals {
  tensorMap: { get(dataId: object): TensorData | undefined };
  bufferManager: { acquireBuffer(size: number, usage: number): GPUBuffer; releaseBuffer(b: GPUBuffer): void };
  commandEncoder: GPUCommandEncoder;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(dataId: object, values: tf.backend_util.BackendValues): void;
  readSync(dataId: object): tf.backend_util.BackendValues;
}

/** Copies a GPU buffer into a mappable staging buffer and reads it synchronously. */
export function readBufferSync(backend: WebGpuBackendInternals, buffer: GPUBuffer): ArrayBuffer {
  const size = buffer.size;
  const staging = backend.bufferManager.acquireBuffer(size, GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ);
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.commandEncoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
  backend.submitQueue();
  let failed: unknown;
  staging.mapAsync(GPUMapMode.READ).catch((e: unknown) => (failed = e));
  pumpDawnUntil(() => staging.mapState === 'mapped' || staging.mapState === 'unmapped', 'webgpu readSync');
  if (staging.mapState !== 'mapped') throw new Error(`webgpu readSync: mapping the staging buffer failed${failed ? `: ${String(failed)}` : ''}`);
  const values = staging.getMappedRange().slice(0);
  staging.unmap();
  backend.bufferManager.releaseBuffer(staging);
  return values;
}

/** Replaces `backend.readSync` (the OffscreenCanvas path) with a Dawn-pumped synchronous buffer read. */
export function patchReadSync(backendObj: unknown): void {
  const backend = backendObj as WebGpuBackendInternals;
  backend.readSync = function readSync(dataId: object): tf.backend_util.BackendValues {
    const data = backend.tensorMap.get(dataId);
    if (!data) throw new Error(`webgpu readSync: tensor data ${String(dataId)} is not registered (disposed?)`);
    if (data.values != null || data.dtype === 'string') return data.values!;
    let vals: tf.backend_util.BackendValues;
    if (data.dtype === 'complex64') {
      const re = readSync(data.complexTensorInfos!.real.dataId) as Float32Array;
      const im = readSync(data.complexTensorInfos!.imag.dataId) as Float32Array;
      vals = tf.backend_util.mergeRealAndImagArrays(re, im);
    } else {
      if (!data.resource) throw new Error('webgpu readSync: tensor has neither CPU values nor a GPU buffer');
      vals = tf.util.convertBackendValuesAndArrayBuffer(readBufferSync(backend, data.resource), data.dtype) as tf.backend_util.BackendValues;
    }
    backend.convertAndCacheOnCPU(dataId, vals);
    return vals;
  };
}

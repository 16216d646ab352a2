// One unit of loader work: decode an ImageSource and transform it. Shared by the worker threads and the
// synchronous (workers = 0) path so both give identical pixels.
import { decodeImageSource } from './decode.js';
import type { SampleTransform } from './image-transform.js';
import type { ImageSource } from './types.js';

export interface JobResult { ok: true; pixels: Float32Array; width: number; height: number }
export interface JobFailure { ok: false; error: string }

export async function runSampleJob(source: ImageSource, seed: number, transform: SampleTransform): Promise<JobResult | JobFailure> {
  try {
    const img = await decodeImageSource(source);
    if (!img.width || !img.height) throw new Error(`corrupt image: empty ${img.width}x${img.height}`);
    const pixels = await transform(img, seed);
    return { ok: true, pixels, width: img.width, height: img.height };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { ok: false, error: /^(missing|corrupt) image:/.test(msg) ? msg : `transform failed: ${msg}` };
  }
}

// Decoding image files/bytes for the embedder, with errors that say which input failed.
import { decodeImage, type RawImage } from '@duet/preprocess/node';
import { InferenceError } from '../runtime/errors.js';

export async function decodeImages(inputs: (string | Uint8Array)[]): Promise<RawImage[]> {
  if (!Array.isArray(inputs)) throw new InferenceError('images: expected an array of file paths or encoded image bytes');
  const out: RawImage[] = [];
  for (let i = 0; i < inputs.length; i++) {
    try {
      out.push(await decodeImage(inputs[i]!));
    } catch (e) {
      const what = typeof inputs[i] === 'string' ? JSON.stringify(inputs[i]) : `${(inputs[i] as Uint8Array)?.byteLength ?? 0} bytes`;
      throw new InferenceError(`images[${i}] (${what}): cannot be decoded as an image (${(e as Error).message})`);
    }
  }
  return out;
}

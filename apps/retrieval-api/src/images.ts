// Image inputs: multipart files or base64 strings (optionally data: URLs), size-checked before decoding and
// pixel-checked from the header (decompression bombs), decoded with @duet/preprocess (sharp).
import { decodeImage, type RawImage } from '@duet/preprocess/node';
import { ApiError } from './errors.js';
import type { Limits } from './options.js';

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Decodes a base64 image string to bytes, checking the size limit from the string length first. */
export function base64Bytes(s: string, what: string, limits: Limits): Uint8Array {
  const body = s.startsWith('data:') ? s.slice(s.indexOf(',') + 1) : s;
  const clean = body.replace(/\s+/g, '');
  if (clean.length === 0 || !BASE64.test(clean)) throw new ApiError(400, 'invalid_image', `${what}: expected a base64-encoded image`);
  if (Math.floor((clean.length * 3) / 4) > limits.maxImageBytes + 3) {
    throw new ApiError(413, 'image_too_large', `${what}: the image is larger than ${limits.maxImageBytes} bytes`);
  }
  return new Uint8Array(Buffer.from(clean, 'base64'));
}

export async function decodeChecked(bytes: Uint8Array, what: string, limits: Limits): Promise<RawImage> {
  if (bytes.byteLength > limits.maxImageBytes) throw new ApiError(413, 'image_too_large', `${what}: ${bytes.byteLength} bytes exceeds the limit of ${limits.maxImageBytes}`);
  try {
    return await decodeImage(bytes, { maxPixels: limits.maxImagePixels, maxBytes: limits.maxImageBytes });
  } catch (e) {
    const msg = (e as Error).message.replace(/^decodeImage <\d+ bytes>: /, '');
    if (/exceeds the limit of \d+ pixels/.test(msg)) throw new ApiError(413, 'too_many_pixels', `${what}: ${msg}`);
    throw new ApiError(400, 'invalid_image', `${what}: ${msg}`);
  }
}

/** Images from multipart files (field `fileField`) or base64 strings. */
export async function collectImages(files: Express.Multer.File[] | undefined, base64: string[] | undefined, limits: Limits): Promise<RawImage[]> {
  const out: RawImage[] = [];
  if (files?.length) {
    for (const [i, f] of files.entries()) out.push(await decodeChecked(new Uint8Array(f.buffer), `images[${i}] (${f.originalname || f.fieldname})`, limits));
  }
  if (base64?.length) {
    for (const [i, s] of base64.entries()) out.push(await decodeChecked(base64Bytes(s, `images[${i}]`, limits), `images[${i}]`, limits));
  }
  return out;
}

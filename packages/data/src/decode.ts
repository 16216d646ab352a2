// Decoding an ImageSource to RGB pixels with sharp (PIL's Image.open(...).convert('RGB') semantics: no EXIF
// rotation, alpha dropped, greyscale expanded to three channels). Errors keep the file name for the skip report.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { ImageSource, RawImage } from './types.js';

/** Error with a skip category ("missing image" | "corrupt image"). */
export class ImageDecodeError extends Error {
  constructor(readonly category: 'missing image' | 'corrupt image', message: string) {
    super(`${category}: ${message}`);
  }
}

export async function decodeImageBytes(bytes: Uint8Array): Promise<RawImage> {
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
  } catch (e) {
    throw new ImageDecodeError('corrupt image', e instanceof Error ? e.message : String(e));
  }
}

export async function decodeImageSource(src: ImageSource): Promise<RawImage> {
  if (src.kind === 'raw') return src.image;
  if (src.kind === 'bytes') return decodeImageBytes(src.bytes);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(src.path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImageDecodeError(code === 'ENOENT' ? 'missing image' : 'corrupt image', `${src.path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return decodeImageBytes(bytes);
}

/** Width/height from the header only (for dataset inspection). */
export async function probeImageSource(src: ImageSource): Promise<{ width: number; height: number; channels: number; format: string }> {
  if (src.kind === 'raw') return { width: src.image.width, height: src.image.height, channels: src.image.channels, format: 'raw' };
  const input = src.kind === 'bytes' ? src.bytes : src.path;
  try {
    const m = await sharp(input).metadata();
    if (!m.width || !m.height) throw new Error('no dimensions in header');
    return { width: m.width, height: m.height, channels: m.channels ?? 0, format: m.format ?? 'unknown' };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new ImageDecodeError(/missing|no such file|ENOENT/i.test(msg) ? 'missing image' : 'corrupt image', src.kind === 'file' ? `${src.path}: ${msg}` : msg);
  }
}

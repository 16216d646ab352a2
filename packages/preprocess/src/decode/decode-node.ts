// Node image decoding with sharp (JPEG, PNG, WebP, GIF, AVIF, TIFF, SVG...): EXIF orientation applied
// (as transformers' load_image does), output 8-bit sRGB, HWC interleaved.
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import type { RawImage } from '../image/raw-image.js';

export interface DecodeOptions {
  /** Reject images with more pixels than this (decompression bombs). Default 100 megapixels. */
  maxPixels?: number;
  /** Reject inputs larger than this many bytes. Default 256 MiB. */
  maxBytes?: number;
}

export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

const DEFAULT_MAX_PIXELS = 100_000_000;
const DEFAULT_MAX_BYTES = 256 * 2 ** 20;

/** Decodes encoded image bytes, or the file at `path`, to a RawImage (1, 3 or 4 channels). */
export async function decodeImage(input: Uint8Array | ArrayBuffer | string, opts: DecodeOptions = {}): Promise<RawImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const label = typeof input === 'string' ? input : `<${input.byteLength} bytes>`;
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    try {
      bytes = await readFile(input);
    } catch (e) {
      throw new ImageDecodeError(`decodeImage ${label}: cannot read file (${(e as Error).message})`);
    }
  } else {
    bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  }
  if (bytes.byteLength === 0) throw new ImageDecodeError(`decodeImage ${label}: input is empty`);
  if (bytes.byteLength > maxBytes) throw new ImageDecodeError(`decodeImage ${label}: ${bytes.byteLength} bytes exceeds the limit of ${maxBytes}`);
  let meta: Metadata;
  try {
    // Header only: dimensions are checked before any pixel is decoded.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageDecodeError(`decodeImage ${label}: not a decodable image (${(e as Error).message})`);
  }
  if (!meta.width || !meta.height) throw new ImageDecodeError(`decodeImage ${label}: not a decodable image (no dimensions)`);
  if (meta.width * meta.height > maxPixels) {
    throw new ImageDecodeError(`decodeImage ${label}: ${meta.width}x${meta.height} exceeds the limit of ${maxPixels} pixels`);
  }
  try {
    let pipeline = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error', pages: 1 }).autoOrient();
    // Grey without alpha stays 1 channel; everything else (grey+alpha, CMYK, 16-bit, Lab...) becomes 8-bit sRGB(A)
    // (sharp's b-w output would drop the alpha channel).
    const grey = (meta.space === 'b-w' || meta.space === 'grey16') && !meta.hasAlpha;
    pipeline = pipeline.toColourspace(grey ? 'b-w' : 'srgb');
    const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (info.channels === 2) return greyAlphaToRgba(pixels, info.width, info.height);
    if (info.channels !== 1 && info.channels !== 3 && info.channels !== 4) throw new Error(`unsupported channel count ${info.channels}`);
    return { data: pixels, width: info.width, height: info.height, channels: info.channels };
  } catch (e) {
    throw new ImageDecodeError(`decodeImage ${label}: not a decodable image (${(e as Error).message})`);
  }
}

function greyAlphaToRgba(src: Uint8Array, width: number, height: number): RawImage {
  const n = width * height;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    out[4 * i] = out[4 * i + 1] = out[4 * i + 2] = src[2 * i]!;
    out[4 * i + 3] = src[2 * i + 1]!;
  }
  return { data: out, width, height, channels: 4 };
}

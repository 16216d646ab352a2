// Browser decoding: createImageBitmap (EXIF orientation applied, no colour-space conversion, no alpha
// premultiplication) drawn into an OffscreenCanvas; returns RGBA.
import type { RawImage } from '../image/raw-image.js';

export interface BlobDecodeOptions {
  /** Reject images with more pixels than this. Default 100 megapixels. */
  maxPixels?: number;
}

export async function decodeImageBlob(blob: Blob, opts: BlobDecodeOptions = {}): Promise<RawImage> {
  const maxPixels = opts.maxPixels ?? 100_000_000;
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') {
    throw new Error('decodeImageBlob: needs createImageBitmap and OffscreenCanvas (a browser or worker); in Node use decodeImage from @duet/preprocess/node');
  }
  if (!blob || typeof blob.size !== 'number' || blob.size === 0) throw new Error('decodeImageBlob: the blob is empty');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch (e) {
    throw new Error(`decodeImageBlob: not a decodable image (${blob.type || 'unknown type'}, ${blob.size} bytes): ${(e as Error).message}`);
  }
  try {
    const { width, height } = bitmap;
    if (!width || !height) throw new Error(`decodeImageBlob: image has no pixels (${width}x${height})`);
    if (width * height > maxPixels) throw new Error(`decodeImageBlob: ${width}x${height} exceeds the limit of ${maxPixels} pixels`);
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('decodeImageBlob: no 2d context on OffscreenCanvas');
    ctx.drawImage(bitmap, 0, 0);
    const { data } = ctx.getImageData(0, 0, width, height);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, channels: 4 };
  } finally {
    bitmap.close();
  }
}

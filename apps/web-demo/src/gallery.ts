// The demo gallery on the wire: one JSON header (name, size, image geometry, optional labels + class names) and
// one packed binary of the images ([N, H, W, C] uint8, row-major), so 1000 Fashion-MNIST images are two requests.
import type { RawImage } from '@duet/preprocess';

export interface GalleryHeader {
  name: string;
  count: number;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  /** Class index per image (optional: user galleries have none). */
  labels?: number[];
  classNames?: string[];
}

export interface GalleryItem {
  id: string;
  image: RawImage;
  /** Class name when known. */
  label?: string;
  /** A displayable URL (object URL of a dropped file); packed images are drawn from `image`. */
  src?: string;
}

export class GalleryError extends Error {
  override name = 'GalleryError';
}

/** Validates a header (from JSON) before any bytes are interpreted. */
export function parseGalleryHeader(json: unknown): GalleryHeader {
  const h = json as Partial<GalleryHeader> | null;
  const int = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
  if (!h || typeof h !== 'object') throw new GalleryError('gallery header: expected a JSON object');
  if (typeof h.name !== 'string' || !h.name) throw new GalleryError('gallery header: "name" must be a non-empty string');
  if (!int(h.count) || !int(h.width) || !int(h.height)) throw new GalleryError(`gallery header: count, width and height must be positive integers, got ${h.count}, ${h.width}, ${h.height}`);
  if (h.channels !== 1 && h.channels !== 3 && h.channels !== 4) throw new GalleryError(`gallery header: channels must be 1, 3 or 4, got ${h.channels}`);
  if (h.labels !== undefined) {
    if (!Array.isArray(h.labels) || h.labels.length !== h.count) throw new GalleryError(`gallery header: expected ${h.count} labels, got ${Array.isArray(h.labels) ? h.labels.length : typeof h.labels}`);
    const n = h.classNames?.length ?? 0;
    if (h.labels.some((l) => !Number.isInteger(l) || l < 0 || l >= n)) throw new GalleryError(`gallery header: every label must index classNames (${n} names)`);
  }
  return h as GalleryHeader;
}

/** Packs same-sized images (+ optional labels) into a header and one byte buffer. */
export function encodeGallery(name: string, images: RawImage[], labels?: { labels: number[]; classNames: string[] }): { header: GalleryHeader; bytes: Uint8Array } {
  if (images.length === 0) throw new GalleryError('encodeGallery: expected at least one image');
  const { width, height, channels } = images[0]!;
  const per = width * height * channels;
  const bytes = new Uint8Array(images.length * per);
  images.forEach((im, i) => {
    if (im.width !== width || im.height !== height || im.channels !== channels) {
      throw new GalleryError(`encodeGallery: image ${i} is ${im.width}x${im.height}x${im.channels}, expected ${width}x${height}x${channels} like image 0`);
    }
    bytes.set(im.data.subarray(0, per), i * per);
  });
  const header: GalleryHeader = { name, count: images.length, width, height, channels };
  if (labels) Object.assign(header, { labels: labels.labels, classNames: labels.classNames });
  return { header: parseGalleryHeader(header), bytes };
}

/** Splits the packed bytes back into items (views, no copies). */
export function decodeGallery(header: GalleryHeader, bytes: Uint8Array): GalleryItem[] {
  const h = parseGalleryHeader(header);
  const per = h.width * h.height * h.channels;
  if (bytes.length !== h.count * per) throw new GalleryError(`gallery "${h.name}": expected ${h.count} x ${h.width}x${h.height}x${h.channels} = ${h.count * per} bytes, got ${bytes.length}`);
  return Array.from({ length: h.count }, (_, i) => ({
    id: `${h.name}-${i}`,
    image: { data: bytes.subarray(i * per, (i + 1) * per), width: h.width, height: h.height, channels: h.channels },
    label: h.labels ? h.classNames![h.labels[i]!] : undefined,
  }));
}

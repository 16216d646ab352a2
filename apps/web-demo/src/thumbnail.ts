// Displayable URLs for gallery items: dropped files keep their object URL; packed images are drawn once to a canvas.
import type { RawImage } from '@duet/preprocess';
import type { GalleryItem } from './gallery.js';

const cache = new WeakMap<GalleryItem, string>();

/** RGBA copy of an HWC image with 1, 3 or 4 channels. */
export function toRgba(img: RawImage): Uint8ClampedArray<ArrayBuffer> {
  const n = img.width * img.height;
  const out = new Uint8ClampedArray(n * 4);
  const c = img.channels;
  for (let i = 0; i < n; i++) {
    const s = i * c;
    out[i * 4] = img.data[s]!;
    out[i * 4 + 1] = img.data[c >= 3 ? s + 1 : s]!;
    out[i * 4 + 2] = img.data[c >= 3 ? s + 2 : s]!;
    out[i * 4 + 3] = c === 4 ? img.data[s + 3]! : 255;
  }
  return out;
}

export function thumbnailUrl(item: GalleryItem): string {
  if (item.src) return item.src;
  let url = cache.get(item);
  if (!url) {
    const { width, height } = item.image;
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d')!.putImageData(new ImageData(toRgba(item.image), width, height), 0, 0);
    url = canvas.toDataURL('image/png');
    cache.set(item, url);
  }
  return url;
}

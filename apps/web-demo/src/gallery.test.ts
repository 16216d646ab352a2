import { describe, it, expect } from 'vitest';
import { decodeGallery, encodeGallery, parseGalleryHeader } from './gallery.js';

const grey = (w: number, h: number, v: number) => ({ data: new Uint8Array(w * h).fill(v), width: w, height: h, channels: 1 as const });

describe('gallery wire format', () => {
  it('round-trips images, labels and class names', () => {
    const { header, bytes } = encodeGallery('g', [grey(2, 3, 7), grey(2, 3, 9)], { labels: [1, 0], classNames: ['a', 'b'] });
    expect(header).toEqual({ name: 'g', count: 2, width: 2, height: 3, channels: 1, labels: [1, 0], classNames: ['a', 'b'] });
    expect(bytes.length).toBe(12);
    const items = decodeGallery(JSON.parse(JSON.stringify(header)), bytes);
    expect(items.map((i) => [i.id, i.label, i.image.data[5]])).toEqual([['g-0', 'b', 7], ['g-1', 'a', 9]]);
  });

  it('rejects mixed sizes, wrong byte counts and malformed headers with messages naming the problem', () => {
    expect(() => encodeGallery('g', [grey(2, 2, 0), grey(3, 2, 0)])).toThrow(/image 1 is 3x2x1, expected 2x2x1/);
    const { header } = encodeGallery('g', [grey(2, 2, 0)]);
    expect(() => decodeGallery(header, new Uint8Array(3))).toThrow(/expected 1 x 2x2x1 = 4 bytes, got 3/);
    expect(() => parseGalleryHeader({ ...header, channels: 2 })).toThrow(/channels must be 1, 3 or 4/);
    expect(() => parseGalleryHeader({ ...header, labels: [5], classNames: ['x'] })).toThrow(/every label must index classNames/);
    expect(() => parseGalleryHeader('<html>')).toThrow(/expected a JSON object/);
  });
});

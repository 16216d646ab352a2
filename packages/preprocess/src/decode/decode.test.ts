import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeImage, ImageDecodeError } from './decode-node.js';
import { decodeImageBlob } from './decode-blob.js';
import { HF_REF } from '../test-util/fixtures.js';

describe('decodeImage (sharp)', () => {
  it('decodes the fixture PNGs from a path and from bytes', async () => {
    const a = await decodeImage(`${HF_REF}preprocess/astronaut.png`);
    expect([a.width, a.height, a.channels, a.data.length]).toEqual([512, 512, 3, 512 * 512 * 3]);
    const { readFile } = await import('node:fs/promises');
    const c = await decodeImage(await readFile(`${HF_REF}preprocess/chelsea.png`));
    expect([c.width, c.height, c.channels]).toEqual([451, 300, 3]);
  });

  it('keeps grey as 1 channel, RGBA as 4, grey+alpha widened to RGBA, and losslessly (PNG)', async () => {
    const raw = Buffer.from([0, 50, 100, 150, 200, 250]);
    const greyPng = await sharp(raw, { raw: { width: 3, height: 2, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    const g = await decodeImage(greyPng);
    expect(g.channels).toBe(1);
    expect(Array.from(g.data)).toEqual(Array.from(raw));
    const rgba = Buffer.from([255, 0, 0, 128, 0, 255, 0, 255]);
    const r = await decodeImage(await sharp(rgba, { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer());
    expect([r.channels, ...r.data]).toEqual([4, ...rgba]);
    const ga = await decodeImage(await sharp(Buffer.from([10, 20, 30, 40]), { raw: { width: 2, height: 1, channels: 2 } }).toColourspace('b-w').png().toBuffer());
    expect([ga.channels, ...ga.data]).toEqual([4, 10, 10, 10, 20, 30, 30, 30, 40]);
  });

  it('decodes JPEGs (4:2:0 and 4:4:4) to exactly the pixels Pillow gives transformers', async () => {
    const { readFileSync } = await import('node:fs');
    const fx = JSON.parse(readFileSync(new URL('./__fixtures__/pillow-jpeg.json', import.meta.url), 'utf8')) as { cases: { jpeg: string; rgb: string }[] };
    expect(fx.cases.length).toBe(2);
    for (const c of fx.cases) {
      const img = await decodeImage(new Uint8Array(Buffer.from(c.jpeg, 'base64')));
      expect([img.width, img.height, img.channels]).toEqual([48, 32, 3]);
      expect(Buffer.from(img.data).equals(Buffer.from(c.rgb, 'base64'))).toBe(true);
    }
  });

  it('applies EXIF orientation (as transformers load_image does)', async () => {
    // 2x1 image stored with orientation 6 (rotate 90° clockwise to display) -> 1x2.
    const jpg = await sharp(Buffer.from([255, 255, 255, 0, 0, 0]), { raw: { width: 2, height: 1, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const img = await decodeImage(jpg);
    expect([img.width, img.height]).toEqual([1, 2]);
  });

  it('rejects undecodable, empty, missing and oversized inputs with clear errors', async () => {
    await expect(decodeImage(new Uint8Array([1, 2, 3, 4, 5]))).rejects.toThrow(ImageDecodeError);
    await expect(decodeImage(new Uint8Array([1, 2, 3]))).rejects.toThrow(/not a decodable image/);
    await expect(decodeImage(new Uint8Array(0))).rejects.toThrow(/input is empty/);
    await expect(decodeImage('/nonexistent/x.png')).rejects.toThrow(/cannot read file/);
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#fff' } }).png().toBuffer();
    await expect(decodeImage(png, { maxPixels: 1000 })).rejects.toThrow(/64x64 exceeds the limit of 1000 pixels/);
    await expect(decodeImage(png, { maxBytes: 10 })).rejects.toThrow(/exceeds the limit of 10/);
    const dir = mkdtempSync(join(tmpdir(), 'duet-decode-'));
    const truncated = png.subarray(0, Math.floor(png.length / 2));
    writeFileSync(join(dir, 'cut.png'), truncated);
    await expect(decodeImage(join(dir, 'cut.png'))).rejects.toThrow(/cut\.png: not a decodable image/);
  });
});

describe('decodeImageBlob (browser path, with stubbed createImageBitmap / OffscreenCanvas)', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('explains what it needs outside a browser', async () => {
    await expect(decodeImageBlob(new Blob([new Uint8Array([1])]))).rejects.toThrow(/createImageBitmap and OffscreenCanvas/);
  });

  it('draws the bitmap and returns RGBA pixels; decoding failures are reported', async () => {
    const pixels = new Uint8ClampedArray([1, 2, 3, 255, 4, 5, 6, 128]);
    const close = vi.fn();
    vi.stubGlobal('createImageBitmap', vi.fn(async (b: Blob) => {
      if (b.size < 2) throw new Error('bad data');
      return { width: 2, height: 1, close };
    }));
    vi.stubGlobal('OffscreenCanvas', class {
      getContext() { return { drawImage: () => undefined, getImageData: () => ({ data: pixels }) }; }
    });
    const img = await decodeImageBlob(new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' }));
    expect(img).toMatchObject({ width: 2, height: 1, channels: 4 });
    expect(Array.from(img.data)).toEqual(Array.from(pixels));
    expect(close).toHaveBeenCalled();
    await expect(decodeImageBlob(new Blob([new Uint8Array([1])], { type: 'image/png' }))).rejects.toThrow(/not a decodable image \(image\/png, 1 bytes\): bad data/);
    await expect(decodeImageBlob(new Blob([new Uint8Array([1, 2])]), { maxPixels: 1 })).rejects.toThrow(/exceeds the limit of 1 pixels/);
  });
});

// RawImage: the decoded-pixel interchange type of Duet (HWC, interleaved, 8 bits per channel).

export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** Throws a clear error unless `img` is a well-formed RawImage. */
export function assertRawImage(img: RawImage, name = 'image'): void {
  if (img == null || typeof img !== 'object') throw new TypeError(`${name}: expected a RawImage { data, width, height, channels }, got ${String(img)}`);
  const { data, width, height, channels } = img;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new TypeError(`${name}: data must be a Uint8Array or Uint8ClampedArray, got ${Object.prototype.toString.call(data)}`);
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`${name}: width and height must be positive integers, got ${width}x${height}`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new RangeError(`${name}: channels must be 1, 3 or 4, got ${String(channels)}`);
  if (data.length !== width * height * channels) {
    throw new RangeError(`${name}: data has ${data.length} bytes, expected ${width}x${height}x${channels} = ${width * height * channels}`);
  }
}

/**
 * Converts to 3-channel RGB as transformers' `convert_to_rgb` (PIL `image.convert("RGB")`) does: grey is
 * replicated and alpha is dropped (not composited; only a few processors, e.g. Idefics2, composite onto white).
 */
export function toRgb(img: RawImage): RawImage {
  if (img.channels === 3) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  const src = img.data;
  if (img.channels === 1) {
    for (let i = 0; i < n; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = src[i]!;
  } else {
    for (let i = 0; i < n; i++) {
      out[3 * i] = src[4 * i]!;
      out[3 * i + 1] = src[4 * i + 1]!;
      out[3 * i + 2] = src[4 * i + 2]!;
    }
  }
  return { data: out, width: img.width, height: img.height, channels: 3 };
}

/** Copies the rectangle [top, top+height) x [left, left+width); parts outside the image are filled with `fill`. */
export function cropImage(img: RawImage, top: number, left: number, height: number, width: number, fill = 0): RawImage {
  const C = img.channels;
  const out = new Uint8Array(width * height * C);
  if (fill !== 0) out.fill(fill);
  const y0 = Math.max(0, top), y1 = Math.min(img.height, top + height);
  const x0 = Math.max(0, left), x1 = Math.min(img.width, left + width);
  if (x1 > x0) {
    for (let y = y0; y < y1; y++) {
      const s = (y * img.width + x0) * C;
      out.set(img.data.subarray(s, s + (x1 - x0) * C), ((y - top) * width + (x0 - left)) * C);
    }
  }
  return { data: out, width, height, channels: C };
}

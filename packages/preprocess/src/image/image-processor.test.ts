import { describe, expect, it } from 'vitest';
import { ImageProcessor, centerCrop } from './image-processor.js';
import { defaultPreprocessorConfig, resolvePreprocessorConfig, normalizeSizeDict } from './preprocessor-config.js';
import { resizeOutputSize } from './output-size.js';
import { toRgb, type RawImage } from './raw-image.js';

const solid = (w: number, h: number, rgb: [number, number, number]): RawImage => {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set(rgb, i * 3);
  return { data, width: w, height: h, channels: 3 };
};

describe('output sizes (transformers image_transforms)', () => {
  it('shortest edge keeps the aspect ratio, truncating the long side', () => {
    expect(resizeOutputSize(300, 451, { shortest_edge: 224 })).toEqual([224, 336]); // int(224 * 451 / 300) = 336
    expect(resizeOutputSize(451, 300, { shortest_edge: 224 })).toEqual([336, 224]);
    expect(resizeOutputSize(512, 512, { shortest_edge: 224 })).toEqual([224, 224]);
  });
  it('height/width squashes; max_height/max_width fits inside; shortest+longest edge caps the long side', () => {
    expect(resizeOutputSize(300, 451, { height: 224, width: 224 })).toEqual([224, 224]);
    expect(resizeOutputSize(300, 600, { max_height: 100, max_width: 100 })).toEqual([50, 100]);
    expect(resizeOutputSize(100, 400, { shortest_edge: 50, longest_edge: 100 })).toEqual([25, 100]);
  });
  it('normalises int and pair sizes like get_size_dict', () => {
    expect(normalizeSizeDict(224, false)).toEqual({ shortest_edge: 224 });
    expect(normalizeSizeDict(224, true)).toEqual({ height: 224, width: 224 });
    expect(normalizeSizeDict([10, 20], true)).toEqual({ height: 10, width: 20 });
    expect(() => normalizeSizeDict({ foo: 1 }, true)).toThrow(/must have height\+width/);
  });
});

describe('preprocessor_config resolution', () => {
  it('fills CLIPImageProcessor / SiglipImageProcessor class defaults for absent fields', () => {
    const clip = resolvePreprocessorConfig({ image_processor_type: 'CLIPImageProcessor' });
    expect(clip.resize).toEqual({ size: { shortest_edge: 224 }, filter: 'bicubic' });
    expect(clip.centerCrop).toEqual({ height: 224, width: 224 });
    expect(clip.normalize?.mean).toEqual([0.48145466, 0.4578275, 0.40821073]);
    const sig = resolvePreprocessorConfig({ image_processor_type: 'SiglipImageProcessor', size: { height: 384, width: 384 } });
    expect(sig.resize?.size).toEqual({ height: 384, width: 384 });
    expect(sig.centerCrop).toBeNull();
    expect(sig.normalize).toEqual({ mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(resolvePreprocessorConfig({ image_processor_type: 'CLIPImageProcessorPil' }).resampleMode).toBe('pil');
  });
  it('defaultPreprocessorConfig round-trips to the expected plan', () => {
    const p = ImageProcessor.fromConfig(defaultPreprocessorConfig('siglip', 32));
    expect(p.outputSize).toEqual({ height: 32, width: 32 });
    expect(ImageProcessor.fromConfig(defaultPreprocessorConfig('clip', 48)).outputSize).toEqual({ height: 48, width: 48 });
    expect(() => defaultPreprocessorConfig('vit' as 'clip', 32)).toThrow(/family must be/);
  });
  it('rejects inconsistent configs with the field named', () => {
    expect(() => resolvePreprocessorConfig({ do_resize: true })).toThrow(/do_resize is true but no size/);
    expect(() => resolvePreprocessorConfig({ do_normalize: true, image_mean: [0.5], image_std: [0] })).toThrow(/image_std must be non-zero/);
    expect(() => resolvePreprocessorConfig({ do_resize: true, size: 32, resample: 11 })).toThrow(/PIL resampling code 11/);
  });
});

describe('ImageProcessor.process', () => {
  it('rescales and normalises per channel into NCHW (closed form)', () => {
    const p = ImageProcessor.fromConfig({ do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.5, 0.25, 0], image_std: [0.5, 0.25, 1] });
    const out = p.process([solid(2, 3, [255, 0, 51])]);
    expect(out.shape).toEqual([1, 3, 3, 2]);
    expect(Array.from(out.pixelValues.subarray(0, 6))).toEqual(Array(6).fill(1));
    expect(Array.from(out.pixelValues.subarray(6, 12))).toEqual(Array(6).fill(-1));
    out.pixelValues.subarray(12).forEach((v) => expect(v).toBeCloseTo(0.2, 6));
  });

  it('converts grey and RGBA to RGB (PIL convert("RGB"): alpha dropped) when do_convert_rgb', () => {
    const p = ImageProcessor.fromConfig({ do_convert_rgb: true, do_rescale: true, rescale_factor: 1 });
    const g = p.process([{ data: new Uint8Array([7, 9]), width: 2, height: 1, channels: 1 }]);
    expect(Array.from(g.pixelValues)).toEqual([7, 9, 7, 9, 7, 9]);
    const rgba = toRgb({ data: new Uint8Array([0, 0, 0, 0, 200, 100, 0, 255]), width: 2, height: 1, channels: 4 });
    expect(Array.from(rgba.data)).toEqual([0, 0, 0, 200, 100, 0]);
  });

  it('batches only same-size outputs, with a clear error otherwise', () => {
    const p = ImageProcessor.fromConfig({ image_processor_type: 'CLIPImageProcessor', size: { shortest_edge: 8 }, do_center_crop: false });
    expect(p.process([solid(16, 8, [1, 2, 3]), solid(32, 16, [1, 2, 3])]).shape).toEqual([2, 3, 8, 16]);
    expect(() => p.process([solid(16, 8, [1, 2, 3]), solid(8, 16, [1, 2, 3])])).toThrow(/images\[1\]: processed to 3x16x8, but images\[0\] gave 3x8x16/);
    expect(() => p.process([])).toThrow(/non-empty array/);
    expect(() => p.process([{ data: new Uint8Array(5), width: 2, height: 2, channels: 3 }])).toThrow(/images\[0\]: data has 5 bytes, expected 2x2x3 = 12/);
  });

  it('centre crop takes the middle and zero-pads small images (torchvision vs numpy placement)', () => {
    const img: RawImage = { data: new Uint8Array([1, 2, 3, 4, 5]), width: 5, height: 1, channels: 1 };
    expect(Array.from(centerCrop(img, 1, 3).data)).toEqual([2, 3, 4]);
    expect(Array.from(centerCrop(img, 1, 8, 'torchvision').data)).toEqual([0, 1, 2, 3, 4, 5, 0, 0]);
    expect(Array.from(centerCrop(img, 1, 8, 'numpy').data)).toEqual([0, 0, 1, 2, 3, 4, 5, 0]);
  });
});

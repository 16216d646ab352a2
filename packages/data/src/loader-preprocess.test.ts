// The loader with the real @duet/preprocess ImageProcessor and TextTokenizer (CLIP conventions), inline and in
// worker threads, with augmentation.
import { describe, expect, it } from 'vitest';
import { ImageProcessor, TextTokenizer, defaultPreprocessorConfig, presetTokenizer } from '@duet/preprocess';
import { createLoader, type Batch } from './loader.js';
import { shapesDataset } from './shapes.js';

async function collect(it: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('createLoader with @duet/preprocess', () => {
  const config = defaultPreprocessorConfig('clip', 24);
  const imageProcessor = ImageProcessor.fromConfig(config);
  const { tokenizerJson, tokenizerConfig } = presetTokenizer('clip');
  const tokenizer = TextTokenizer.fromJSON(tokenizerJson, tokenizerConfig);
  const ds = shapesDataset({ seed: 2, size: 6, imageSize: 40 });

  it('outputs [B,3,24,24] normalised pixels and CLIP token ids; workers match the inline path under augmentation', async () => {
    const opts = { batchSize: 3, seed: 4, imageProcessor, tokenizer, augment: { scale: [0.5, 1] as [number, number] } };
    const inline = await collect(createLoader(ds, { ...opts, workers: 0 }));
    const pooled = await collect(createLoader(ds, { ...opts, workers: 1 }));
    expect(inline.map((b) => b.pixelShape)).toEqual([[3, 3, 24, 24], [3, 3, 24, 24]]);
    expect(inline[0]!.textShape).toEqual([3, 77]);
    expect(inline[0]!.inputIds).toEqual(tokenizer.encode(inline[0]!.captions).inputIds);
    expect(inline[0]!.attentionMask).toEqual(tokenizer.encode(inline[0]!.captions).attentionMask);
    pooled.forEach((b, i) => {
      expect(b.keys).toEqual(inline[i]!.keys);
      expect(Array.from(b.pixelValues)).toEqual(Array.from(inline[i]!.pixelValues));
    });
    // Background (244,244,240) normalised with OpenAI CLIP mean/std lies near (1.78, 1.93, 1.97) in a corner.
    const plain = await collect(createLoader(ds, { batchSize: 6, seed: 4, imageProcessor, tokenizer, workers: 0 }));
    const hw = 24 * 24;
    expect(plain[0]!.pixelValues[0]).toBeCloseTo((244 / 255 - 0.48145466) / 0.26862954, 2);
    expect(plain[0]!.pixelValues[2 * hw]).toBeCloseTo((240 / 255 - 0.40821073) / 0.27577711, 2);
    // Augmentation changes pixels but not the keys' order.
    const aug = await collect(createLoader(ds, { batchSize: 6, seed: 4, imageProcessor, tokenizer, workers: 0, augment: { scale: [0.3, 0.5] } }));
    expect(aug[0]!.keys).toEqual(plain[0]!.keys);
    expect(Array.from(aug[0]!.pixelValues)).not.toEqual(Array.from(plain[0]!.pixelValues));
  });

  it('feeds greyscale Fashion-MNIST through the RGB processor', async () => {
    const { fashionMnist } = await import('./fashion-mnist.js');
    const [b] = await collect(createLoader(fashionMnist({ split: 'test', limit: 4 }), { batchSize: 4, seed: 0, shuffle: false, imageProcessor, tokenizer, workers: 0 }));
    expect(b!.pixelShape).toEqual([4, 3, 24, 24]);
    expect(Array.from(b!.labels!)).toEqual([9, 2, 1, 1]);
    // Grey input: the three channels carry the same intensity (different only through per-channel mean/std).
    const hw = 24 * 24;
    const k = 12 * 24 + 12;
    const grey = (c: number, mean: number, std: number) => b!.pixelValues[c * hw + k]! * std + mean;
    expect(grey(0, 0.48145466, 0.26862954)).toBeCloseTo(grey(1, 0.4578275, 0.26130258), 4);
    expect(grey(0, 0.48145466, 0.26862954)).toBeCloseTo(grey(2, 0.40821073, 0.27577711), 4);
  });
});

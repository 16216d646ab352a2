import { describe, expect, it } from 'vitest';
import { attentionFigureSvg } from './index.js';

const image = { data: new Uint8Array(4 * 4 * 3).fill(200), width: 4, height: 4, channels: 3 };

describe('attentionFigureSvg', () => {
  it('draws one overlay tile per token (heat ∝ weight / the example maximum) with the token labels, escaped', () => {
    // 2×2 patches, 2 tokens: token 0 attends only from patch 3, token 1 evenly.
    const attention = Float32Array.from([0, 0.5, 0, 0.5, 0, 0.5, 1, 0.5]);
    const svg = attentionFigureSvg([{ image, tokens: ['red', '<s>'], attention, grid: 2, title: 'q & a' }], { scale: 2 });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('>red</text>');
    expect(svg).toContain('>&lt;s&gt;</text>');
    expect(svg).toContain('>q &amp; a</text>');
    const overlays = [...svg.matchAll(/fill="rgb\(255,0,0\)" fill-opacity="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(overlays).toEqual([0, 0, 0, 0.75, 0.375, 0.375, 0.375, 0.375]);
  });

  it('rejects an attention map of the wrong size', () => {
    expect(() => attentionFigureSvg([{ image, tokens: ['a'], attention: new Float32Array(3), grid: 2, title: '' }])).toThrow('attention: expected 4×1 values, got 3');
  });
});

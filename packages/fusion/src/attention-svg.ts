// Attention-map figure as SVG (isomorphic; render to PNG with sharp on Node): the image, then one tile per text
// token with that token's attention weight over the image patches as a heat overlay, and the patch × token matrix.
export interface AttentionFigureExample {
  /** RGB(A) or grey image, HWC interleaved. */
  image: { data: ArrayLike<number>; width: number; height: number; channels: number };
  /** Text tokens (display strings) of the question, padding excluded. */
  tokens: string[];
  /** [Np, Nt] attention of each image patch (row-major patch grid) to each token, e.g. averaged over heads. */
  attention: Float32Array;
  /** Patch grid side (Np = grid²). */
  grid: number;
  /** Caption line, e.g. the question, predicted and true answer. */
  title: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function imageRects(img: AttentionFigureExample['image'], x0: number, y0: number, scale: number): string {
  const out: string[] = [];
  const { width: w, height: h, channels: c, data } = img;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * c;
      const [r, g, b] = c >= 3 ? [data[o]!, data[o + 1]!, data[o + 2]!] : [data[o]!, data[o]!, data[o]!];
      out.push(`<rect x="${x0 + x * scale}" y="${y0 + y * scale}" width="${scale}" height="${scale}" fill="rgb(${r},${g},${b})"/>`);
    }
  }
  return out.join('');
}

/**
 * One row per example: the image, one heat overlay per token (opacity ∝ weight / the example's largest weight, so
 * tokens that no patch attends to stay clear), then the patch × token matrix on the same scale.
 */
export function attentionFigureSvg(examples: AttentionFigureExample[], opts: { scale?: number } = {}): string {
  const scale = opts.scale ?? 2;
  const maxTokens = Math.max(1, ...examples.map((e) => e.tokens.length));
  const tile = Math.max(...examples.map((e) => e.image.width)) * scale;
  const gap = 8;
  const rowH = tile + 56;
  const cell = 12;
  const matW = maxTokens * cell;
  const width = gap + (tile + gap) * (maxTokens + 1) + matW + 2 * gap;
  const height = rowH * examples.length + gap;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`, `<rect width="${width}" height="${height}" fill="white"/>`];
  examples.forEach((ex, r) => {
    const y0 = gap + r * rowH + 16;
    const nt = ex.tokens.length;
    const np = ex.grid * ex.grid;
    if (ex.attention.length !== np * nt) throw new Error(`attention: expected ${np}×${nt} values, got ${ex.attention.length}`);
    parts.push(`<text x="${gap}" y="${y0 - 4}">${esc(ex.title)}</text>`);
    parts.push(imageRects(ex.image, gap, y0, scale));
    const patch = (ex.image.width * scale) / ex.grid;
    let max = 0;
    for (const v of ex.attention) max = Math.max(max, v);
    for (let t = 0; t < nt; t++) {
      const x0 = gap + (t + 1) * (tile + gap);
      parts.push(imageRects(ex.image, x0, y0, scale));
      for (let p = 0; p < np; p++) {
        const a = max > 0 ? ex.attention[p * nt + t]! / max : 0;
        parts.push(`<rect x="${(x0 + (p % ex.grid) * patch).toFixed(2)}" y="${(y0 + Math.floor(p / ex.grid) * patch).toFixed(2)}" width="${patch.toFixed(2)}" height="${patch.toFixed(2)}" fill="rgb(255,0,0)" fill-opacity="${(0.75 * a).toFixed(3)}"/>`);
      }
      parts.push(`<text x="${x0 + tile / 2}" y="${y0 + tile + 14}" text-anchor="middle">${esc(ex.tokens[t]!)}</text>`);
    }
    // Patch × token matrix (rows: patches, columns: tokens), same scale.
    const mx = gap + (maxTokens + 1) * (tile + gap) + gap;
    const ch = Math.min(cell, tile / np);
    for (let p = 0; p < np; p++) {
      for (let t = 0; t < nt; t++) {
        const a = max > 0 ? ex.attention[p * nt + t]! / max : 0;
        const v = Math.round(255 * (1 - a));
        parts.push(`<rect x="${mx + t * cell}" y="${(y0 + p * ch).toFixed(2)}" width="${cell}" height="${ch.toFixed(2)}" fill="rgb(255,${v},${v})"/>`);
      }
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}

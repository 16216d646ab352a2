// Target size of the resize step, following transformers' image_transforms helpers.
import type { SizeDict } from './preprocessor-config.js';

/** `get_resize_output_image_size(default_to_square=False)`: shortest edge to `size`, long edge scaled and truncated. */
function shortestEdge(h: number, w: number, size: number, maxSize?: number): [number, number] {
  const [short, long] = w <= h ? [w, h] : [h, w];
  let newShort = size;
  let newLong = Math.trunc((size * long) / short);
  if (maxSize !== undefined && newLong > maxSize) {
    newShort = Math.trunc((maxSize * newShort) / newLong);
    newLong = maxSize;
  }
  return w <= h ? [newLong, newShort] : [newShort, newLong];
}

/** `get_size_with_aspect_ratio` (shortest_edge + longest_edge, DETR-style). */
function shortestLongest(h: number, w: number, size: number, maxSize: number): [number, number] {
  let rawSize: number | null = null;
  const minO = Math.min(h, w), maxO = Math.max(h, w);
  if ((maxO / minO) * size > maxSize) {
    rawSize = (maxSize * minO) / maxO;
    size = Math.round(rawSize); // python round(): ties to even, irrelevant off exact halves
  }
  if ((h <= w && h === size) || (w <= h && w === size)) return [h, w];
  if (w < h) return [rawSize !== null ? Math.trunc((rawSize * h) / w) : Math.trunc((size * h) / w), size];
  return [size, rawSize !== null ? Math.trunc((rawSize * w) / h) : Math.trunc((size * w) / h)];
}

/** [height, width] the resize step produces for an image of h x w. */
export function resizeOutputSize(h: number, w: number, size: SizeDict): [number, number] {
  if (size.shortest_edge && size.longest_edge) return shortestLongest(h, w, size.shortest_edge, size.longest_edge);
  if (size.shortest_edge) return shortestEdge(h, w, size.shortest_edge);
  if (size.max_height && size.max_width) {
    const s = Math.min(size.max_height / h, size.max_width / w);
    return [Math.trunc(h * s), Math.trunc(w * s)];
  }
  if (size.height && size.width) return [size.height, size.width];
  if (size.longest_edge) {
    const s = size.longest_edge / Math.max(h, w);
    return [Math.max(1, Math.round(h * s)), Math.max(1, Math.round(w * s))];
  }
  throw new RangeError(`resize: unsupported size ${JSON.stringify(size)}`);
}

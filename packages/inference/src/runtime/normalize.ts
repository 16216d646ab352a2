// Row-wise L2 normalisation of a flat [B, E] matrix (in place; zero rows stay zero).
export function l2NormalizeRows(data: Float32Array, dim: number): Float32Array {
  for (let off = 0; off < data.length; off += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += data[off + j]! * data[off + j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) data[off + j]! *= inv;
  }
  return data;
}

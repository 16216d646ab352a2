// Dot-product score kernels for a block of rows: out[r * q + qi] = <rows[r], queries[qi]> (row-major [n, q], so a
// native GEMM streams the rows unpacked and only the small query matrix is packed).
// The JS kernel is the isomorphic reference; Node plugs in a native GEMM (onnxruntime) for large batches.

export interface ScoreKernel {
  readonly name: string;
  /** Rows per block this kernel prefers (cache-sized for JS, large for native GEMM). */
  readonly blockRows: number;
  scores(queries: Float32Array, q: number, rows: Float32Array, n: number, dim: number, out: Float32Array): void | Promise<void>;
}

/**
 * Tight Float32Array loops, register-blocked 4 queries x 1 row (each row load feeds 4 dot products) and, for the
 * leftover queries, 1 query x 4 rows (each query load feeds 4). Blocks of 1024 rows (2 MiB at D=512) stay in cache
 * across the query groups.
 */
export const jsScoreKernel: ScoreKernel = {
  name: 'js',
  blockRows: 1024,
  scores(queries, q, rows, n, dim, out) {
    let qi = 0;
    for (; qi + 4 <= q; qi += 4) {
      const o0 = qi * dim;
      const o1 = o0 + dim;
      const o2 = o1 + dim;
      const o3 = o2 + dim;
      for (let r = 0; r < n; r++) {
        const ro = r * dim;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let j = 0; j < dim; j++) {
          const x = rows[ro + j]!;
          s0 += queries[o0 + j]! * x;
          s1 += queries[o1 + j]! * x;
          s2 += queries[o2 + j]! * x;
          s3 += queries[o3 + j]! * x;
        }
        const b = r * q + qi;
        out[b] = s0;
        out[b + 1] = s1;
        out[b + 2] = s2;
        out[b + 3] = s3;
      }
    }
    for (; qi < q; qi++) {
      const oq = qi * dim;
      let r = 0;
      for (; r + 4 <= n; r += 4) {
        const r0 = r * dim;
        const r1 = r0 + dim;
        const r2 = r1 + dim;
        const r3 = r2 + dim;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let j = 0; j < dim; j++) {
          const x = queries[oq + j]!;
          s0 += rows[r0 + j]! * x;
          s1 += rows[r1 + j]! * x;
          s2 += rows[r2 + j]! * x;
          s3 += rows[r3 + j]! * x;
        }
        out[r * q + qi] = s0;
        out[(r + 1) * q + qi] = s1;
        out[(r + 2) * q + qi] = s2;
        out[(r + 3) * q + qi] = s3;
      }
      for (; r < n; r++) {
        const ro = r * dim;
        let s = 0;
        for (let j = 0; j < dim; j++) s += rows[ro + j]! * queries[oq + j]!;
        out[r * q + qi] = s;
      }
    }
  },
};

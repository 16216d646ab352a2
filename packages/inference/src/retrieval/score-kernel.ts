// Dot-product score kernels: out[q * n + r] = <queries[q], rows[r]> for a block of rows.
// The JS kernel is the isomorphic reference; Node plugs in a native GEMM (onnxruntime) for large batches.

export interface ScoreKernel {
  readonly name: string;
  /** Rows per block this kernel prefers (cache/L2-sized for JS, large for native GEMM). */
  readonly blockRows: number;
  scores(queries: Float32Array, q: number, rows: Float32Array, n: number, dim: number, out: Float32Array): void | Promise<void>;
}

/**
 * Tight Float32Array loops, register-blocked over 4 queries so each row is loaded once per 4 dot products.
 * Blocks of 1024 rows at D=512 (2 MiB) stay cache-resident across the query groups.
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
        out[qi * n + r] = s0;
        out[(qi + 1) * n + r] = s1;
        out[(qi + 2) * n + r] = s2;
        out[(qi + 3) * n + r] = s3;
      }
    }
    for (; qi < q; qi++) {
      const oq = qi * dim;
      for (let r = 0; r < n; r++) {
        const ro = r * dim;
        let s0 = 0;
        let s1 = 0;
        let j = 0;
        for (; j + 2 <= dim; j += 2) {
          s0 += queries[oq + j]! * rows[ro + j]!;
          s1 += queries[oq + j + 1]! * rows[ro + j + 1]!;
        }
        if (j < dim) s0 += queries[oq + j]! * rows[ro + j]!;
        out[qi * n + r] = s0 + s1;
      }
    }
  },
};

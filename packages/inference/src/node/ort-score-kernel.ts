// A native GEMM score kernel: onnxruntime-node's MatMul (MLAS, SIMD, multi-threaded) computes queries · rowsᵀ.
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../export/graph-builder.js';
import type { ScoreKernel } from '../retrieval/score-kernel.js';

function gemmModel(): Uint8Array {
  const g = new GraphBuilder('fp32', 'scores');
  const q = g.input('queries', 'float32', ['q', 'dim']);
  const x = g.input('rows', 'float32', ['n', 'dim']);
  // rows [n, D] x queries^T [D, q] -> [n, q]: the large operand streams as A; only the queries are packed.
  g.output(g.op('Gemm', [x, q], { transB: 1 }), 'scores', 'float32', ['n', 'q']);
  return g.toBytes('duet retrieval scores');
}

export async function createOrtScoreKernel(opts: { blockRows?: number; threads?: number } = {}): Promise<ScoreKernel> {
  const session = await ort.InferenceSession.create(gemmModel(), {
    intraOpNumThreads: opts.threads ?? 0,
    graphOptimizationLevel: 'all',
  });
  return {
    name: 'onnxruntime-gemm',
    blockRows: opts.blockRows ?? 65536,
    async scores(queries, q, rows, n, dim, out) {
      const res = await session.run({
        queries: new ort.Tensor('float32', queries.subarray(0, q * dim), [q, dim]),
        rows: new ort.Tensor('float32', rows, [n, dim]),
      });
      const s = res['scores']!;
      out.set(s.data as Float32Array, 0);
      s.dispose();
    },
  };
}

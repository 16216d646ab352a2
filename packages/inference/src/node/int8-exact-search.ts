// Exact top-k over an ExactIndex with an int8 pre-pass: rows are kept as per-row-scaled int8 (1/4 of the bytes),
// scored by onnxruntime's u8s8 MatMulInteger, and every row whose score *upper bound* reaches the k-th best *lower
// bound* is rescored in float32 from the original vectors. The quantisation error bound
//   |x.y - x~.y~| <= ||x - x~|| ||y|| + ||x~|| ||y - y~||
// makes the candidate set provably contain the true top-k, so results equal the float32 reference (same scores,
// ties by lower index); only the bytes scanned shrink.
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import type { ExactIndex, SearchHit } from '../retrieval/exact-index.js';
import { checkK } from '../retrieval/exact-index.js';
import { TopK } from '../retrieval/topk.js';
import { InferenceError } from '../runtime/errors.js';
import { l2NormalizeRows } from '../runtime/normalize.js';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;

/** rows u8 [n, D] (zero point 128) x queries s8 [D, q] -> int32 [n, q]. */
function matMulIntegerModel(dim: number): Uint8Array {
  const vi = (name: string, t: number, dims: (number | string)[]) => ({
    name, type: { tensorType: { elemType: t, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 8, producerName: 'duet', opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'int8_scores',
      node: [{ opType: 'MatMulInteger', input: ['rows', 'queries', 'rows_zp'], output: ['scores'], name: 'mmi' }],
      initializer: [{ name: 'rows_zp', dataType: DT.UINT8, dims: [], rawData: new Uint8Array([128]) }],
      input: [vi('rows', DT.UINT8, ['n', dim]), vi('queries', DT.INT8, [dim, 'q'])],
      output: [vi('scores', DT.INT32, ['n', 'q'])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Symmetric per-row int8: codes (stored +128 as u8 for rows), scale, ||x - x~||, ||x~||. */
function quantizeRow(x: Float32Array, off: number, dim: number, codes: Uint8Array | Int8Array, codeOff: number, shift: number): { scale: number; err: number; norm: number } {
  let max = 0;
  for (let j = 0; j < dim; j++) max = Math.max(max, Math.abs(x[off + j]!));
  const scale = max > 0 ? max / 127 : 1;
  let err = 0;
  let norm = 0;
  for (let j = 0; j < dim; j++) {
    const c = Math.max(-127, Math.min(127, Math.round(x[off + j]! / scale)));
    codes[codeOff + j] = c + shift;
    const d = x[off + j]! - c * scale;
    err += d * d;
    norm += c * scale * c * scale;
  }
  return { scale, err: Math.sqrt(err), norm: Math.sqrt(norm) };
}

export class Int8ExactSearch<M = unknown> {
  private codes = new Uint8Array(0);
  private scale = new Float64Array(0);
  private err = new Float64Array(0);
  private norm = new Float64Array(0);
  private builtAt = -1;
  /** Candidates rescored in float32 by the last search (per query, summed). */
  lastCandidates = 0;

  private constructor(readonly index: ExactIndex<M>, private readonly session: ort.InferenceSession, readonly blockRows: number) {}

  static async create<M>(index: ExactIndex<M>, opts: { blockRows?: number; threads?: number } = {}): Promise<Int8ExactSearch<M>> {
    const session = await ort.InferenceSession.create(matMulIntegerModel(index.dim), { intraOpNumThreads: opts.threads ?? 0 });
    return new Int8ExactSearch(index, session, opts.blockRows ?? 65536);
  }

  /** (Re)builds the int8 copy when the index changed since the last build. */
  sync(): void {
    if (this.builtAt === this.index.version) return;
    const { dim, size } = this.index;
    const v = this.index.vectors;
    this.codes = new Uint8Array(size * dim);
    this.scale = new Float64Array(size);
    this.err = new Float64Array(size);
    this.norm = new Float64Array(size);
    for (let r = 0; r < size; r++) {
      const q = quantizeRow(v, r * dim, dim, this.codes, r * dim, 128);
      this.scale[r] = q.scale;
      this.err[r] = q.err;
      this.norm[r] = q.norm;
    }
    this.builtAt = this.index.version;
  }

  async searchRaw(queries: Float32Array, k: number): Promise<{ indices: Int32Array; scores: Float32Array; q: number }> {
    const { dim, size } = this.index;
    const q = queries.length / dim;
    if (!Number.isInteger(q) || q === 0) throw new InferenceError(`queries: expected a non-empty multiple of dim ${dim} values, got ${queries.length}`);
    checkK(k, size);
    this.sync();
    const qs = this.index.normalize ? l2NormalizeRows(Float32Array.from(queries), dim) : queries;
    // Queries: int8 codes transposed to [D, q], with scale, error and norm for the bound.
    const qCodes = new Int8Array(q * dim);
    const qT = new Int8Array(dim * q);
    const qScale = new Float64Array(q);
    const qErr = new Float64Array(q);
    const qNorm = new Float64Array(q);
    for (let i = 0; i < q; i++) {
      const r = quantizeRow(qs, i * dim, dim, qCodes, i * dim, 0);
      qScale[i] = r.scale;
      qErr[i] = r.err;
      let n = 0;
      for (let j = 0; j < dim; j++) n += qs[i * dim + j]! * qs[i * dim + j]!;
      qNorm[i] = Math.sqrt(n);
      for (let j = 0; j < dim; j++) qT[j * q + i] = qCodes[i * dim + j]!;
    }
    const qTensor = new ort.Tensor('int8', qT, [dim, q]);
    const lowers = Array.from({ length: q }, () => new TopK(k));
    const thr = new Float64Array(q).fill(-Infinity);
    const cands: number[][] = Array.from({ length: q }, () => []);
    const candUpper: number[][] = Array.from({ length: q }, () => []);
    const slack = 1e-5 * dim; // float32 accumulation in the reference scores
    for (let start = 0; start < size; start += this.blockRows) {
      const n = Math.min(this.blockRows, size - start);
      const res = await this.session.run({ rows: new ort.Tensor('uint8', this.codes.subarray(start * dim, (start + n) * dim), [n, dim]), queries: qTensor });
      const dots = res['scores']!.data as Int32Array;
      for (let r = 0; r < n; r++) {
        const row = start + r;
        const rs = this.scale[row]!;
        const re = this.err[row]!;
        const rn = this.norm[row]!;
        const base = r * q;
        for (let i = 0; i < q; i++) {
          const approx = rs * qScale[i]! * dots[base + i]!;
          const bound = re * qNorm[i]! + rn * qErr[i]! + slack;
          const upper = approx + bound;
          if (upper < thr[i]!) continue;
          cands[i]!.push(row);
          candUpper[i]!.push(upper);
          const lower = approx - bound;
          if (lower > thr[i]!) {
            lowers[i]!.pushAnyOrder(lower, row);
            thr[i] = lowers[i]!.threshold;
          }
        }
      }
      res['scores']!.dispose();
    }
    // Rescore the surviving candidates exactly (float32 dot, sequential sum as the reference JS kernel), in row order.
    const indices = new Int32Array(q * k);
    const scores = new Float32Array(q * k);
    const v = this.index.vectors;
    const out = new Float32Array(1);
    this.lastCandidates = 0;
    for (let i = 0; i < q; i++) {
      const top = new TopK(k);
      const rows = cands[i]!;
      const ups = candUpper[i]!;
      const qo = i * dim;
      for (let c = 0; c < rows.length; c++) {
        if (ups[c]! < thr[i]!) continue;
        this.lastCandidates++;
        const ro = rows[c]! * dim;
        let s = 0;
        for (let j = 0; j < dim; j++) s += v[ro + j]! * qs[qo + j]!;
        out[0] = s;
        top.push(out[0]!, rows[c]!);
      }
      indices.set(top.indices, i * k);
      scores.set(top.scores, i * k);
    }
    return { indices, scores, q };
  }

  async search(queries: Float32Array, k: number): Promise<SearchHit<M>[][]> {
    return this.index.hits(await this.searchRaw(queries, k), k);
  }
}

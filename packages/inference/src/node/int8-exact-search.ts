// Exact top-k over an ExactIndex with an int8 pre-pass: rows are kept as per-row-scaled int8 (1/4 of the bytes),
// scored by onnxruntime's u8s8 MatMulInteger (MLAS; VNNI where the CPU has it), and every row whose score *upper
// bound* reaches the k-th best *lower bound* is rescored in float32 from the original vectors. The quantisation
// error bound
//   |x.y - x~.y~| <= ||x - x~|| ||y|| + ||x~|| ||y - y~||
// makes the candidate set provably contain the true top-k, so results equal the float32 reference (same scores,
// ties by lower index); only the bytes scanned (and the multiply-adds' width) shrink.
// Two engines compute the same thing: the native addon (native/duet_scan.c: one fused pass per core with int8
// VNNI/AVX2/portable dot products, the bound filter, candidate collection and the float32 rescoring) when it is
// built, else onnxruntime's MatMulInteger, pipelined (one single-threaded call per core, concurrently) while JS
// filters the finished block.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import type { ExactIndex, SearchHit } from '../retrieval/exact-index.js';
import { checkK } from '../retrieval/exact-index.js';
import { TopK } from '../retrieval/topk.js';
import { InferenceError } from '../runtime/errors.js';
import { l2NormalizeRows } from '../runtime/normalize.js';
import { loadScanNative, SCAN_ISAS, scanNativeUnavailableReason, type ScanIsa, type ScanNative } from './scan-native.js';

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

/**
 * Query code range. x86 u8s8 kernels without VNNI (AVX2 vpmaddubsw) add pairs of u8*s8 products in saturating
 * int16: with |s8| <= 63, 2 * 255 * 63 < 32767 so no pair can saturate. VNNI (and ARM dot products) accumulate in
 * int32 directly, so queries use the full [-127, 127].
 */
export function safeQueryMax(): 63 | 127 {
  if (process.arch !== 'x64' && process.arch !== 'ia32') return 127;
  try {
    return /\b(avx512_vnni|avx_vnni|amx_int8)\b/.test(readFileSync('/proc/cpuinfo', 'utf8')) ? 127 : 63;
  } catch {
    return 63;
  }
}

/**
 * Symmetric int8 quantisation of one row: codes (+shift) in [-qmax, qmax], returns the scale and writes
 * ||x - x~|| and ||x~|| (computed with the scale actually used) into stats[0..1].
 */
function quantizeRow(x: Float32Array, off: number, dim: number, codes: Uint8Array | Int8Array, codeOff: number, shift: number, qmax: number, stats: Float64Array): number {
  let max = 0;
  for (let j = 0; j < dim; j++) {
    const a = Math.abs(x[off + j]!);
    if (a > max) max = a;
  }
  const scale = max > 0 ? max / qmax : 1;
  const inv = 1 / scale;
  let err = 0;
  let norm = 0;
  for (let j = 0; j < dim; j++) {
    const v = x[off + j]!;
    let c = Math.round(v * inv);
    if (c > qmax) c = qmax;
    else if (c < -qmax) c = -qmax;
    codes[codeOff + j] = c + shift;
    const dq = c * scale;
    err += (v - dq) * (v - dq);
    norm += dq * dq;
  }
  stats[0] = Math.sqrt(err);
  stats[1] = Math.sqrt(norm);
  return scale;
}

export interface Int8ExactOptions {
  /** Rows per onnxruntime call (default 16384: an 8 MiB int8 block stays in the last-level cache). */
  blockRows?: number;
  /** onnxruntime intra-op threads per call (default 1: blocks run in parallel instead, see `parallel`). */
  threads?: number;
  /**
   * Blocks scored concurrently (default: the number of cores). Independent single-threaded calls keep every core
   * busy without a per-GEMM barrier, so a core taken by another process delays one block, not all of them.
   */
  parallel?: number;
  /** Query code range (default: safeQueryMax() for this CPU). */
  queryMax?: number;
  /** Extra onnxruntime session options (e.g. `{ extra: { session: { intra_op: { allow_spinning: '0' } } } }`). */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /**
   * 'native' (the C addon; an error when it is not built), 'onnxruntime' (MatMulInteger), or 'auto' (default:
   * native when the addon loads, else onnxruntime). DUET_SCAN_ENGINE sets the default.
   */
  engine?: 'auto' | 'native' | 'onnxruntime';
  /**
   * Instruction set of the native scan (default: DUET_SCAN_ISA, else the best this CPU supports). 'portable' is
   * plain C; every ISA gives the same results (the dot products are exact integers).
   */
  isa?: ScanIsa;
}

/** The native scan's state: stride-padded int8 codes and per-row quantisation statistics. */
interface NativeState {
  native: ScanNative;
  isa: ScanIsa;
  stride: number;
  rowsum: Int32Array;
  rowd: Float64Array;
  rowf: Float32Array;
  codes: Int8Array;
  maxMag: number;
}

/** Growable per-query candidate list (row, upper bound). */
class Candidates {
  rows = new Int32Array(64);
  upper = new Float64Array(64);
  n = 0;
  push(row: number, upper: number): void {
    if (this.n === this.rows.length) {
      const r = new Int32Array(this.n * 2);
      r.set(this.rows);
      const u = new Float64Array(this.n * 2);
      u.set(this.upper);
      this.rows = r;
      this.upper = u;
    }
    this.rows[this.n] = row;
    this.upper[this.n++] = upper;
  }
}

export class Int8ExactSearch<M = unknown> {
  private codes = new Uint8Array(0);
  private scale = new Float64Array(0);
  /** Per block: max ||x - x~|| and max ||x~|| over its rows (the bound uses the block maxima: one test per score). */
  private blockErr = new Float64Array(0);
  private blockNorm = new Float64Array(0);
  private builtAt = -1;
  private outputs: (ort.Tensor | undefined)[] = [];
  /** Candidates rescored in float32 by the last search (summed over queries). */
  lastCandidates = 0;
  /**
   * Wall time of the last search's phases (ms): query quantisation, the int8 scan with the bound filter, the
   * float32 rescoring; for onnxruntime also `filterMs`, the part of the scan spent in the JS filter (the rest is
   * waiting for MatMulInteger).
   */
  lastTimings: { prepareMs: number; scanMs: number; rescoreMs: number; filterMs?: number } = { prepareMs: 0, scanMs: 0, rescoreMs: 0 };

  private constructor(
    readonly index: ExactIndex<M>,
    private readonly session: ort.InferenceSession | undefined,
    private readonly nat: NativeState | undefined,
    readonly blockRows: number,
    readonly queryMax: number,
    readonly parallel: number,
  ) {}

  /** 'native' (C addon) or 'onnxruntime'. */
  get engine(): 'native' | 'onnxruntime' {
    return this.nat ? 'native' : 'onnxruntime';
  }

  /** The dot-product instruction set: the native kernel's, or 'mlas' (onnxruntime's own dispatch). */
  get isa(): ScanIsa | 'mlas' {
    return this.nat?.isa ?? 'mlas';
  }

  static async create<M>(index: ExactIndex<M>, opts: Int8ExactOptions = {}): Promise<Int8ExactSearch<M>> {
    const blockRows = opts.blockRows ?? 16384;
    if (!Number.isInteger(blockRows) || blockRows <= 0) throw new InferenceError(`blockRows: expected a positive integer, got ${blockRows}`);
    const parallel = opts.parallel ?? availableParallelism();
    if (!Number.isInteger(parallel) || parallel < 1 || parallel > 1024) throw new InferenceError(`parallel: expected an integer in [1, 1024], got ${parallel}`);
    const engine = opts.engine ?? (process.env['DUET_SCAN_ENGINE'] as Int8ExactOptions['engine']) ?? 'auto';
    if (!['auto', 'native', 'onnxruntime'].includes(engine)) throw new InferenceError(`engine: expected 'auto', 'native' or 'onnxruntime', got ${JSON.stringify(engine)}`);
    // The native kernel's int32 sums stay exact up to D = 65536 (D x 255 x 127 < 2^31).
    const native = engine !== 'onnxruntime' && index.dim <= 65536 ? await loadScanNative() : undefined;
    if (engine === 'native' && !native) {
      throw new InferenceError(`engine 'native': the int8 scan addon is unavailable (${index.dim > 65536 ? `dim ${index.dim} > 65536` : scanNativeUnavailableReason()})`);
    }
    if (native) {
      const supported = native.isas();
      const isa = opts.isa ?? (process.env['DUET_SCAN_ISA'] as ScanIsa | undefined) ?? supported[supported.length - 1]!;
      if (!SCAN_ISAS.includes(isa)) throw new InferenceError(`isa: expected one of ${SCAN_ISAS.join(', ')}, got ${JSON.stringify(isa)}`);
      if (!supported.includes(isa)) throw new InferenceError(`isa: this CPU does not support ${isa} (supported: ${supported.join(', ')})`);
      const stride = Math.ceil(index.dim / 4) * 4;
      const nat: NativeState = { native, isa, stride, rowsum: new Int32Array(0), rowd: new Float64Array(0), rowf: new Float32Array(0), codes: new Int8Array(0), maxMag: 0 };
      return new Int8ExactSearch(index, undefined, nat, blockRows, 127, parallel);
    }
    const queryMax = opts.queryMax ?? safeQueryMax();
    if (!Number.isInteger(queryMax) || queryMax < 1 || queryMax > 127) throw new InferenceError(`queryMax: expected an integer in [1, 127], got ${queryMax}`);
    const session = await ort.InferenceSession.create(matMulIntegerModel(index.dim), { intraOpNumThreads: opts.threads ?? 1, ...opts.sessionOptions });
    return new Int8ExactSearch(index, session, undefined, blockRows, queryMax, parallel);
  }

  /** (Re)builds the int8 copy when the index changed since the last build. */
  sync(): void {
    if (this.builtAt === this.index.version) return;
    const { dim, size } = this.index;
    if (this.nat) {
      const s = this.nat;
      s.codes = new Int8Array(size * s.stride);
      s.rowsum = new Int32Array(size);
      s.rowd = new Float64Array(size * 3);
      s.rowf = new Float32Array(size * 4);
      s.maxMag = s.native.quantize(this.index.vectors, size, dim, s.stride, s.codes, s.rowsum, s.rowd, s.rowf, this.parallel);
      this.builtAt = this.index.version;
      return;
    }
    const v = this.index.vectors;
    const blocks = Math.ceil(size / this.blockRows);
    this.codes = new Uint8Array(size * dim);
    this.scale = new Float64Array(size);
    this.blockErr = new Float64Array(blocks);
    this.blockNorm = new Float64Array(blocks);
    const st = new Float64Array(2);
    for (let r = 0; r < size; r++) {
      this.scale[r] = quantizeRow(v, r * dim, dim, this.codes, r * dim, 128, 127, st);
      const b = Math.floor(r / this.blockRows);
      if (st[0]! > this.blockErr[b]!) this.blockErr[b] = st[0]!;
      if (st[1]! > this.blockNorm[b]!) this.blockNorm[b] = st[1]!;
    }
    this.builtAt = this.index.version;
  }

  private output(slot: number, n: number, q: number): ort.Tensor {
    let t = this.outputs[slot];
    if (!t || t.dims[0] !== n || t.dims[1] !== q) {
      t = new ort.Tensor('int32', new Int32Array(n * q), [n, q]);
      this.outputs[slot] = t;
    }
    return t;
  }

  async searchRaw(queries: Float32Array, k: number): Promise<{ indices: Int32Array; scores: Float32Array; q: number }> {
    const { dim, size } = this.index;
    const q = queries.length / dim;
    if (!Number.isInteger(q) || q === 0) throw new InferenceError(`queries: expected a non-empty multiple of dim ${dim} values, got ${queries.length}`);
    checkK(k, size);
    this.sync();
    const qs = this.index.normalize ? l2NormalizeRows(Float32Array.from(queries), dim) : queries;
    if (this.nat) {
      const s = this.nat;
      const r = await s.native.search(s.codes, s.rowsum, s.rowd, s.rowf, this.index.vectors, qs, size, dim, s.stride, q, k, this.parallel, SCAN_ISAS.indexOf(s.isa), s.maxMag);
      this.lastCandidates = r.rescored;
      this.lastTimings = { prepareMs: r.msPrepare, scanMs: r.msScan, rescoreMs: r.msRescore };
      return { indices: r.indices, scores: r.scores, q };
    }
    const t0 = performance.now();
    let filterMs = 0;
    // Queries: int8 codes transposed to [D, q], with scale, ||y - y~|| and ||y|| for the bound.
    const qCodes = new Int8Array(q * dim);
    const qT = new Int8Array(dim * q);
    const qScale = new Float64Array(q);
    const qErr = new Float64Array(q);
    const qNorm = new Float64Array(q);
    const st = new Float64Array(2);
    for (let i = 0; i < q; i++) {
      qScale[i] = quantizeRow(qs, i * dim, dim, qCodes, i * dim, 0, this.queryMax, st);
      qErr[i] = st[0]!;
      let n = 0;
      for (let j = 0; j < dim; j++) n += qs[i * dim + j]! * qs[i * dim + j]!;
      qNorm[i] = Math.sqrt(n);
      for (let j = 0; j < dim; j++) qT[j * q + i] = qCodes[i * dim + j]!;
    }
    const qTensor = new ort.Tensor('int8', qT, [dim, q]);
    const lowers = Array.from({ length: q }, () => new TopK(k));
    const thr = new Float64Array(q).fill(-Infinity);
    const bound = new Float64Array(q);
    // A score passes when dot * rowScale >= cut[i] (<=> approx + bound >= threshold): one multiply-compare each.
    const cut = new Float64Array(q);
    const cands = Array.from({ length: q }, () => new Candidates());
    const blocks = Math.ceil(size / this.blockRows);
    const launch = (b: number) => {
      const start = b * this.blockRows;
      const n = Math.min(this.blockRows, size - start);
      const rows = new ort.Tensor('uint8', this.codes.subarray(start * dim, (start + n) * dim), [n, dim]);
      // parallel + 1 output slots: `parallel` calls in flight plus the block JS is filtering.
      return this.session!.run({ rows, queries: qTensor }, { scores: this.output(b % (this.parallel + 1), n, q) });
    };
    const t1 = performance.now();
    const inflight = new Map<number, ReturnType<typeof launch>>();
    for (let b = 0; b < Math.min(this.parallel, blocks); b++) inflight.set(b, launch(b));
    for (let b = 0; b < blocks; b++) {
      const res = await inflight.get(b)!;
      inflight.delete(b);
      if (b + this.parallel < blocks) inflight.set(b + this.parallel, launch(b + this.parallel));
      const start = b * this.blockRows;
      const n = Math.min(this.blockRows, size - start);
      const tf = performance.now();
      const dots = res['scores']!.data as Int32Array;
      // Block bound, plus float32 rounding of the reference scores (relative 2^-24, taken generously).
      const eMax = this.blockErr[b]!;
      const nMax = this.blockNorm[b]!;
      for (let i = 0; i < q; i++) {
        bound[i] = eMax * qNorm[i]! + nMax * qErr[i]! + 1e-6 * (nMax + eMax) * qNorm[i]! + 1e-30;
        cut[i] = (thr[i]! - bound[i]!) / qScale[i]!;
      }
      for (let r = 0; r < n; r++) {
        const row = start + r;
        const rs = this.scale[row]!;
        const base = r * q;
        for (let i = 0; i < q; i++) {
          const d = dots[base + i]! * rs;
          if (d < cut[i]!) continue;
          const approx = d * qScale[i]!;
          const bi = bound[i]!;
          cands[i]!.push(row, approx + bi);
          if (approx - bi > thr[i]!) {
            const t = lowers[i]!;
            t.pushAnyOrder(approx - bi, row);
            thr[i] = t.threshold;
            cut[i] = (thr[i]! - bi) / qScale[i]!;
          }
        }
      }
      filterMs += performance.now() - tf;
    }
    const t2 = performance.now();
    // Rescore the surviving candidates exactly (float32 dot summed in float64, as the JS reference kernel), in row
    // order so ties keep the lower index.
    const indices = new Int32Array(q * k);
    const scores = new Float32Array(q * k);
    const v = this.index.vectors;
    const f32 = new Float32Array(1);
    this.lastCandidates = 0;
    for (let i = 0; i < q; i++) {
      const top = new TopK(k);
      const c = cands[i]!;
      const t = thr[i]!;
      const qo = i * dim;
      for (let j = 0; j < c.n; j++) {
        if (c.upper[j]! < t) continue;
        this.lastCandidates++;
        const ro = c.rows[j]! * dim;
        let s = 0;
        for (let x = 0; x < dim; x++) s += v[ro + x]! * qs[qo + x]!;
        f32[0] = s;
        top.push(f32[0]!, c.rows[j]!);
      }
      indices.set(top.indices, i * k);
      scores.set(top.scores, i * k);
    }
    this.lastTimings = { prepareMs: t1 - t0, scanMs: t2 - t1, rescoreMs: performance.now() - t2, filterMs };
    return { indices, scores, q };
  }

  async search(queries: Float32Array, k: number): Promise<SearchHit<M>[][]> {
    return this.index.hits(await this.searchRaw(queries, k), k);
  }
}

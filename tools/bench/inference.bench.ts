// Inference benchmarks (`npm run bench inference`):
//  1. Embedding throughput (images/s, texts/s) of tiny-siglip and ViT-B-32 (random weights): onnxruntime-node on
//     our ONNX export vs the TensorFlow.js wasm path (@duet/encoders) vs onnxruntime-web (wasm, 1 thread), same
//     batch on every side, interleaved rounds (one call of each side per round) so machine load hits all sides
//     alike; medians over rounds, the speedup is the median of per-round ratios. The ViT-B-32 graph's fusions
//     (onnxruntime's optimised model) are listed.
//  2. Retrieval over N x 512 float32 vectors (default N = 1,000,000): exact top-10 latency (1 query) and QPS
//     (batches of 64) vs the memory-bandwidth floor measured in the same run (512 MiB memcpy, and a multi-threaded
//     native read); usearch HNSW build time, QPS, recall@10.
// Env: DUET_BENCH_N (retrieval rows), DUET_BENCH_HNSW_N (HNSW rows, default min(N, 100000)),
//      DUET_BENCH_QUICK=1 (N = 100000, fewer iterations), DUET_BENCH_SKIP=embed|retrieval,
//      DUET_BENCH_ROUNDS (embedding rounds, default 5), DUET_BENCH_VIT_BATCH (ViT-B-32 batch, default 8),
//      DUET_BENCH_HNSW_M / DUET_BENCH_HNSW_EF_ADD (graph degree and build expansion, default 16 / 128),
//      DUET_BENCH_HNSW_EF_SEARCH (comma-separated search expansions, default 128).
// The int8 exact search runs on both engines (onnxruntime MatMulInteger and the native addon when built);
// DUET_SCAN_ISA=portable|avx2|avx512vnni forces the native kernel's instruction set.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { DualEncoder, getPreset } from '@duet/encoders';
import {
  Collection, ExactIndex, GraphBuilder, HnswIndex, Int8ExactSearch, buildTextModel, buildVisionModel, createOrtScoreKernel, jsScoreKernel, loadOrtWeb, ortNodeModule,
  safeQueryMax, Weights, type OrtModuleLike, type OrtSessionLike,
} from '@duet/inference/node';
import { expectedTensors, fromFloat32, parseModelConfig, readSafetensors, type ModelConfig, type RawTensor } from '@duet/model-format';
import { initBackend, tf } from '@duet/runtime';
import { printTable, writeResult, type Row } from './report.ts';

const QUICK = process.env['DUET_BENCH_QUICK'] === '1';
const SKIP = process.env['DUET_BENCH_SKIP'] ?? '';
const N = Number(process.env['DUET_BENCH_N'] ?? (QUICK ? 100_000 : 1_000_000));
const HNSW_N = Number(process.env['DUET_BENCH_HNSW_N'] ?? Math.min(N, QUICK ? 20_000 : 100_000));
const DIM = 512;
const HNSW_M = Number(process.env['DUET_BENCH_HNSW_M'] ?? 16);
const HNSW_EF_ADD = Number(process.env['DUET_BENCH_HNSW_EF_ADD'] ?? 128);
const HNSW_EF_SEARCH = (process.env['DUET_BENCH_HNSW_EF_SEARCH'] ?? '128').split(',').map(Number);
const ROUNDS = Number(process.env['DUET_BENCH_ROUNDS'] ?? (QUICK ? 3 : 5));
const VIT_BATCH = Number(process.env['DUET_BENCH_VIT_BATCH'] ?? 8);
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const now = () => performance.now();
void Collection;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Random weights for a config (every HF tensor the config implies), N(0, 0.02)-ish; LayerNorm gains around 1. */
function randomTensors(config: ModelConfig): Map<string, RawTensor> {
  const rnd = lcg(1);
  const out = new Map<string, RawTensor>();
  for (const [name, shape] of expectedTensors(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    const ln = /norm|layrnorm/.test(name) && name.endsWith('.weight');
    for (let i = 0; i < n; i++) a[i] = (ln ? 1 : 0) + (rnd() - 0.5) * 0.07;
    if (name === 'logit_scale') a.fill(Math.log(10));
    out.set(name, fromFloat32(a, shape));
  }
  return out;
}

/** One side of the embedding comparison: a callable that embeds one batch of images / texts. */
interface Side {
  name: string;
  image(): Promise<void>;
  text(): Promise<void>;
  dispose(): Promise<void>;
}

function ortSide(name: string, ort: OrtModuleLike, vs: OrtSessionLike, ts: OrtSessionLike, config: ModelConfig, bImg: number, bTxt: number): Side {
  const v = config.vision_config;
  const px = new Float32Array(bImg * v.num_channels * v.image_size * v.image_size).map((_, i) => Math.sin(i));
  const L = config.text_config.max_position_embeddings;
  const ids = BigInt64Array.from({ length: bTxt * L }, (_, i) => BigInt(i % 100));
  const mask = new BigInt64Array(bTxt * L).fill(1n);
  const feedsT: Record<string, unknown> = { input_ids: new ort.Tensor('int64', ids, [bTxt, L]) };
  if (ts.inputNames.includes('attention_mask')) feedsT['attention_mask'] = new ort.Tensor('int64', mask, [bTxt, L]);
  return {
    name,
    image: async () => void (await vs.run({ pixel_values: new ort.Tensor('float32', px, [bImg, v.num_channels, v.image_size, v.image_size]) })),
    text: async () => void (await ts.run(feedsT as never)),
    dispose: async () => {
      await vs.release?.();
      await ts.release?.();
    },
  };
}

function tfjsSide(raw: Record<string, unknown>, config: ModelConfig, tensors: Map<string, RawTensor>, bImg: number, bTxt: number): Side {
  const enc = DualEncoder.fromTensors(raw, tensors);
  const v = config.vision_config;
  const L = config.text_config.max_position_embeddings;
  const px = tf.tensor4d(new Float32Array(bImg * v.num_channels * v.image_size * v.image_size).map((_, i) => Math.sin(i)), [bImg, v.num_channels, v.image_size, v.image_size]);
  const ids = tf.tensor2d(Int32Array.from({ length: bTxt * L }, (_, i) => i % 100), [bTxt, L], 'int32');
  const run = async (f: () => tf.Tensor) => {
    const t = f();
    await t.data();
    t.dispose();
  };
  return {
    name: `tfjs-${tf.getBackend()}`,
    image: () => run(() => enc.encodeImage(px)),
    text: () => run(() => enc.encodeText(ids)),
    dispose: async () => {
      px.dispose();
      ids.dispose();
      enc.dispose();
    },
  };
}

/** Op counts of onnxruntime's optimised graph (domain:op), to see which fusions fired. */
async function fusedOps(vision: Uint8Array): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'duet-bench-opt-'));
  const path = join(dir, 'vision.opt.onnx');
  const s = await ortNodeModule.InferenceSession.create(vision, { graphOptimizationLevel: 'all', optimizedModelFilePath: path, logSeverityLevel: 3 } as never);
  await s.release?.();
  const m = onnxProto.onnx.ModelProto.decode(readFileSync(path));
  rmSync(dir, { recursive: true, force: true });
  const counts = new Map<string, number>();
  for (const n of m.graph?.node ?? []) {
    const k = `${n.domain ? `${n.domain}:` : ''}${n.opType}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${c}`).join(', ');
}

async function embeddingBench(): Promise<{ rows: Row[]; vitOptimizedOps: string }> {
  const fixture = join(import.meta.dirname, '../../../shared/fixtures/hf-reference/tiny-siglip');
  const models: { name: string; raw: Record<string, unknown>; tensors: () => Map<string, RawTensor>; bImg: number; bTxt: number }[] = [
    {
      name: 'tiny-siglip',
      raw: JSON.parse(readFileSync(join(fixture, 'config.json'), 'utf8')),
      tensors: () => readSafetensors(readFileSync(join(fixture, 'model.safetensors'))).tensors,
      bImg: 64, bTxt: 64,
    },
    { name: 'ViT-B-32', raw: getPreset('ViT-B-32'), tensors: () => randomTensors(parseModelConfig(getPreset('ViT-B-32'))), bImg: VIT_BATCH, bTxt: VIT_BATCH },
  ];
  const rows: Row[] = [];
  let vitOptimizedOps = '';
  await initBackend({ backend: 'wasm' });
  const web = await loadOrtWeb({ numThreads: 1 });
  const opts = { graphOptimizationLevel: 'all', executionMode: 'sequential' } as const;
  for (const m of models) {
    const config = parseModelConfig(m.raw);
    const tensors = m.tensors();
    const w = new Weights(tensors);
    const text = buildTextModel(config, w);
    const vision = buildVisionModel(config, w);
    if (m.name === 'ViT-B-32') vitOptimizedOps = await fusedOps(vision);
    // onnxruntime-node: intra-op threads default to the physical cores; fp32; full graph optimisation.
    const sides: Side[] = [
      ortSide('ort-node', ortNodeModule, await ortNodeModule.InferenceSession.create(vision, opts), await ortNodeModule.InferenceSession.create(text, opts), config, m.bImg, m.bTxt),
      tfjsSide(m.raw, config, tensors, m.bImg, m.bTxt),
      // One intra-op thread, like the tfjs wasm side: the per-core kernel speedup, less sensitive to other load.
      ortSide('ort-node-1t', ortNodeModule, await ortNodeModule.InferenceSession.create(vision, { ...opts, intraOpNumThreads: 1 }),
        await ortNodeModule.InferenceSession.create(text, { ...opts, intraOpNumThreads: 1 }), config, m.bImg, m.bTxt),
      ortSide('ort-web', web, await web.InferenceSession.create(vision, opts), await web.InferenceSession.create(text, opts), config, m.bImg, m.bTxt),
    ];
    for (const side of sides) {
      await side.image(); // warm-up
      await side.text();
    }
    const img: Record<string, number[]> = {};
    const txt: Record<string, number[]> = {};
    const load0 = load();
    for (let r = 0; r < ROUNDS; r++) {
      for (const side of sides) {
        let t0 = now();
        await side.image();
        (img[side.name] ??= []).push((m.bImg * 1000) / (now() - t0));
        t0 = now();
        await side.text();
        (txt[side.name] ??= []).push((m.bTxt * 1000) / (now() - t0));
      }
      console.log(`[embed] ${m.name} round ${r + 1}/${ROUNDS}: ` + sides.map((s) => `${s.name} ${img[s.name]!.at(-1)!.toFixed(1)} img/s ${txt[s.name]!.at(-1)!.toFixed(1)} txt/s`).join(', '));
    }
    const tf = sides[1]!.name; // tfjs-wasm
    const ratio = (xs: Record<string, number[]>, side = 'ort-node') => median(xs[side]!.map((v, i) => v / xs[tf]![i]!));
    rows.push({
      model: m.name, 'batch img/txt': `${m.bImg}/${m.bTxt}`, rounds: ROUNDS, 'load before/after': `${load0} / ${load()}`,
      'ort-node img/s': median(img['ort-node']!), [`${tf} img/s`]: median(img[tf]!), 'ort-web img/s': median(img['ort-web']!),
      'ort-node txt/s': median(txt['ort-node']!), [`${tf} txt/s`]: median(txt[tf]!), 'ort-web txt/s': median(txt['ort-web']!),
      'img speedup ort/tfjs (median)': ratio(img), 'img speedup min..max': `${Math.min(...img['ort-node']!.map((v, i) => v / img[tf]![i]!)).toFixed(2)}..${Math.max(...img['ort-node']!.map((v, i) => v / img[tf]![i]!)).toFixed(2)}`,
      'txt speedup ort/tfjs (median)': ratio(txt),
      'ort-node-1t img/s': median(img['ort-node-1t']!), 'ort-node-1t txt/s': median(txt['ort-node-1t']!),
      'img speedup 1 thread': ratio(img, 'ort-node-1t'), 'txt speedup 1 thread': ratio(txt, 'ort-node-1t'),
    });
    for (const side of sides) await side.dispose();
  }
  printTable(`Embedding throughput, medians of ${ROUNDS} interleaved rounds (tfjs backend: wasm, ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'mt' : 'st'}; target ort-node >= 5x tfjs-wasm on ViT-B-32)`, rows);
  console.log(`ViT-B-32 vision graph after onnxruntime optimisation: ${vitOptimizedOps}`);
  return { rows, vitOptimizedOps };
}

/**
 * Clustered unit vectors (1000 directions + uniform noise), closer to real embeddings than isotropic noise: with
 * NOISE = 0.05 (unit centres, D = 512) a point's cosine to its centre is about 0.84 and to its cluster-mates about 0.7.
 */
const NOISE = Number(process.env['DUET_BENCH_NOISE'] ?? 0.05);
function clusteredVectors(n: number, dim: number, seed: number, centres: Float32Array): Float32Array {
  const rnd = lcg(seed);
  const C = centres.length / dim;
  const out = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    const c = Math.floor(rnd() * C) * dim;
    let s = 0;
    const o = r * dim;
    for (let j = 0; j < dim; j++) {
      const v = centres[c + j]! + (rnd() - 0.5) * NOISE;
      out[o + j] = v;
      s += v * v;
    }
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < dim; j++) out[o + j]! *= inv;
  }
  return out;
}

/** Median wall time (ms) of `iters` calls after one warm-up call. */
async function medianMs(fn: () => Promise<unknown>, iters: number): Promise<number> {
  await fn();
  const ts: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = now();
    await fn();
    ts.push(now() - t0);
  }
  return median(ts);
}

/**
 * Large-buffer memcpy (TypedArray.set, 512 MiB, far beyond the caches), best of 5: bytes copied per second, the
 * issue's "copy bandwidth". A copy moves each byte twice (read + write; STREAM would report 2x this).
 */
function copyBandwidth(bytes: number): number {
  const src = new Float32Array(bytes / 4).fill(1);
  const dst = new Float32Array(bytes / 4);
  dst.set(src);
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = now();
    dst.set(src);
    best = Math.min(best, now() - t0);
  }
  return bytes / (best / 1000);
}

/** Read-only bandwidth with every core (onnxruntime ReduceSum over 512 MiB, best of 5): what a scan can stream. */
async function readBandwidth(bytes: number): Promise<number> {
  const g = new GraphBuilder('fp32', 'read');
  const x = g.input('x', 'float32', ['n', DIM]);
  g.output(g.op('ReduceSum', [x], { keepdims: 0 }), 'y', 'float32', []);
  const s = await ortNodeModule.InferenceSession.create(g.toBytes(), { intraOpNumThreads: 0 });
  const t = new ortNodeModule.Tensor('float32', new Float32Array(bytes / 4).fill(1), [bytes / 4 / DIM, DIM]);
  await s.run({ x: t });
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = now();
    await s.run({ x: t });
    best = Math.min(best, now() - t0);
  }
  await s.release?.();
  return bytes / (best / 1000);
}

async function retrievalBench(): Promise<Row[]> {
  const rows: Row[] = [];
  console.log(`[retrieval] generating ${N} x ${DIM} vectors ...`);
  // Random unit centres (uniform noise around zero, normalised).
  const centres = clusteredVectors(1000, DIM, 1, new Float32Array(1000 * DIM));
  const t0 = now();
  const data = clusteredVectors(N, DIM, 2, centres);
  const queries = clusteredVectors(64, DIM, 3, centres);
  console.log(`[retrieval] generated in ${((now() - t0) / 1000).toFixed(1)} s`);
  const ids = Array.from({ length: N }, (_, i) => String(i));
  const exact = new ExactIndex(DIM, { normalize: false });
  exact.add(ids, data);
  const iters = QUICK ? 3 : 5;
  const load0 = load();
  // Bandwidth measured in the same run, before and after the timed searches (the floor uses the better value).
  const scanned = N * DIM * 4; // float32 vectors: the bytes an exact scan must cover
  const copyBw = [copyBandwidth(512 * 2 ** 20)];
  const readBw = [await readBandwidth(512 * 2 ** 20)];
  const row = (index: string, oneMs: number, batchMs: number, extra: Row = {}): Row => {
    const copyFloor = (scanned / Math.max(...copyBw)) * 1000;
    const readFloor = (scanned / Math.max(...readBw)) * 1000;
    return {
      index, N, '1-query ms': oneMs, '1-query % of copy floor': (100 * copyFloor) / oneMs,
      'batch64 ms': batchMs, 'batch64 QPS': (64 * 1000) / batchMs,
      'batch64 % of copy floor': (100 * copyFloor) / batchMs, 'batch64 % of read floor': (100 * readFloor) / batchMs, ...extra,
    };
  };
  const timed: { index: string; one: number; batch: number; extra?: Row }[] = [];
  console.log(`[retrieval] load ${load0}; copy ${(copyBw[0]! / 1e9).toFixed(2)} GB/s, read ${(readBw[0]! / 1e9).toFixed(2)} GB/s`);

  // The float32 reference (JS kernel) on 4 queries: the exact answers the fast paths must reproduce.
  console.log('[retrieval] exact (js reference) 1 query and 4-query reference answers ...');
  exact.kernel = jsScoreKernel;
  const ref4 = await exact.searchRaw(queries.subarray(0, 4 * DIM), 10);
  const loadJs = load();
  const oneJs = await medianMs(() => exact.searchRaw(queries.subarray(0, DIM), 10), QUICK ? 3 : 2);
  const batchJs = N <= 100_000 ? await medianMs(() => exact.searchRaw(queries, 10), 1) : NaN;
  timed.push({ index: 'exact (js, float32: the reference)', one: oneJs, batch: batchJs, extra: { 'load before/after': `${loadJs} / ${load()}` } });
  const same4 = (r: { indices: Int32Array; scores: Float32Array }) =>
    ref4.indices.every((v, i) => v === r.indices[i]) && ref4.scores.every((v, i) => v === r.scores[i]);

  const ortKernel = await createOrtScoreKernel({ blockRows: 16384 });
  exact.kernel = ortKernel;
  console.log('[retrieval] exact (onnxruntime float32 GEMM) ...');
  const loadGemm = load();
  const oneGemm = await medianMs(() => exact.searchRaw(queries.subarray(0, DIM), 10), iters);
  const batchGemm = await medianMs(() => exact.searchRaw(queries, 10), QUICK ? 2 : 3);
  const gemm4 = await exact.searchRaw(queries.subarray(0, 4 * DIM), 10);
  timed.push({ index: 'exact (onnxruntime float32 GEMM)', one: oneGemm, batch: batchGemm, extra: { 'same ids+scores as js reference': same4(gemm4), 'load before/after': `${loadGemm} / ${load()}` } });

  // Exact via the int8 pre-pass (1/4 of the bytes, int8 dot products) + float32 rescoring of the candidates the
  // error bound cannot exclude: results equal the reference (ids, scores, ties). Two engines: onnxruntime's
  // MatMulInteger (MLAS) with the JS filter, and the native addon (fused VNNI scan + filter + rescore, one thread
  // per core) when it is built.
  for (const engine of ['onnxruntime', 'native'] as const) {
    let int8: Int8ExactSearch | undefined;
    try {
      int8 = await Int8ExactSearch.create(exact, { engine });
    } catch (e) {
      console.log(`[retrieval] int8 ${engine} engine unavailable: ${(e as Error).message}`);
      continue;
    }
    const tq = now();
    int8.sync();
    const quantS = (now() - tq) / 1000;
    const how = engine === 'native' ? `native ${int8.isa}, ${int8.parallel} threads` : `onnxruntime MatMulInteger, ${int8.parallel} concurrent calls`;
    console.log(`[retrieval] exact (int8 pre-pass + float32 rescore, ${how}) ...`);
    const loadAt = load();
    const one8 = await medianMs(() => int8!.searchRaw(queries.subarray(0, DIM), 10), iters);
    let batch8: { indices: Int32Array; scores: Float32Array } | undefined;
    const batch8Ms = await medianMs(async () => {
      batch8 = await int8!.searchRaw(queries, 10);
    }, iters);
    const rescored = int8.lastCandidates / 64;
    const ph = int8.lastTimings; // phases of the last batch-of-64 search
    const phases = `quantise queries ${ph.prepareMs.toFixed(1)} / scan ${ph.scanMs.toFixed(0)}${ph.filterMs === undefined ? '' : ` (JS filter ${ph.filterMs.toFixed(0)}, rest waits for MatMulInteger)`} / rescore ${ph.rescoreMs.toFixed(1)}`;
    const first4 = { indices: batch8!.indices.subarray(0, 40), scores: batch8!.scores.subarray(0, 40) };
    timed.push({
      index: `exact int8 pre-pass + float32 rescore (${how})`, one: one8, batch: batch8Ms,
      extra: {
        'same ids+scores as js reference': same4(first4), 'rescored/query': rescored, 'batch64 phases ms': phases, 'quantise s': quantS,
        'query codes': `s${Math.log2(int8.queryMax + 1) + 1}`, 'load before/after': `${loadAt} / ${load()}`,
      },
    });
  }
  copyBw.push(copyBandwidth(512 * 2 ** 20));
  readBw.push(await readBandwidth(512 * 2 ** 20));
  for (const t of timed) rows.push(row(t.index, t.one, t.batch, t.extra));
  const bwRow: Row = {
    index: 'bandwidth (before / after)', N, 'copy GB/s': copyBw.map((b) => (b / 1e9).toFixed(2)).join(' / '),
    'read GB/s': readBw.map((b) => (b / 1e9).toFixed(2)).join(' / '), 'copy floor ms': (scanned / Math.max(...copyBw)) * 1000,
    'read floor ms': (scanned / Math.max(...readBw)) * 1000, 'load before/after': `${load0} / ${load()}`, 'safe query max': safeQueryMax(),
  };
  rows.unshift(bwRow);

  // HNSW on the first HNSW_N rows; recall@10 against exact search on the same rows (the int8 exact search, whose
  // answers equal the float32 reference), for each search expansion in HNSW_EF_SEARCH.
  console.log(`[retrieval] HNSW build on ${HNSW_N} rows (M=${HNSW_M}, ef_add=${HNSW_EF_ADD}) ...`);
  const sub = data.subarray(0, HNSW_N * DIM);
  const hnsw = new HnswIndex(DIM, { normalize: false, connectivity: HNSW_M, expansionAdd: HNSW_EF_ADD, expansionSearch: HNSW_EF_SEARCH[0] });
  const loadHnsw = load();
  const tb = now();
  for (let start = 0; start < HNSW_N; start += 100_000) {
    const end = Math.min(HNSW_N, start + 100_000);
    hnsw.add(ids.slice(start, end), sub.subarray(start * DIM, end * DIM));
    if (HNSW_N > 100_000) console.log(`[retrieval]   ${end} rows, ${((now() - tb) / 1000).toFixed(0)} s`);
  }
  const buildS = (now() - tb) / 1000;
  const ex = new ExactIndex(DIM, { normalize: false, kernel: ortKernel });
  ex.add(ids.slice(0, HNSW_N), sub);
  const nq = 256;
  const q = clusteredVectors(nq, DIM, 4, centres);
  const truth = await (await Int8ExactSearch.create(ex)).search(q, 10);
  for (const ef of HNSW_EF_SEARCH) {
    hnsw.setExpansionSearch(ef);
    const t1 = now();
    const approx = await hnsw.search(q, 10);
    const hnswMs = now() - t1;
    let found = 0;
    truth.forEach((hits, i) => {
      const got = new Set(approx[i]!.map((h) => h.id));
      found += hits.filter((h) => got.has(h.id)).length;
    });
    rows.push({
      index: `hnsw (usearch M=${HNSW_M} ef_add=${HNSW_EF_ADD} ef_search=${ef})`, N: HNSW_N, 'build s': buildS, 'batch256 QPS': (nq * 1000) / hnswMs,
      'recall@10': found / (10 * nq), 'load before/after': `${loadHnsw} / ${load()}`,
    });
  }
  printTable('Retrieval, medians (floor = float32 bytes scanned / bandwidth; target: exact batch64 >= 50% of the copy floor; HNSW recall@10 >= 0.95)', rows);
  return rows;
}

const out: Record<string, unknown> = {};
if (!SKIP.includes('embed')) out['embedding'] = await embeddingBench();
if (!SKIP.includes('retrieval')) out['retrieval'] = await retrievalBench();
writeResult('inference', { quick: QUICK, N, HNSW_N, ...out });

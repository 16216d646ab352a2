// Inference benchmarks (`npm run bench inference`):
//  1. Embedding throughput (images/s, texts/s) of tiny-siglip and ViT-B-32 (random weights): onnxruntime-node on
//     our ONNX export vs the TensorFlow.js wasm path (@duet/encoders) vs onnxruntime-web (wasm, 1 thread).
//  2. Retrieval over N x 512 float32 vectors (default N = 1,000,000): exact top-10 latency (1 query) and QPS
//     (batches of 64) vs the memory-bandwidth floor measured in the same run; usearch HNSW build time, QPS, recall@10.
// Env: DUET_BENCH_N (retrieval rows), DUET_BENCH_HNSW_N (HNSW rows, default min(N, 100000)),
//      DUET_BENCH_QUICK=1 (N = 100000, fewer iterations), DUET_BENCH_SKIP=embed|retrieval.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DualEncoder, getPreset } from '@duet/encoders';
import {
  Collection, ExactIndex, HnswIndex, Int8ExactSearch, buildTextModel, buildVisionModel, createOrtScoreKernel, jsScoreKernel, loadOrtWeb, ortNodeModule,
  Weights, type OrtModuleLike,
} from '@duet/inference/node';
import { expectedTensors, fromFloat32, parseModelConfig, readSafetensors, type ModelConfig, type RawTensor } from '@duet/model-format';
import { initBackend, tf } from '@duet/runtime';
import { printTable, writeResult, type Row } from './report.ts';

const QUICK = process.env['DUET_BENCH_QUICK'] === '1';
const SKIP = process.env['DUET_BENCH_SKIP'] ?? '';
const N = Number(process.env['DUET_BENCH_N'] ?? (QUICK ? 100_000 : 1_000_000));
const HNSW_N = Number(process.env['DUET_BENCH_HNSW_N'] ?? Math.min(N, QUICK ? 20_000 : 100_000));
const DIM = 512;
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

async function timeIt(fn: () => Promise<unknown> | unknown, minMs: number, minIters = 2): Promise<number> {
  await fn(); // warm-up
  let iters = 0;
  const t0 = now();
  while (iters < minIters || now() - t0 < minMs) {
    await fn();
    iters++;
  }
  return (now() - t0) / iters;
}

async function ortThroughput(ort: OrtModuleLike, config: ModelConfig, text: Uint8Array, vision: Uint8Array, bImg: number, bTxt: number, minMs: number) {
  const vs = await ort.InferenceSession.create(vision, { graphOptimizationLevel: 'all' });
  const ts = await ort.InferenceSession.create(text, { graphOptimizationLevel: 'all' });
  const v = config.vision_config;
  const px = new Float32Array(bImg * v.num_channels * v.image_size * v.image_size).map((_, i) => Math.sin(i));
  const L = config.text_config.max_position_embeddings;
  const ids = BigInt64Array.from({ length: bTxt * L }, (_, i) => BigInt(i % 100));
  const mask = new BigInt64Array(bTxt * L).fill(1n);
  const imgMs = await timeIt(() => vs.run({ pixel_values: new ort.Tensor('float32', px, [bImg, v.num_channels, v.image_size, v.image_size]) }), minMs);
  const txtMs = await timeIt(() => ts.run({ input_ids: new ort.Tensor('int64', ids, [bTxt, L]), attention_mask: new ort.Tensor('int64', mask, [bTxt, L]) }), minMs);
  return { imagesPerS: (bImg * 1000) / imgMs, textsPerS: (bTxt * 1000) / txtMs };
}

function tfjsThroughput(raw: Record<string, unknown>, config: ModelConfig, tensors: Map<string, RawTensor>, bImg: number, bTxt: number, minMs: number) {
  const enc = DualEncoder.fromTensors(raw, tensors);
  const v = config.vision_config;
  const L = config.text_config.max_position_embeddings;
  const px = tf.randomNormal([bImg, v.num_channels, v.image_size, v.image_size]) as tf.Tensor4D;
  const ids = tf.tensor2d(Int32Array.from({ length: bTxt * L }, (_, i) => i % 100), [bTxt, L], 'int32');
  const run = (f: () => tf.Tensor) => async () => {
    const t = f();
    await t.data();
    t.dispose();
  };
  return (async () => {
    const imgMs = await timeIt(run(() => enc.encodeImage(px)), minMs, 1);
    const txtMs = await timeIt(run(() => enc.encodeText(ids)), minMs, 1);
    px.dispose();
    ids.dispose();
    enc.dispose();
    return { imagesPerS: (bImg * 1000) / imgMs, textsPerS: (bTxt * 1000) / txtMs };
  })();
}

async function embeddingBench(): Promise<Row[]> {
  const fixture = join(import.meta.dirname, '../../../shared/fixtures/hf-reference/tiny-siglip');
  const models: { name: string; raw: Record<string, unknown>; tensors: () => Map<string, RawTensor>; bImg: number; bTxt: number }[] = [
    {
      name: 'tiny-siglip',
      raw: JSON.parse(readFileSync(join(fixture, 'config.json'), 'utf8')),
      tensors: () => readSafetensors(readFileSync(join(fixture, 'model.safetensors'))).tensors,
      bImg: 64, bTxt: 64,
    },
    { name: 'ViT-B-32', raw: getPreset('ViT-B-32'), tensors: () => randomTensors(parseModelConfig(getPreset('ViT-B-32'))), bImg: 4, bTxt: 4 },
  ];
  const rows: Row[] = [];
  await initBackend({ backend: 'wasm' });
  const web = await loadOrtWeb({ numThreads: 1 });
  for (const m of models) {
    const config = parseModelConfig(m.raw);
    const tensors = m.tensors();
    const w = new Weights(tensors);
    const text = buildTextModel(config, w);
    const vision = buildVisionModel(config, w);
    const minMs = QUICK ? 1000 : 3000;
    console.log(`[embed] ${m.name}: onnxruntime-node ...`);
    const node = await ortThroughput(ortNodeModule, config, text, vision, m.bImg, m.bTxt, minMs);
    console.log(`[embed] ${m.name}: tfjs-wasm (${tf.getBackend()}) ...`);
    const tfw = await tfjsThroughput(m.raw, config, tensors, m.bImg, m.bTxt, minMs);
    console.log(`[embed] ${m.name}: onnxruntime-web (wasm, 1 thread) ...`);
    const ow = await ortThroughput(web, config, text, vision, m.bImg, m.bTxt, minMs);
    rows.push({
      model: m.name, 'batch img/txt': `${m.bImg}/${m.bTxt}`,
      'ort-node img/s': node.imagesPerS, 'tfjs-wasm img/s': tfw.imagesPerS, 'ort-web img/s': ow.imagesPerS,
      'ort-node txt/s': node.textsPerS, 'tfjs-wasm txt/s': tfw.textsPerS, 'ort-web txt/s': ow.textsPerS,
      'img speedup ort/tfjs': node.imagesPerS / tfw.imagesPerS, 'txt speedup ort/tfjs': node.textsPerS / tfw.textsPerS,
    });
  }
  printTable(`Embedding throughput (tfjs backend: wasm, ${tf.env().getNumber('WASM_HAS_MULTITHREAD_SUPPORT') ? 'mt' : 'st'}; target ort-node >= 5x tfjs-wasm on ViT-B-32)`, rows);
  return rows;
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
  return bytes / (best / 1000); // bytes read per second (each byte read once, written once)
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
  const bw = copyBandwidth(512 * 2 ** 20);
  const scanned = N * DIM * 4;
  const floorMs = (scanned / bw) * 1000;
  const ids = Array.from({ length: N }, (_, i) => String(i));

  const exact = new ExactIndex(DIM, { normalize: false });
  exact.add(ids, data);
  const ortKernel = await createOrtScoreKernel({ blockRows: 16384 });
  const results: Record<string, { indices: Int32Array }> = {};
  for (const kernel of [ortKernel, jsScoreKernel]) {
    exact.kernel = kernel;
    console.log(`[retrieval] exact (${kernel.name}) 1 query ...`);
    const one = await timeIt(() => exact.searchRaw(queries.subarray(0, DIM), 10), QUICK ? 500 : 2000, 3);
    let batchMs = NaN;
    if (kernel === ortKernel || N <= 100_000) {
      console.log(`[retrieval] exact (${kernel.name}) batch 64 ...`);
      batchMs = await timeIt(async () => {
        results[kernel.name] = await exact.searchRaw(queries, 10);
      }, QUICK ? 500 : 2000, 2);
    }
    rows.push({
      index: `exact (${kernel.name})`, N, 'bandwidth GB/s': bw / 1e9, 'floor ms': floorMs,
      '1-query ms': one, '1-query % of floor': (100 * floorMs) / one,
      'batch64 ms': batchMs, 'batch64 QPS': (64 * 1000) / batchMs, 'batch64 % of floor': (100 * floorMs) / batchMs,
    });
  }

  // Exact via the int8 pre-pass (1/4 of the bytes scanned) + float32 rescoring; results must equal the reference.
  const int8 = await Int8ExactSearch.create(exact);
  const tq = now();
  int8.sync();
  const quantS = (now() - tq) / 1000;
  console.log('[retrieval] exact (int8 pre-pass) 1 query ...');
  const one8 = await timeIt(() => int8.searchRaw(queries.subarray(0, DIM), 10), QUICK ? 500 : 2000, 3);
  console.log('[retrieval] exact (int8 pre-pass) batch 64 ...');
  let batch8: { indices: Int32Array } | undefined;
  const batch8Ms = await timeIt(async () => {
    batch8 = await int8.searchRaw(queries, 10);
  }, QUICK ? 500 : 2000, 2);
  // Compare with the JS reference kernel when it ran (same float32 sums); else with the GEMM (different summation
  // order, so only near-equal scores may swap).
  const ref = (results['js'] ?? results[ortKernel.name]!).indices;
  const same = batch8!.indices.every((v, i) => v === ref[i]);
  rows.push({
    index: 'exact (int8 pre-pass + fp32 rescore)', N, 'bandwidth GB/s': bw / 1e9, 'floor ms': floorMs,
    '1-query ms': one8, '1-query % of floor': (100 * floorMs) / one8,
    'batch64 ms': batch8Ms, 'batch64 QPS': (64 * 1000) / batch8Ms, 'batch64 % of floor': (100 * floorMs) / batch8Ms,
    'same top-10 as fp32': same, 'rescored/query': int8.lastCandidates / 64, 'quantise s': quantS,
  });

  // HNSW on the first HNSW_N rows; recall@10 against exact search on the same rows.
  console.log(`[retrieval] HNSW build on ${HNSW_N} rows ...`);
  const sub = data.subarray(0, HNSW_N * DIM);
  const hnsw = new HnswIndex(DIM, { normalize: false, connectivity: 16, expansionAdd: 128, expansionSearch: 128 });
  const tb = now();
  hnsw.add(ids.slice(0, HNSW_N), sub);
  const buildS = (now() - tb) / 1000;
  const ex = new ExactIndex(DIM, { normalize: false, kernel: ortKernel });
  ex.add(ids.slice(0, HNSW_N), sub);
  const nq = 256;
  const q = clusteredVectors(nq, DIM, 4, centres);
  const truth = await ex.search(q, 10);
  const t1 = now();
  const approx = await hnsw.search(q, 10);
  const hnswMs = now() - t1;
  let found = 0;
  truth.forEach((hits, i) => {
    const got = new Set(approx[i]!.map((h) => h.id));
    found += hits.filter((h) => got.has(h.id)).length;
  });
  rows.push({ index: 'hnsw (usearch M=16 ef=128)', N: HNSW_N, 'build s': buildS, 'batch256 QPS': (nq * 1000) / hnswMs, 'recall@10': found / (10 * nq) });
  printTable('Retrieval (target: exact batch64 >= 50% of the bandwidth floor; HNSW recall@10 >= 0.95)', rows);
  return rows;
}

const out: Record<string, Row[]> = {};
if (!SKIP.includes('embed')) out['embedding'] = await embeddingBench();
if (!SKIP.includes('retrieval')) out['retrieval'] = await retrievalBench();
writeResult('inference', { quick: QUICK, N, HNSW_N, ...out });

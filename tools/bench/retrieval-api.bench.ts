// Retrieval API load test (`npm run bench retrieval-api`): sustained concurrent text-search and image-embed
// traffic on loopback against the tiny model (HF tiny-clip fixture exported to ONNX, or DUET_BENCH_MODEL),
// with micro-batching on (5 ms, 64 rows) and off (every request its own onnxruntime call).
// Half the clients search by text, half embed an image (451x300 PNG: decode + resize dominate its cost).
// Reports requests/s, p50/p99 latency, errors, onnxruntime rows per call, and the process RSS and heap (after GC)
// at the start, a quarter of the way and the end of each run (server and load generator share the process).
// Env: DUET_BENCH_SECONDS (per run, default 60), DUET_BENCH_CONCURRENCY (default 16), DUET_BENCH_MODEL (folder).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startServer } from '@duet/retrieval-api';
import { makeTestModelFolder, TEST_IMAGES } from '@duet/retrieval-api/testing';
import { printTable, writeResult, type Row } from './report.ts';

const SECONDS = Number(process.env['DUET_BENCH_SECONDS'] ?? 60);
const CONCURRENCY = Number(process.env['DUET_BENCH_CONCURRENCY'] ?? 16);
const ITEMS = 1000;
const image = readFileSync(TEST_IMAGES[1]!).toString('base64');
const queries = ['a photo of a cat', 'an astronaut', 'a red dress', 'sneakers', 'a bag', 'a shirt with stripes'];

// A forced GC before each heap reading, so growth means retained memory rather than garbage not yet collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const mb = (b: number): number => +(b / 2 ** 20).toFixed(1);
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

async function run(modelDir: string, batching: boolean): Promise<Row[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'duet-bench-api-'));
  const srv = await startServer({ modelDir, dataDir, rateLimit: false, batching: batching ? { waitMs: 5, maxBatch: 64 } : { waitMs: 0, maxBatch: 1 } });
  await srv.api.ready;
  const post = (path: string, body: unknown) => fetch(srv.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await post('/v1/collections', { name: 'bench' });
  const dim = srv.api.model.info!.dim;
  for (let s = 0; s < ITEMS; s += 500) {
    const items = Array.from({ length: 500 }, (_, i) => ({ id: `i${s + i}`, embedding: Array.from({ length: dim }, (_, j) => Math.sin((s + i) * 7 + j)) }));
    await post('/v1/collections/bench/items', { items });
  }
  const kinds = {
    'text-search': (i: number) => post('/v1/collections/bench/search', { text: queries[i % queries.length], k: 10 }),
    'image-embed': () => post('/v1/embed/image', { images: [image] }),
  };
  const lat: Record<string, number[]> = { 'text-search': [], 'image-embed': [] };
  const errors: Record<string, number> = { 'text-search': 0, 'image-embed': 0 };
  // warm-up
  await Promise.all(Array.from({ length: 8 }, (_, i) => kinds['text-search'](i).then((r) => r.arrayBuffer())));
  gc();
  const mem0 = process.memoryUsage();
  const end = performance.now() + SECONDS * 1000;
  // Heap after GC at 1/4 of the run (past warm-up of caches and pools) vs at the end: growth = a leak.
  let memQ = mem0;
  const quarter = setTimeout(() => {
    gc();
    memQ = process.memoryUsage();
  }, (SECONDS * 1000) / 4);
  let n = 0;
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < end) {
      const kind = w % 2 === 0 ? 'text-search' : 'image-embed';
      n++;
      const t0 = performance.now();
      try {
        const r = await kinds[kind](n);
        await r.arrayBuffer();
        if (r.status !== 200) errors[kind]!++;
      } catch {
        errors[kind]!++;
      }
      lat[kind]!.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  const secs = (performance.now() - t0) / 1000;
  clearTimeout(quarter);
  gc();
  const mem1 = process.memoryUsage();
  const metrics = await (await fetch(`${srv.url}/metrics`)).text();
  const avgRows = (tower: string): number => {
    const sum = Number(new RegExp(`duet_embed_batch_rows_sum\\{tower="${tower}"\\} (\\S+)`).exec(metrics)?.[1]);
    const cnt = Number(new RegExp(`duet_embed_batch_rows_count\\{tower="${tower}"\\} (\\S+)`).exec(metrics)?.[1]);
    return +(sum / cnt).toFixed(2);
  };
  await srv.close();
  rmSync(dataDir, { recursive: true, force: true });
  return Object.keys(lat).map((kind) => {
    const s = lat[kind]!.sort((a, b) => a - b);
    return {
      batching, kind, concurrency: CONCURRENCY, seconds: +secs.toFixed(1), requests: s.length, 'req/s': +(s.length / secs).toFixed(1),
      'p50 ms': +pct(s, 0.5).toFixed(2), 'p99 ms': +pct(s, 0.99).toFixed(2), errors: errors[kind]!,
      'rows/onnx call': avgRows(kind === 'text-search' ? 'text' : 'vision'),
      'rss start MiB': mb(mem0.rss), 'rss 1/4 MiB': mb(memQ.rss), 'rss end MiB': mb(mem1.rss), 'heap start MiB': mb(mem0.heapUsed), 'heap 1/4 MiB': mb(memQ.heapUsed), 'heap end MiB': mb(mem1.heapUsed),
    };
  });
}

const modelDir = process.env['DUET_BENCH_MODEL'] ?? (await makeTestModelFolder());
const rows = [...(await run(modelDir, true)), ...(await run(modelDir, false))];
printTable(`Retrieval API load test: ${CONCURRENCY} concurrent clients, ${SECONDS} s per run, tiny model (${modelDir})`, rows);
writeResult('retrieval-api', { seconds: SECONDS, concurrency: CONCURRENCY, items: ITEMS, rows });
if (!process.env['DUET_BENCH_MODEL']) rmSync(join(modelDir, '..'), { recursive: true, force: true });
if (rows.some((r) => r['errors'] !== 0)) process.exitCode = 1;

// Retrieval API load test (`npm run bench retrieval-api`): sustained concurrent text-search and image-embed
// traffic on loopback against the tiny model (HF tiny-clip fixture exported to ONNX, or DUET_BENCH_MODEL),
// with micro-batching on (5 ms, 64 rows) and off (every request its own onnxruntime call).
// The server runs in a child process (retrieval-api.server.ts), so its memory is measured alone; this process is
// the load generator: closed-loop clients over keep-alive fetch, half searching by text, half embedding an image
// (451x300 PNG: decode + resize dominate its cost). Reports requests/s, p50/p99 latency, errors, onnxruntime rows
// per call, the batching gain, and the server's RSS / heap after GC sampled through the run, with the least-squares
// slope (± standard error) over the last 3/4 of the run (past cache and pool warm-up) and a verdict.
// Env: DUET_BENCH_SECONDS (per run, default 60), DUET_BENCH_CONCURRENCY (default 16), DUET_BENCH_MODEL (folder),
//      DUET_BENCH_SAMPLE_S (memory sampling period, default 5), DUET_BENCH_RUNS (default 'on,off').
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestModelFolder, TEST_IMAGES } from '@duet/retrieval-api/testing';
import { printTable, writeResult, type Row } from './report.ts';

const SECONDS = Number(process.env['DUET_BENCH_SECONDS'] ?? 60);
const CONCURRENCY = Number(process.env['DUET_BENCH_CONCURRENCY'] ?? 16);
const SAMPLE_S = Number(process.env['DUET_BENCH_SAMPLE_S'] ?? 5);
const RUNS = (process.env['DUET_BENCH_RUNS'] ?? 'on,off').split(',') as ('on' | 'off')[];
const ITEMS = 1000;
const image = readFileSync(TEST_IMAGES[1]!).toString('base64');
const queries = ['a photo of a cat', 'an astronaut', 'a red dress', 'sneakers', 'a bag', 'a shirt with stripes'];
const mb = (b: number): number => +(b / 2 ** 20).toFixed(1);
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

interface Server {
  url: string;
  dim: number;
  mem(): Promise<NodeJS.MemoryUsage>;
  close(): Promise<void>;
}

function startChild(modelDir: string, dataDir: string, batching: 'on' | 'off'): Promise<Server> {
  const child: ChildProcess = fork(join(import.meta.dirname, 'retrieval-api.server.ts'), [], {
    execArgv: ['--conditions=@duet/source', '--import', 'tsx'],
    env: { ...process.env, DUET_MODEL: modelDir, DUET_DATA: dataDir, DUET_BATCHING: batching },
  });
  const waiting: ((m: NodeJS.MemoryUsage) => void)[] = [];
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited early (code ${code})`)));
    child.on('message', (m: { type: string; url?: string; dim?: number; mem?: NodeJS.MemoryUsage }) => {
      if (m.type === 'mem') waiting.shift()?.(m.mem!);
      if (m.type !== 'ready') return;
      child.removeAllListeners('exit');
      resolve({
        url: m.url!, dim: m.dim!,
        mem: () => new Promise((r) => {
          waiting.push(r);
          child.send({ type: 'mem' });
        }),
        close: () => new Promise((r) => {
          child.once('exit', () => r());
          child.send({ type: 'close' });
        }),
      });
    });
  });
}

/** Least-squares slope of y over t (units of y per second) and its standard error. */
function slope(t: number[], y: number[]): { slope: number; se: number } {
  const n = t.length;
  const mt = t.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (t[i]! - mt) * (y[i]! - my);
    den += (t[i]! - mt) ** 2;
  }
  const b = den ? num / den : 0;
  let rss = 0;
  for (let i = 0; i < n; i++) rss += (y[i]! - my - b * (t[i]! - mt)) ** 2;
  return { slope: b, se: n > 2 && den ? Math.sqrt(rss / (n - 2) / den) : Infinity };
}

async function run(modelDir: string, batching: 'on' | 'off'): Promise<{ rows: Row[]; memory: Row; timeline: { t: number; rss: number; heap: number }[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'duet-bench-api-'));
  const srv = await startChild(modelDir, dataDir, batching);
  const post = (path: string, body: unknown) => fetch(srv.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await post('/v1/collections', { name: 'bench' });
  for (let s = 0; s < ITEMS; s += 500) {
    const items = Array.from({ length: 500 }, (_, i) => ({ id: `i${s + i}`, embedding: Array.from({ length: srv.dim }, (_, j) => Math.sin((s + i) * 7 + j)) }));
    await post('/v1/collections/bench/items', { items });
  }
  const kinds = {
    'text-search': (i: number) => post('/v1/collections/bench/search', { text: queries[i % queries.length], k: 10 }),
    'image-embed': () => post('/v1/embed/image', { images: [image] }),
  };
  const lat: Record<string, number[]> = { 'text-search': [], 'image-embed': [] };
  const errors: Record<string, number> = { 'text-search': 0, 'image-embed': 0 };
  await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? kinds['image-embed']() : kinds['text-search'](i)).then((r) => r.arrayBuffer())));
  const timeline: { t: number; rss: number; heap: number }[] = [];
  const t0 = performance.now();
  const sample = async () => {
    const m = await srv.mem();
    timeline.push({ t: (performance.now() - t0) / 1000, rss: mb(m.rss), heap: mb(m.heapUsed) });
  };
  await sample();
  const end = t0 + SECONDS * 1000;
  const sampler = setInterval(() => void sample(), SAMPLE_S * 1000);
  let n = 0;
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < end) {
      const kind = w % 2 === 0 ? 'text-search' : 'image-embed';
      n++;
      const s = performance.now();
      try {
        const r = await kinds[kind](n);
        await r.arrayBuffer();
        if (r.status !== 200) errors[kind]!++;
      } catch {
        errors[kind]!++;
      }
      lat[kind]!.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  const secs = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  await sample();
  const metrics = await (await fetch(`${srv.url}/metrics`)).text();
  const avgRows = (tower: string): number => {
    const sum = Number(new RegExp(`duet_embed_batch_rows_sum\\{tower="${tower}"\\} (\\S+)`).exec(metrics)?.[1]);
    const cnt = Number(new RegExp(`duet_embed_batch_rows_count\\{tower="${tower}"\\} (\\S+)`).exec(metrics)?.[1]);
    return +(sum / cnt).toFixed(2);
  };
  await srv.close();
  rmSync(dataDir, { recursive: true, force: true });
  const rows = Object.keys(lat).map((kind) => {
    const s = lat[kind]!.sort((a, b) => a - b);
    return {
      batching, kind, concurrency: CONCURRENCY, seconds: +secs.toFixed(1), requests: s.length, 'req/s': +(s.length / secs).toFixed(1),
      'p50 ms': +pct(s, 0.5).toFixed(2), 'p99 ms': +pct(s, 0.99).toFixed(2), errors: errors[kind]!,
      'rows/onnx call': avgRows(kind === 'text-search' ? 'text' : 'vision'),
    };
  });
  // Memory: start / middle / end (after GC), and the slope over the last 3/4 of the run.
  const tail = timeline.filter((p) => p.t >= secs / 4);
  const rssFit = slope(tail.map((p) => p.t), tail.map((p) => p.rss));
  const heapFit = slope(tail.map((p) => p.t), tail.map((p) => p.heap));
  const rssSlope = rssFit.slope * 60;
  const heapSlope = heapFit.slope * 60;
  const mid = timeline.reduce((a, p) => (Math.abs(p.t - secs / 2) < Math.abs(a.t - secs / 2) ? p : a));
  const first = timeline[0]!;
  const last = timeline.at(-1)!;
  // Growth = a trend that is both significant (slope > 2 standard errors: RSS wanders by +-15 MiB with glibc
  // arenas and libvips caches) and material (projected over the window: > max(8 MiB, 3% of RSS), heap > 2 MiB).
  const window = (tail.at(-1)!.t - tail[0]!.t) / 60;
  const grows = (fit: { slope: number; se: number }, limit: number) => fit.slope > 2 * fit.se && fit.slope * 60 * window > limit;
  const stable = !grows(rssFit, Math.max(8, 0.03 * last.rss)) && !grows(heapFit, 2);
  const memory: Row = {
    batching, 'rss start MiB': first.rss, 'rss mid MiB': mid.rss, 'rss end MiB': last.rss, 'rss slope MiB/min (last 3/4)': `${rssSlope.toFixed(2)} ± ${(rssFit.se * 60).toFixed(2)}`,
    'heap start MiB': first.heap, 'heap mid MiB': mid.heap, 'heap end MiB': last.heap, 'heap slope MiB/min': `${heapSlope.toFixed(2)} ± ${(heapFit.se * 60).toFixed(2)}`,
    samples: timeline.length, verdict: stable ? 'stable' : 'GROWS',
  };
  return { rows, memory, timeline };
}

const modelDir = process.env['DUET_BENCH_MODEL'] ?? (await makeTestModelFolder());
const load0 = load();
const results = [];
for (const b of RUNS) {
  console.log(`[retrieval-api] batching ${b}: ${SECONDS} s, ${CONCURRENCY} clients ...`);
  const r = await run(modelDir, b);
  console.log(`[retrieval-api] rss timeline (s: MiB): ${r.timeline.map((p) => `${p.t.toFixed(0)}: ${p.rss}`).join(', ')}`);
  results.push(r);
}
const rows = results.flatMap((r) => r.rows);
const gain: Row[] = ['text-search', 'image-embed'].map((kind) => {
  const on = rows.find((r) => r['batching'] === 'on' && r['kind'] === kind);
  const off = rows.find((r) => r['batching'] === 'off' && r['kind'] === kind);
  return { kind, 'req/s on': on?.['req/s'] ?? null, 'req/s off': off?.['req/s'] ?? null, 'gain on/off': on && off ? +((on['req/s'] as number) / (off['req/s'] as number)).toFixed(2) : null };
});
printTable(`Retrieval API load test: ${CONCURRENCY} concurrent clients, ${SECONDS} s per run, tiny model, server in its own process (load ${load0} -> ${load()})`, rows);
printTable('Micro-batching gain (requests/s, batching on vs off)', gain);
printTable(`Server memory after GC, sampled every ${SAMPLE_S} s`, results.map((r) => r.memory));
writeResult('retrieval-api', { seconds: SECONDS, concurrency: CONCURRENCY, items: ITEMS, load: [load0, load()], rows, gain, memory: results.map((r) => ({ ...r.memory, timeline: r.timeline })) });
if (!process.env['DUET_BENCH_MODEL']) rmSync(join(modelDir, '..'), { recursive: true, force: true });
if (rows.some((r) => r['errors'] !== 0) || results.some((r) => r.memory['verdict'] !== 'stable')) process.exitCode = 1;

// Web demo in headless Chromium (`npm run bench web-demo`): cold page load -> model ready (config, tokenizer,
// onnxruntime-web wasm fetch + compile, both ONNX sessions), embedding the 1000-image Fashion-MNIST gallery, and
// per-query latency of text search (embed + exact scan of 1000) and of classify (image embed + 10 labels + neighbours).
// Each run launches a fresh browser (empty cache, so the wasm is fetched and compiled again).
// Env: DUET_BENCH_MODEL (model folder with onnx/; default: the web-demo test's trained tiny CLIP), DUET_BENCH_RUNS (3),
//      DUET_CHROMIUM (/usr/bin/chromium).
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { chromium } from 'playwright-core';
import { DUET_BIN, WORKSPACE, encodePng, trainedModelFolder } from '@duet/web-demo/testing';
import { printTable, writeResult, type Row } from './report.ts';

const RUNS = Number(process.env['DUET_BENCH_RUNS'] ?? 3);
const CHROMIUM = process.env['DUET_CHROMIUM'] ?? '/usr/bin/chromium';
const model = process.env['DUET_BENCH_MODEL'] ?? trainedModelFolder((m) => console.log(m));
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const QUERIES = ['a photo of a trouser.', 'a photo of a bag.', 'a sneaker', 'an ankle boot', 'a dress', 'a photo of a coat.', 'sandals', 'a shirt'];

const child = spawn(process.execPath, [DUET_BIN, 'demo', '--model', model, '--port', '0', '--gallery-size', '1000'], { cwd: WORKSPACE, stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
    const m = /web demo: (http:\/\/\S+)/.exec(out);
    if (m) resolve(m[1]!);
  });
  child.on('exit', (c) => reject(new Error(`duet demo exited (${c})`)));
});
const header = await (await fetch(new URL('gallery/gallery.json', base))).json();
const bytes = new Uint8Array(await (await fetch(new URL('gallery/gallery.bin', base))).arrayBuffer());
const png = encodePng(bytes.subarray(0, header.width * header.height), header.width, header.height);

const rows: Row[] = [];
try {
  for (let run = 1; run <= RUNS; run++) {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
    const page = await browser.newPage();
    const t0 = Date.now();
    await page.goto(base);
    await page.waitForFunction(() => document.body.dataset['state'] === 'ready', null, { timeout: 300_000 });
    const pageToReady = Date.now() - t0;
    const num = (id: string): Promise<number> => page.$eval(`#${id}`, (e) => Number((e as HTMLElement).dataset['ms']));
    const modelLoad = await num('timing-load');
    const gallery = await num('timing-gallery');
    const backend = await page.textContent('#info-backend');
    const text: number[] = [];
    for (const q of [...QUERIES, ...QUERIES]) {
      await page.fill('#search', q);
      await page.waitForFunction((x) => document.getElementById('results')!.dataset['query'] === x, q);
      text.push(await num('timing-query'));
      await page.fill('#search', '');
    }
    const classify: number[] = [];
    for (let i = 0; i < 5; i++) {
      await page.evaluate(() => {
        document.getElementById('classification')!.replaceChildren();
      });
      await page.setInputFiles('#query-file', { name: `q${i}.png`, mimeType: 'image/png', buffer: png });
      await page.waitForSelector('#classification .label-row');
      classify.push(await num('timing-query'));
    }
    rows.push({
      run, backend, page_to_ready_ms: pageToReady, model_load_ms: Math.round(modelLoad), gallery_1000_ms: Math.round(gallery),
      ms_per_image: +(gallery / 1000).toFixed(2), text_query_ms_p50: +median(text).toFixed(1), classify_ms_p50: +median(classify.slice(1)).toFixed(1),
      load_avg: loadavg()[0]!.toFixed(2),
    });
    await browser.close();
  }
} finally {
  child.kill('SIGTERM');
}
printTable(`web demo in headless Chromium (${CHROMIUM}), model ${model}`, rows);
writeResult('web-demo', { model, chromium: CHROMIUM, rows });

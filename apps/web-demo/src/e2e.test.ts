// End to end in real Chromium (Debian's /usr/bin/chromium driven by playwright-core): `duet demo` serves the built
// page, a trained tiny CLIP and 1000 Fashion-MNIST test images; the page runs the model with onnxruntime-web.
// Artefacts: reports/web-demo/screenshot.png and reports/web-demo/timings.json.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { encodePng } from './test-util/png.js';
import { DUET_BIN, WORKSPACE, trainedModelFolder } from './test-util/trained-model.js';

const CHROMIUM = process.env['DUET_CHROMIUM'] ?? '/usr/bin/chromium';
const REPORT_DIR = join(WORKSPACE, 'reports', 'web-demo');
const QUERIES = ['trouser', 'sneaker', 'bag', 'ankle boot'];

let server: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;
let base = '';
const pageErrors: string[] = [];
const offOrigin: string[] = [];
const timings: Record<string, unknown> = {};
let gallery: { header: { count: number; width: number; height: number; labels: number[]; classNames: string[] }; bytes: Uint8Array };

function startDemo(model: string): Promise<string> {
  const child = spawn(process.execPath, [DUET_BIN, 'demo', '--model', model, '--port', '0', '--gallery-size', '1000'], { cwd: WORKSPACE, stdio: ['ignore', 'pipe', 'pipe'] });
  server = child;
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /web demo: (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`duet demo exited (${code}): ${out}\n${err}`)));
  });
}

/** PNG of gallery image i (Fashion-MNIST test image i) and its class name. */
function galleryPng(i: number): { png: Buffer; label: string } {
  const { width, height, labels, classNames } = gallery.header;
  const per = width * height;
  return { png: encodePng(gallery.bytes.subarray(i * per, (i + 1) * per), width, height), label: classNames[labels[i]!]! };
}

async function dropFile(name: string, type: string, bytes: Buffer): Promise<void> {
  await page.evaluate(({ name, type, b64 }) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([data], name, { type }));
    document.getElementById('drop-zone')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, { name, type, b64: bytes.toString('base64') });
}

async function search(query: string): Promise<string[]> {
  await page.fill('#search', query);
  await page.waitForFunction((q) => document.getElementById('results')!.dataset['query'] === q, query);
  return page.$$eval('#results .result', (els) => els.map((e) => (e as HTMLElement).dataset['label'] ?? ''));
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: the web demo's browser test needs it (Debian: apt-get install -y chromium; or set DUET_CHROMIUM)`);
  }
  const model = trainedModelFolder((m) => process.stderr.write(`${m}\n`));
  base = await startDemo(model);
  const [h, b] = await Promise.all([fetch(new URL('gallery/gallery.json', base)), fetch(new URL('gallery/gallery.bin', base))]);
  gallery = { header: await h.json(), bytes: new Uint8Array(await b.arrayBuffer()) };
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('blob:')) offOrigin.push(u);
  });
  const t0 = Date.now();
  await page.goto(base);
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset['state'] ?? ''), null, { timeout: 180_000 });
  timings['pageToReadyMs'] = Date.now() - t0;
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (server?.exitCode === null) server.kill('SIGTERM');
  if (Object.keys(timings).length) {
    mkdirSync(REPORT_DIR, { recursive: true });
    writeFileSync(join(REPORT_DIR, 'timings.json'), JSON.stringify({ browser: browser?.version?.() ?? 'chromium', ...timings }, null, 2) + '\n');
  }
});

describe('web demo in Chromium', () => {
  it('loads the model and embeds the 1000-image gallery, showing model, backend and timings', async () => {
    expect(await page.evaluate(() => document.body.dataset['state'])).toBe('ready');
    expect(await page.textContent('#info-model')).toMatch(/^fmnist-clip-s120-v1 \(clip, clip loss, 64-d, 28px\)$/);
    expect(await page.textContent('#info-backend')).toMatch(/WebAssembly|WebGPU/);
    const load = (await page.textContent('#timing-load'))!;
    const gal = (await page.textContent('#timing-gallery'))!;
    expect(load).toMatch(/^\d+(\.\d+)? m?s$/);
    expect(gal).toMatch(/^1000 images in \d+(\.\d+)? m?s \(\d+\.\d ms\/image\)$/);
    Object.assign(timings, { modelLoad: load, gallery: gal, backend: await page.textContent('#info-backend') });
    expect(await page.$$eval('#gallery-strip figure', (e) => e.length)).toBeGreaterThan(0);
  });

  it('ranks gallery images of the queried class first for several Fashion-MNIST classes', async () => {
    const perClass: Record<string, string[]> = {};
    for (const cls of QUERIES) perClass[cls] = (await search(`a photo of a ${cls}.`)).slice(0, 5);
    timings['lastQuery'] = await page.textContent('#timing-query');
    const good = QUERIES.filter((c) => perClass[c]![0] === c && perClass[c]!.filter((l) => l === c).length >= 4);
    expect(good.length, JSON.stringify(perClass)).toBeGreaterThanOrEqual(3);
  });

  it('classifies a dropped image (labels with probabilities) and shows its nearest gallery images', async () => {
    // The first trouser of the test set (a class this small model separates well).
    const index = gallery.header.labels.indexOf(gallery.header.classNames.indexOf('trouser'));
    const { png, label } = galleryPng(index);
    await dropFile('query.png', 'image/png', png);
    await page.waitForSelector('#classification .label-row');
    const rows = await page.$$eval('#classification .label-row', (els) => els.map((e) => ({ label: (e as HTMLElement).dataset['label'], pct: e.querySelector('.pct')!.textContent })));
    expect(rows).toHaveLength(10);
    expect(rows[0]!.label).toBe(label);
    const total = rows.reduce((s, r) => s + Number.parseFloat(r.pct!), 0);
    expect(total).toBeGreaterThan(99);
    expect(total).toBeLessThan(101);
    // The dropped image is in the gallery itself: its nearest neighbour has cosine 1.
    const first = await page.$eval('#neighbours figure', (e) => ({ label: (e as HTMLElement).dataset['label'], score: e.querySelector('.score')!.textContent }));
    expect(first).toEqual({ label, score: '1.000' });
    // Editable labels: a new label set re-classifies.
    await page.fill('#labels', `${label}\nsomething else`);
    await page.waitForFunction(() => document.querySelectorAll('#classification .label-row').length === 2);
    mkdirSync(REPORT_DIR, { recursive: true });
    await page.fill('#labels', gallery.header.classNames.join('\n'));
    await page.waitForFunction(() => document.querySelectorAll('#classification .label-row').length === 10);
    await search('a photo of a sneaker.');
    await page.screenshot({ path: join(REPORT_DIR, 'screenshot.png'), fullPage: true });
  });

  it('shows a message for a non-image file and for a URL that is not a model folder, and keeps working', async () => {
    await page.setInputFiles('#query-file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') });
    await expect.poll(() => page.textContent('#message')).toMatch(/"notes\.txt" is not an image/);
    await dropFile('fake.png', 'image/png', Buffer.from('definitely not a png'));
    await expect.poll(() => page.textContent('#message')).toMatch(/"fake\.png" could not be read as an image/);
    expect(await page.isVisible('#message')).toBe(true);

    await page.fill('#model-url', '/gallery/');
    await page.click('#load-model');
    await expect.poll(() => page.textContent('#message'), { timeout: 30_000 }).toMatch(/is not a usable model folder: .*config\.json/);
    expect(await page.evaluate(() => document.body.dataset['state'])).toBe('ready');
    // The previously loaded model still answers.
    expect((await search('a photo of a bag.'))[0]).toBe('bag');
    expect(pageErrors).toEqual([]);
  });

  it('uses the images the user chooses as the gallery', async () => {
    const files = [0, 1, 2].map((i) => ({ name: `mine-${i}.png`, mimeType: 'image/png', buffer: galleryPng(i).png }));
    await page.setInputFiles('#gallery-files', files);
    await expect.poll(() => page.textContent('#gallery-name')).toMatch(/your images \(3 images\)/);
    expect(await search('a photo of a trouser.')).toHaveLength(3);
    expect(offOrigin, 'the demo must work offline: no request leaves the demo server').toEqual([]);
  });
});

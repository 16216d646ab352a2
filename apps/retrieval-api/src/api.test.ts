// The API over HTTP (fetch against a real server on an ephemeral port) with a model folder exported from the HF
// tiny-clip fixture. Every response is also recorded and checked against /openapi.json at the end.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from './server.js';
import { checkSchema } from './test-util/json-schema.js';
import { makeTestModelFolder, TEST_IMAGES } from './test-util/model-folder.js';
import { greyPng } from './test-util/png.js';

const KEY = 'sekret';
const LIMITS = { maxTexts: 4, maxImageBytes: 300_000, maxImagePixels: 200_000, maxK: 5, maxLabels: 6, maxBodyBytes: 1_000_000 };
const [astronaut, chelsea] = TEST_IMAGES.map((f) => readFileSync(f));
const small = greyPng(40, 30, 200);
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

let modelDir: string;
let dataDir: string;
let srv: RunningServer;
const recorded: { path: string; method: string; status: number; body: unknown }[] = [];

async function call(method: string, path: string, opts: { json?: unknown; form?: FormData; auth?: boolean; template?: string; headers?: Record<string, string>; raw?: string } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth) headers['authorization'] = `Bearer ${KEY}`;
  let body: BodyInit | undefined = opts.form ?? opts.raw;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const res = await fetch(srv.url + path, { method, headers, body });
  const text = await res.text();
  const isJson = res.headers.get('content-type')?.includes('json');
  const parsed = isJson ? JSON.parse(text) : text;
  recorded.push({ path: opts.template ?? path, method: method.toLowerCase(), status: res.status, body: parsed });
  return { status: res.status, body: parsed, headers: res.headers };
}

const norm = (v: number[]): number => Math.hypot(...v);
const maxDiff = (a: number[], b: number[]): number => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));

beforeAll(async () => {
  modelDir = await makeTestModelFolder();
  dataDir = mkdtempSync(join(tmpdir(), 'duet-api-data-'));
  srv = await startServer({ modelDir, dataDir, apiKey: KEY, cors: ['http://allowed.example'], limits: LIMITS, rateLimit: false });
  await srv.api.ready;
}, 60_000);

afterAll(async () => {
  await srv?.close();
  rmSync(join(modelDir, '..'), { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('health, readiness, CORS', () => {
  it('reports liveness and readiness with the golden check', async () => {
    expect((await call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const r = await call('GET', '/readyz');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ready: true, golden: 'passed', model: { lossFamily: 'clip', dim: 32, imageSize: 32, maxTextTokens: 16 } });
  });

  it('answers CORS preflights for allowed origins only', async () => {
    const ok = await fetch(`${srv.url}/v1/embed/text`, { method: 'OPTIONS', headers: { origin: 'http://allowed.example', 'access-control-request-method': 'POST' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://allowed.example');
    const no = await fetch(`${srv.url}/v1/embed/text`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    expect(no.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('embeddings and zero-shot', () => {
  it('embeds texts as unit vectors; concurrent (micro-batched) requests equal one request with all texts', async () => {
    const texts = ['a photo of a cat', 'a dog', 'astronaut', ''];
    const all = await call('POST', '/v1/embed/text', { json: { texts } });
    expect(all.status).toBe(200);
    expect(all.body.dim).toBe(32);
    expect(all.body.embeddings).toHaveLength(4);
    for (const e of all.body.embeddings) expect(norm(e)).toBeCloseTo(1, 5);
    const each = await Promise.all(texts.map((t) => call('POST', '/v1/embed/text', { json: { texts: [t] } })));
    each.forEach((r, i) => expect(maxDiff(r.body.embeddings[0], all.body.embeddings[i])).toBeLessThan(1e-5));
    expect(maxDiff(all.body.embeddings[0], all.body.embeddings[1])).toBeGreaterThan(1e-3);
  });

  it('embeds images from multipart and base64 JSON identically', async () => {
    const form = new FormData();
    form.append('images', new Blob([chelsea!]), 'chelsea.png');
    form.append('images', new Blob([small]), 'small.png');
    const m = await call('POST', '/v1/embed/image', { form });
    expect(m.status).toBe(200);
    const j = await call('POST', '/v1/embed/image', { json: { images: [b64(chelsea!), `data:image/png;base64,${b64(small)}`] } });
    expect(j.status).toBe(200);
    expect(m.body.embeddings).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      expect(norm(m.body.embeddings[i])).toBeCloseTo(1, 5);
      expect(maxDiff(m.body.embeddings[i], j.body.embeddings[i])).toBeLessThan(1e-6);
    }
  });

  it('classifies zero-shot: softmax probabilities (CLIP) ranked best first, multipart = JSON', async () => {
    const labels = ['cat', 'astronaut', 'dog'];
    const j = await call('POST', '/v1/classify', { json: { image: b64(chelsea!), labels, templates: ['a photo of a {}.', 'a {}'] } });
    expect(j.status).toBe(200);
    expect(j.body.lossFamily).toBe('clip');
    const res = j.body.results as { label: string; probability: number; logit: number }[];
    expect(res.map((r) => r.label).sort()).toEqual([...labels].sort());
    expect(res.reduce((a, r) => a + r.probability, 0)).toBeCloseTo(1, 5);
    for (let i = 1; i < res.length; i++) expect(res[i - 1]!.logit).toBeGreaterThanOrEqual(res[i]!.logit);
    // softmax closed form from the returned logits
    const z = res.map((r) => Math.exp(r.logit - res[0]!.logit));
    res.forEach((r, i) => expect(r.probability).toBeCloseTo(z[i]! / z.reduce((a, b) => a + b, 0), 5));
    const form = new FormData();
    form.append('image', new Blob([chelsea!]), 'chelsea.png');
    form.append('labels', JSON.stringify(labels));
    form.append('templates', 'a photo of a {}.');
    form.append('templates', 'a {}');
    const m = await call('POST', '/v1/classify', { form });
    expect(m.status).toBe(200);
    expect(m.body.results).toEqual(j.body.results);
  });
});

describe('validation: every bad input is a 4xx JSON error', () => {
  const cases: [string, () => Promise<{ status: number; body: { error: { code: string; message: string } } }>, number, string][] = [
    ['too many texts', () => call('POST', '/v1/embed/text', { json: { texts: ['a', 'b', 'c', 'd', 'e'] } }), 413, 'limit_exceeded'],
    ['texts not strings', () => call('POST', '/v1/embed/text', { json: { texts: [1] } }), 400, 'invalid_request'],
    ['empty texts', () => call('POST', '/v1/embed/text', { json: { texts: [] } }), 400, 'invalid_request'],
    ['malformed JSON', () => call('POST', '/v1/embed/text', { raw: '{"texts": [', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json'],
    ['no body', () => call('POST', '/v1/embed/text'), 415, 'unsupported_media_type'],
    ['body too large', () => call('POST', '/v1/embed/text', { json: { texts: ['x'.repeat(1_100_000)] } }), 413, 'payload_too_large'],
    ['not an image', () => call('POST', '/v1/embed/image', { json: { images: [b64(new TextEncoder().encode('hello, not an image'))] } }), 400, 'invalid_image'],
    ['not base64', () => call('POST', '/v1/embed/image', { json: { images: ['***'] } }), 400, 'invalid_image'],
    ['image bytes over the limit (base64)', () => call('POST', '/v1/embed/image', { json: { images: [b64(astronaut!)] } }), 413, 'image_too_large'],
    ['image bytes over the limit (multipart)', () => {
      const f = new FormData();
      f.append('images', new Blob([astronaut!]), 'a.png');
      return call('POST', '/v1/embed/image', { form: f });
    }, 413, 'image_too_large'],
    ['too many pixels', () => call('POST', '/v1/embed/image', { json: { images: [b64(greyPng(1000, 1000))] } }), 413, 'too_many_pixels'],
    ['multipart without files', () => {
      const f = new FormData();
      f.append('x', 'y');
      return call('POST', '/v1/embed/image', { form: f });
    }, 400, 'invalid_request'],
    ['too many labels', () => call('POST', '/v1/classify', { json: { image: b64(small), labels: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] } }), 413, 'limit_exceeded'],
    ['too many prompts (labels x templates)', () => call('POST', '/v1/classify', { json: { image: b64(small), labels: ['a', 'b', 'c', 'd'], templates: ['{}', 'a {}'] } }), 413, 'limit_exceeded'],
    ['multipart body over the limit', () => {
      const f = new FormData();
      f.append('images', new Blob([new Uint8Array(1_100_000)]), 'big.png');
      return call('POST', '/v1/embed/image', { form: f });
    }, 413, 'payload_too_large'],
    ['blank label', () => call('POST', '/v1/classify', { json: { image: b64(small), labels: [' '] } }), 400, 'invalid_request'],
    ['classify without image', () => call('POST', '/v1/classify', { json: { labels: ['a'] } }), 400, 'invalid_request'],
    ['malformed multipart', () => call('POST', '/v1/embed/image', { raw: '--zzz\r\nbroken', headers: { 'content-type': 'multipart/form-data; boundary=zzz' } }), 400, 'invalid_multipart'],
    ['text/plain body', () => call('POST', '/v1/embed/text', { raw: 'hi', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type'],
    ['unknown endpoint', () => call('GET', '/v1/nope'), 404, 'not_found'],
  ];
  it.each(cases)('%s', async (_name, run, status, code) => {
    const r = await run();
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(typeof r.body.error.message).toBe('string');
  });
});

describe('collections', () => {
  const T = '/v1/collections/{name}';
  it('needs the API key to write, not to read', async () => {
    expect((await call('POST', '/v1/collections', { json: { name: 'pets' } })).status).toBe(401);
    const wrong = await call('POST', '/v1/collections', { json: { name: 'pets' }, headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    const ok = await call('POST', '/v1/collections', { json: { name: 'pets' }, auth: true });
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ name: 'pets', size: 0, dim: 32 });
    expect((await call('POST', '/v1/collections', { json: { name: 'pets' }, auth: true })).body.error.code).toBe('collection_exists');
    expect((await call('POST', '/v1/collections', { json: { name: '../x' }, auth: true })).status).toBe(400);
    expect((await call('GET', '/v1/collections')).body.collections).toEqual([{ name: 'pets', size: 0, dim: 32 }]);
    expect((await call('POST', '/v1/collections/pets/search', { json: { text: 'cat' }, template: `${T}/search` })).body).toEqual({ results: [] });
  });

  it('adds items from images (multipart, base64), texts and embeddings, and searches them top-k with metadata', async () => {
    const form = new FormData();
    form.append('images', new Blob([chelsea!]), 'chelsea.png');
    form.append('items', JSON.stringify([{ id: 'chelsea', metadata: { kind: 'cat' } }]));
    expect((await call('POST', '/v1/collections/pets/items', { form, template: `${T}/items` })).status).toBe(401);
    const m = await call('POST', '/v1/collections/pets/items', { form, auth: true, template: `${T}/items` });
    expect(m.status).toBe(201);
    expect(m.body).toEqual({ added: 1, size: 1 });
    const e = Array.from({ length: 32 }, (_, i) => (i === 3 ? 2 : 0));
    const j = await call('POST', '/v1/collections/pets/items', {
      auth: true, template: `${T}/items`,
      json: { items: [{ id: 'grey', image: b64(small), metadata: { kind: 'flat' } }, { id: 'axis3', embedding: e }, { id: 'caption', text: 'a photo of a cat' }] },
    });
    expect(j.status).toBe(201);
    expect(j.body).toEqual({ added: 3, size: 4 });
    // the stored (normalised) vector of an item is its own nearest neighbour with cosine 1
    const byEmb = await call('POST', '/v1/collections/pets/search', { json: { embedding: e.map((x) => x * 5), k: 2 }, template: `${T}/search` });
    expect(byEmb.status).toBe(200);
    expect(byEmb.body.results).toHaveLength(2);
    expect(byEmb.body.results[0]).toEqual({ id: 'axis3', score: expect.closeTo(1, 5) });
    const byImg = await call('POST', '/v1/collections/pets/search', { json: { image: b64(chelsea!), k: 5 }, template: `${T}/search` });
    expect(byImg.body.results).toHaveLength(4); // k clamped to the collection size
    expect(byImg.body.results[0]).toEqual({ id: 'chelsea', score: expect.closeTo(1, 5), metadata: { kind: 'cat' } });
    const scores = byImg.body.results.map((r: { score: number }) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    const sf = new FormData();
    sf.append('image', new Blob([small]), 'g.png');
    sf.append('k', '1');
    const byFile = await call('POST', '/v1/collections/pets/search', { form: sf, template: `${T}/search` });
    expect(byFile.body.results).toEqual([{ id: 'grey', score: expect.closeTo(1, 5), metadata: { kind: 'flat' } }]);
    const byText = await call('POST', '/v1/collections/pets/search', { json: { text: 'a photo of a cat', k: 1 }, template: `${T}/search` });
    expect(byText.body.results[0]).toEqual({ id: 'caption', score: expect.closeTo(1, 5) });
    expect((await call('GET', '/v1/collections/pets', { template: T })).body).toEqual({ name: 'pets', size: 4, dim: 32 });
  });

  it('rejects bad items and searches with 4xx', async () => {
    const add = (json: unknown) => call('POST', '/v1/collections/pets/items', { json, auth: true, template: `${T}/items` });
    const search = (json: unknown) => call('POST', '/v1/collections/pets/search', { json, template: `${T}/search` });
    expect((await add({ items: [{ id: 'grey', text: 'again' }] })).body.error.code).toBe('duplicate_id');
    expect((await add({ items: [{ id: 'n1', text: 'x' }, { id: 'n1', text: 'y' }] })).body.error.code).toBe('duplicate_id');
    expect((await add({ items: [{ id: 'n2', text: 'x', embedding: [1] }] })).status).toBe(400);
    expect((await add({ items: [{ id: 'n3', embedding: [1, 2, 3] }] })).body.error.code).toBe('dimension_mismatch');
    expect((await add({ items: [{ id: 'n4' }] })).status).toBe(400);
    expect((await add({ items: [{ id: 'n5', embedding: new Array(32).fill(0) }] })).body.error.code).toBe('invalid_embedding');
    expect((await add({ items: [{ id: 'n6', embedding: [1, ...new Array(31).fill(0)], metadata: [1] }] })).status).toBe(400);
    expect((await search({ text: 'cat', k: 0 })).status).toBe(400);
    expect((await search({ text: 'cat', k: 6 })).body.error.code).toBe('limit_exceeded');
    expect((await search({ text: 'cat', k: 1.5 })).status).toBe(400);
    expect((await search({ text: 'cat', embedding: [1] })).status).toBe(400);
    expect((await search({ embedding: [1, 2] })).body.error.code).toBe('dimension_mismatch');
    expect((await call('POST', '/v1/collections/nope/search', { json: { text: 'x' }, template: `${T}/search` })).body.error.code).toBe('collection_not_found');
    expect((await call('GET', '/v1/collections/pets', { template: T })).body.size).toBe(4);
  });

  it('removes items, persists every change, and reloads everything after a restart', async () => {
    const r = await call('DELETE', '/v1/collections/pets/items', { json: { ids: ['grey', 'unknown'] }, auth: true, template: `${T}/items` });
    expect(r.body).toEqual({ removed: 1, size: 3 });
    expect((await call('POST', '/v1/collections', { json: { name: 'tmp' }, auth: true })).status).toBe(201);
    expect((await call('DELETE', '/v1/collections/tmp', { template: T })).status).toBe(401);
    expect((await call('DELETE', '/v1/collections/tmp', { auth: true, template: T })).status).toBe(204);
    const before = await call('POST', '/v1/collections/pets/search', { json: { image: b64(chelsea!), k: 3 }, template: `${T}/search` });
    await srv.close();
    srv = await startServer({ modelDir, dataDir, apiKey: KEY, limits: LIMITS, rateLimit: false });
    await srv.api.ready;
    expect((await call('GET', '/v1/collections')).body).toEqual({ collections: [{ name: 'pets', size: 3, dim: 32 }] });
    const after = await call('POST', '/v1/collections/pets/search', { json: { image: b64(chelsea!), k: 3 }, template: `${T}/search` });
    expect(after.body).toEqual(before.body);
  });
});

describe('visual question answering', () => {
  it('/v1/vqa on a model without a fusion head: 400 no_fusion_head naming the missing config key', async () => {
    const r = await call('POST', '/v1/vqa', { json: { image: b64(small), question: 'what color is it?' } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('no_fusion_head');
    expect(r.body.error.message).toMatch(/no fusion head \(config.json has no "duet_fusion"\)/);
    const bad = await call('POST', '/v1/vqa', { json: { image: b64(small), question: '' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
  });
});

describe('metrics and OpenAPI', () => {
  it('exports request counts, latencies, index sizes and batch sizes', async () => {
    await call('POST', '/v1/embed/text', { json: { texts: ['x'] } });
    const m = await call('GET', '/metrics');
    expect(m.status).toBe(200);
    const text = m.body as string;
    expect(text).toMatch(/duet_http_requests_total\{method="POST",route="\/v1\/embed\/text",status="200"\} [1-9]/);
    expect(text).toMatch(/duet_http_request_duration_seconds_count\{method="POST",route="\/v1\/embed\/text"\} [1-9]/);
    expect(text).toContain('duet_collection_items{collection="pets"} 3');
    expect(text).toMatch(/duet_embed_batch_rows_count\{tower="text"\} [1-9]/);
    expect(text).toContain('duet_model_ready 1');
  });

  it('every recorded response matches /openapi.json, and every documented operation was exercised', async () => {
    const doc = (await call('GET', '/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    const seen = new Set<string>();
    for (const r of recorded) {
      const path = r.path;
      const op = doc.paths[path]?.[r.method];
      if (!op) {
        expect(r.status, `${r.method} ${path} is undocumented`).toBe(404);
        continue;
      }
      seen.add(`${r.method} ${path}`);
      const resp = op.responses[String(r.status)];
      expect(resp, `${r.method} ${path} -> ${r.status} is undocumented`).toBeDefined();
      const schema = resp.content?.['application/json']?.schema;
      if (schema) expect(checkSchema(r.body, schema, doc), `${r.method} ${path} -> ${r.status}`).toEqual([]);
    }
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops as object).filter((m) => m !== 'parameters').map((m) => `${m} ${p}`));
    expect(documented.filter((d) => !seen.has(d))).toEqual([]);
  });
});

// Loading a model folder by URL (the browser path), against a local HTTP server with and without Range support.
import { createServer, type Server } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFolderError } from './folder.js';
import { loadModelFolder } from './url-folder.js';
import { readSafetensors } from './safetensors.js';
import { HF_REF, fixturePath, rawHeader } from './test-util/fixtures.js';
import { ConfigError } from './config.js';
import { checkModelFolder } from './check-folder.js';
import { fetchSafetensors } from './lazy-safetensors.js';

let server: Server;
let base = '';
const log: { url: string; range?: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const [, mode, ...rest] = url.pathname.split('/'); // /range/<model>/<file> or /plain/<model>/<file>
    const rel = decodeURIComponent(rest.join('/'));
    log.push({ url: url.pathname, range: req.headers.range });
    if (rel.endsWith('broken/config.json')) return res.writeHead(200).end('{"model_type": "clip",');
    if (rel.startsWith('noweights/')) {
      if (rel.endsWith('config.json')) return res.writeHead(200).end(readFileSync(fixturePath('tiny-clip', 'config.json')));
      return res.writeHead(404).end();
    }
    if (rel.endsWith('/duet.json') || rel.includes('tokenizer') || rel.includes('preprocessor') || rel.includes('.index.json')) return res.writeHead(404).end();
    const path = `${HF_REF}${rel}`;
    if (!existsSync(path)) return res.writeHead(404).end();
    const body = readFileSync(path);
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (mode === 'range' && m) {
      const [s, e] = [Number(m[1]), Math.min(Number(m[2]), body.length - 1)];
      res.writeHead(206, { 'content-range': `bytes ${s}-${e}/${body.length}`, 'content-length': e - s + 1 });
      return res.end(body.subarray(s, e + 1));
    }
    return res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe.each(['range', 'plain'])('loadModelFolder(url) with %s server', (mode) => {
  it.each(['tiny-clip', 'tiny-siglip'])('%s: config and every tensor match the files', async (model) => {
    log.length = 0;
    const folder = await loadModelFolder(`${base}/${mode}/${model}`);
    const ref = readSafetensors(new Uint8Array(readFileSync(fixturePath(model))));
    expect(folder.config.model_type).toBe(model === 'tiny-clip' ? 'clip' : 'siglip');
    expect(folder.rawConfig).toEqual(JSON.parse(readFileSync(fixturePath(model, 'config.json'), 'utf8')));
    expect(folder.tensorNames().sort()).toEqual([...ref.tensors.keys()].sort());
    expect(folder.tokenizerJson).toBeUndefined();
    expect(folder.duet).toBeUndefined();
    const name = 'text_model.embeddings.position_embedding.weight';
    expect(folder.tensorInfo(name)).toEqual({ dtype: 'F32', shape: [16, 64], file: 'model.safetensors' });
    const one = await folder.getTensor(name);
    expect(Buffer.from(one.data).equals(Buffer.from(ref.tensors.get(name)!.data))).toBe(true);
    if (mode === 'range') {
      // Only the header and the one tensor travelled.
      const ranged = log.filter((l) => l.url.endsWith('model.safetensors'));
      expect(ranged.every((l) => l.range)).toBe(true);
      const { len, json } = rawHeader(new Uint8Array(readFileSync(fixturePath(model))));
      const [b, e] = json[name]!.data_offsets;
      expect(ranged.at(-1)!.range).toBe(`bytes=${8 + len + b}-${8 + len + e - 1}`);
      expect(ranged.length).toBe(3); // length prefix, header, one tensor
    }
    const all = await folder.getAllTensors();
    for (const [n, t] of ref.tensors) expect([n, Buffer.from(all.get(n)!.data).equals(Buffer.from(t.data))]).toEqual([n, true]);
  });
});

describe('checkModelFolder over URL', () => {
  it('checks tensors against the config without a manifest', async () => {
    const f = await loadModelFolder(`${base}/range/tiny-siglip`);
    expect(await checkModelFolder(f)).toEqual({ ok: true, errors: [], warnings: ['duet.json missing: artifact hashes not checked'] });
  });
});

describe('fetchSafetensors modes', () => {
  it("'range' refuses a server that ignores Range; 'auto' falls back to one download", async () => {
    await expect(fetchSafetensors(`${base}/plain/tiny-clip/model.safetensors`, { mode: 'range' })).rejects.toThrow(/server ignored the Range request/);
    const r = await fetchSafetensors(`${base}/plain/tiny-clip/model.safetensors`);
    expect(r.tensorNames()).toHaveLength(78);
    const w = await fetchSafetensors(`${base}/range/tiny-clip/model.safetensors`, { mode: 'whole' });
    expect(w.source.size).toBe(readFileSync(fixturePath('tiny-clip')).length);
  });
  it('a 404 is a FetchError with the status', async () => {
    await expect(fetchSafetensors(`${base}/range/none/model.safetensors`)).rejects.toMatchObject({ name: 'FetchError', status: 404 });
  });
});

describe('URL folder errors name the file', () => {
  it('missing config.json', async () => {
    await expect(loadModelFolder(`${base}/range/nothing-here`)).rejects.toThrow(/nothing-here\/config\.json: missing/);
    await expect(loadModelFolder(`${base}/range/nothing-here`)).rejects.toThrow(ModelFolderError);
  });
  it('missing model.safetensors', async () => {
    await expect(loadModelFolder(`${base}/range/noweights`)).rejects.toThrow(/noweights\/model\.safetensors: missing/);
  });
  it('unreadable config JSON', async () => {
    await expect(loadModelFolder(`${base}/range/broken`)).rejects.toThrow(/broken\/config\.json: unreadable JSON/);
  });
  it('unreachable server', async () => {
    await expect(loadModelFolder('http://127.0.0.1:1/m')).rejects.toThrow(/127\.0\.0\.1:1\/m\/config\.json: request failed/);
  });
  it('config that does not validate', async () => {
    await expect(loadModelFolder(`${base}/range/tiny-clip`, { fetch: async (u, i) => (u.endsWith('config.json') ? new Response('{"model_type":"clip","projection_dim":-1}') : fetch(u, i)) }))
      .rejects.toThrow(ConfigError);
  });
});

import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoServer, type RunningDemo } from './server.js';

// The static server alone: a stand-in built page and model folder (no Vite build, no model needed).
let demo: RunningDemo;
const weights = Uint8Array.from({ length: 100 }, (_, i) => i);

beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'duet-demo-srv-'));
  const dist = join(root, 'dist');
  const model = join(root, 'my model');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  mkdirSync(join(model, 'onnx'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>demo</title>');
  writeFileSync(join(dist, 'assets', 'x.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(model, 'config.json'), '{"model_type":"clip"}');
  writeFileSync(join(model, 'model.safetensors'), weights);
  writeFileSync(join(model, 'onnx', 'text_model.onnx'), 'x');
  writeFileSync(join(model, 'onnx', 'vision_model.onnx'), 'x');
  writeFileSync(join(root, 'secret.txt'), 'secret');
  const images = [0, 1, 2].map((v) => ({ data: new Uint8Array(4).fill(v), width: 2, height: 2, channels: 1 as const }));
  demo = await startDemoServer({ modelDir: model, distDir: dist, gallery: { name: 'g', images, labels: { labels: [0, 1, 0], classNames: ['a', 'b'] } } });
});
afterAll(() => demo?.close());

/** Raw GET (fetch normalises "..", this does not). */
function rawGet(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const u = new URL(demo.url);
  return new Promise((ok, fail) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('demo server', () => {
  it('serves the page, the demo config and the packed gallery', async () => {
    const page = await rawGet('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect((await rawGet('/assets/x.wasm')).headers['content-type']).toBe('application/wasm');
    const cfg = JSON.parse((await rawGet('/demo-config.json')).body.toString());
    expect(cfg).toEqual({ modelUrl: '/models/my-model/', gallery: { header: './gallery/gallery.json', data: './gallery/gallery.bin' } });
    expect(demo.modelUrl).toBe(new URL('/models/my-model/', demo.url).href);
    expect(JSON.parse((await rawGet('/gallery/gallery.json')).body.toString())).toMatchObject({ name: 'g', count: 3, labels: [0, 1, 0] });
    expect([...(await rawGet('/gallery/gallery.bin')).body]).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  });

  it('serves model files with HTTP Range (206 + Content-Range), 416 past the end', async () => {
    const whole = await rawGet('/models/my-model/model.safetensors');
    expect(whole.status).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    const part = await rawGet('/models/my-model/model.safetensors', { range: 'bytes=10-19' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 10-19/100');
    expect([...part.body]).toEqual([...weights.subarray(10, 20)]);
    const suffix = await rawGet('/models/my-model/model.safetensors', { range: 'bytes=-5' });
    expect([...suffix.body]).toEqual([95, 96, 97, 98, 99]);
    expect((await rawGet('/models/my-model/model.safetensors', { range: 'bytes=100-' })).status).toBe(416);
  });

  it('keeps requests inside their roots and answers bad requests with 4xx', async () => {
    expect((await rawGet('/models/my-model/../secret.txt')).status).toBe(404);
    expect((await rawGet('/models/my-model/%2e%2e/secret.txt')).status).toBe(404);
    expect((await rawGet('/models/my-model/%E0%A4%A')).status).toBe(404);
    expect((await rawGet('/../secret.txt')).status).toBe(404);
    expect((await rawGet('/models/my-model/tokenizer.json')).status).toBe(404);
    expect((await rawGet('/', {}, 'POST')).status).toBe(405);
  });

  it('refuses a folder that is not a servable model folder', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'duet-demo-empty-'));
    await expect(startDemoServer({ modelDir: empty, distDir: empty })).rejects.toThrow(/not a model folder \(no config\.json\)/);
    writeFileSync(join(empty, 'config.json'), '{}');
    await expect(startDemoServer({ modelDir: empty, distDir: empty })).rejects.toThrow(/no ONNX towers .*duet export --onnx/);
  });
});

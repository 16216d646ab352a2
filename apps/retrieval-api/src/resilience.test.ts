// Failure paths: rate limiting, a corrupted model (golden check) and a crash mid-write (SIGKILL of the CLI
// process during a bulk add), after which the restarted server reads the last complete state.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from './server.js';
import { makeTestModelFolder } from './test-util/model-folder.js';

let modelDir: string;
const tmp = mkdtempSync(join(tmpdir(), 'duet-api-res-'));
const servers: RunningServer[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  modelDir = await makeTestModelFolder();
}, 60_000);

afterAll(async () => {
  for (const s of servers) await s.close();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(join(modelDir, '..'), { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

const post = (url: string, json: unknown, key?: string) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify(json) });

describe('resilience', () => {
  it('rate-limits /v1 with a 429 JSON error, leaving health checks alone', async () => {
    const s = await startServer({ modelDir, dataDir: join(tmp, 'rl'), rateLimit: { windowMs: 60_000, limit: 3 }, verify: false });
    servers.push(s);
    await s.api.ready;
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await post(`${s.url}/v1/embed/text`, { texts: ['x'] })).status);
    expect(codes).toEqual([200, 200, 200, 429]);
    const r = await post(`${s.url}/v1/embed/text`, { texts: ['x'] });
    expect((await r.json()).error.code).toBe('rate_limited');
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });

  it('a corrupted model fails its golden check: /readyz 503 and model endpoints 503, no crash', async () => {
    const bad = join(tmp, 'bad-model');
    cpSync(modelDir, bad, { recursive: true });
    appendFileSync(join(bad, 'onnx/text_model.onnx'), Buffer.from([0]));
    const s = await startServer({ modelDir: bad, dataDir: join(tmp, 'bad-data') });
    servers.push(s);
    await s.api.ready;
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = await ready.json();
    expect(body).toMatchObject({ ready: false, golden: 'failed' });
    expect(body.error).toMatch(/text_model\.onnx/);
    const r = await post(`${s.url}/v1/embed/text`, { texts: ['x'] });
    expect(r.status).toBe(503);
    expect((await r.json()).error.code).toBe('model_unavailable');
    expect((await fetch(`${s.url}/v1/collections`)).status).toBe(503);
  });

  it('the CLI survives SIGKILL during a bulk add: after restart the collection is a complete earlier or later state', async () => {
    const dataDir = join(tmp, 'cli-data');
    const start = async (): Promise<{ child: ChildProcess; url: string }> => {
      const child = spawn(process.execPath, ['--conditions=@duet/source', '--import', 'tsx', join(import.meta.dirname, 'main.ts'),
        '--model', modelDir, '--port', '0', '--data', dataDir, '--api-key', 'k', '--rate', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (\S+)/.exec(out);
          if (m && out.includes('ready:')) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
      });
      return { child, url };
    };
    const a = await start();
    expect((await post(`${a.url}/v1/collections`, { name: 'c' }, 'k')).status).toBe(201);
    const emb = (i: number) => Array.from({ length: 32 }, (_, j) => Math.sin(i * 31 + j));
    const batch = (from: number) => ({ items: Array.from({ length: 50 }, (_, i) => ({ id: `i${from + i}`, embedding: emb(from + i), metadata: { n: from + i } })) });
    expect((await post(`${a.url}/v1/collections/c/items`, batch(0), 'k')).status).toBe(201);
    // Fire more bulk adds and kill the process while they are being written.
    const inflight = [50, 100, 150, 200].map((f) => post(`${a.url}/v1/collections/c/items`, batch(f), 'k').catch(() => undefined));
    await new Promise((r) => setTimeout(r, 15));
    a.child.kill('SIGKILL');
    await Promise.all(inflight);
    const b = await start();
    const info = await (await fetch(`${b.url}/v1/collections/c`)).json();
    expect(info.size % 50).toBe(0);
    expect(info.size).toBeGreaterThanOrEqual(50);
    const hits = (await (await post(`${b.url}/v1/collections/c/search`, { embedding: emb(7), k: 1 })).json()).results;
    expect(hits[0]).toEqual({ id: 'i7', score: expect.closeTo(1, 5), metadata: { n: 7 } });
    b.child.kill('SIGTERM');
    await new Promise((r) => b.child.once('exit', r));
    expect(b.child.exitCode).toBe(0);
  }, 60_000);
});

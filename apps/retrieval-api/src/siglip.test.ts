// A SigLIP model folder (HF tiny-siglip fixture): zero-shot probabilities are independent sigmoids of
// exp(logitScale) * cos + logitBias (not a softmax), and retrieval works the same.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from './server.js';
import { greyPng } from './test-util/png.js';
import { makeTestModelFolder } from './test-util/model-folder.js';

let modelDir: string;
let srv: RunningServer;
const dataDir = mkdtempSync(join(tmpdir(), 'duet-api-siglip-'));

beforeAll(async () => {
  modelDir = await makeTestModelFolder('tiny-siglip');
  srv = await startServer({ modelDir, dataDir, rateLimit: false });
  await srv.api.ready;
}, 60_000);

afterAll(async () => {
  await srv?.close();
  rmSync(join(modelDir, '..'), { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

const post = async (path: string, json: unknown) => {
  const r = await fetch(srv.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
  return { status: r.status, body: await r.json() };
};

describe('SigLIP model', () => {
  it('is ready after its golden check and embeds texts as unit vectors', async () => {
    const ready = await (await fetch(`${srv.url}/readyz`)).json();
    expect(ready).toMatchObject({ ready: true, golden: 'passed', model: { lossFamily: 'siglip', dim: 64 } });
    const r = await post('/v1/embed/text', { texts: ['a photo of a cat', 'two dogs'] });
    expect(r.status).toBe(200);
    for (const e of r.body.embeddings as number[][]) expect(Math.hypot(...e)).toBeCloseTo(1, 5);
  });

  it('zero-shot probabilities are per-label sigmoids of the logits', async () => {
    const image = Buffer.from(greyPng(20, 20, 90)).toString('base64');
    const r = await post('/v1/classify', { image, labels: ['cat', 'dog', 'grey square'] });
    expect(r.status).toBe(200);
    expect(r.body.lossFamily).toBe('siglip');
    for (const x of r.body.results as { probability: number; logit: number }[]) expect(x.probability).toBeCloseTo(1 / (1 + Math.exp(-x.logit)), 6);
    const sum = (r.body.results as { probability: number }[]).reduce((a, x) => a + x.probability, 0);
    expect(Math.abs(sum - 1)).toBeGreaterThan(1e-3);
  });
});

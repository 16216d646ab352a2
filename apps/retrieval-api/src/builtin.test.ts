// The built-in Fashion-MNIST collection (first images of the real test split): built once, searchable with class
// metadata, reused (not rebuilt or duplicated) after a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_CLASSES } from '@duet/data';
import { startServer, type RunningServer } from './server.js';
import { makeTestModelFolder } from './test-util/model-folder.js';

let modelDir: string;
const dataDir = mkdtempSync(join(tmpdir(), 'duet-api-builtin-'));
let srv: RunningServer | undefined;

beforeAll(async () => {
  modelDir = await makeTestModelFolder();
}, 60_000);

afterAll(async () => {
  await srv?.close();
  rmSync(join(modelDir, '..'), { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('built-in fashion-mnist-test collection', () => {
  it('indexes the test images with class metadata and reuses them after a restart', async () => {
    const opts = { modelDir, dataDir, rateLimit: false as const, verify: false, builtinIndexes: ['fashion-mnist-test' as const], builtin: { limit: 40 } };
    srv = await startServer(opts);
    await srv.api.builtinsReady;
    const list = await (await fetch(`${srv.url}/v1/collections`)).json();
    expect(list.collections).toEqual([{ name: 'fashion-mnist-test', size: 40, dim: 32 }]);
    const r = await fetch(`${srv.url}/v1/collections/fashion-mnist-test/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'a photo of a sneaker', k: 5 }) });
    const hits = (await r.json()).results as { id: string; metadata: { label: number; className: string; index: number } }[];
    expect(hits).toHaveLength(5);
    for (const h of hits) {
      expect(h.metadata.className).toBe(FASHION_MNIST_CLASSES[h.metadata.label]);
      expect(h.id).toBe(`fashion-mnist-test-${h.metadata.index}`);
    }
    const saved = srv.api.store().get('fashion-mnist-test');
    await srv.close();
    srv = await startServer(opts);
    await srv.api.builtinsReady;
    const again = srv.api.store().get('fashion-mnist-test');
    expect(again.size).toBe(40);
    expect(Array.from(again.exact.vectors)).toEqual(Array.from(saved.exact.vectors));
    // loaded from disk, not re-embedded: no vision batches ran in the new process
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).not.toMatch(/duet_embed_batch_rows_count\{tower="vision"\} [1-9]/);
  }, 60_000);
});

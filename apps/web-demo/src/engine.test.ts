// DemoEngine outside a browser (it is isomorphic: fetch + onnxruntime-web), against a plain static server:
// model-folder errors surface as DemoError messages the page can show; a folder with no duet.json (the HF tiny-clip
// fixture with its torch.onnx exports) loads onto wasm and embeds a gallery.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultPreprocessorConfig } from '@duet/preprocess';
import { DemoEngine, DemoError } from './engine.js';

const HF = fileURLToPath(new URL('../../../../shared/fixtures/hf-reference/tiny-clip/', import.meta.url));
let root: string;
let server: Server;
let base: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'duet-engine-'));
  // A complete folder except the tokenizer: the HF tiny-clip fixture's weights and its torch.onnx exports.
  const full = join(root, 'tiny-clip');
  mkdirSync(join(full, 'onnx'), { recursive: true });
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(HF, f), join(full, f));
  for (const t of ['text', 'vision']) copyFileSync(join(HF, `${t}_model.onnx`), join(full, 'onnx', `${t}_model.onnx`));
  const imageSize = JSON.parse(readFileSync(join(HF, 'config.json'), 'utf8')).vision_config.image_size;
  writeFileSync(join(full, 'preprocessor_config.json'), JSON.stringify(defaultPreprocessorConfig('clip', imageSize)));
  // Config and weights but no ONNX towers.
  const noOnnx = join(root, 'no-onnx');
  mkdirSync(noOnnx);
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(HF, f), join(noOnnx, f));
  server = createServer((req, res) => {
    const p = resolve(root, `.${decodeURIComponent(new URL(req.url!, 'http://x').pathname)}`);
    if (!p.startsWith(root) || !existsSync(p) || !statSync(p).isFile()) return void res.writeHead(404).end();
    res.writeHead(200).end(readFileSync(p));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

describe('DemoEngine', () => {
  it('reports a URL that is not a model folder, and a folder without ONNX towers, as DemoError', async () => {
    const e1 = await DemoEngine.load(`${base}nothing-here/`).catch((e: Error) => e);
    expect(e1).toBeInstanceOf(DemoError);
    expect((e1 as Error).message).toMatch(/nothing-here\/ is not a usable model folder: .*config\.json/);
    const e2 = await DemoEngine.load(`${base}no-onnx/`).catch((e: Error) => e);
    expect(e2).toBeInstanceOf(DemoError);
    expect((e2 as Error).message).toMatch(/the model could not be loaded: .*onnx\/text_model\.onnx.*duet export --onnx/s);
  });

  it('loads a folder without duet.json (torch.onnx towers) on wasm and embeds a gallery with progress; bad queries are messages', async () => {
    const engine = await DemoEngine.load(`${base}tiny-clip/`);
    try {
      expect(engine.info).toMatchObject({ modelName: 'tiny-clip', modelType: 'clip', lossFamily: 'clip', backend: 'wasm', backendNote: 'this browser has no WebGPU' });
      const size = engine.info.imageSize;
      const items = [0, 1, 2, 3, 4].map((i) => ({
        id: `img-${i}`,
        image: { data: Uint8Array.from({ length: size * size * 3 }, (_, j) => (j * (i + 3) * 37) % 256), width: size, height: size, channels: 3 as const },
        label: `pattern ${i}`,
      }));
      const progress: number[] = [];
      await engine.setGallery(items, (done) => progress.push(done));
      expect(progress.at(-1)).toBe(5);
      expect(engine.gallerySize).toBe(5);
      // Without tokenizer.json, text search fails with the inference package's message instead of crashing.
      await expect(engine.searchText('a photo', 3)).rejects.toThrow(/tokenizer\.json not found/);
      await expect(engine.searchText('   ', 3)).rejects.toThrow(/type a description/);
      await expect(engine.classify(items[0]!.image, [' ', ''])).rejects.toThrow(/at least one label/);
    } finally {
      await engine.dispose();
    }
  });
});

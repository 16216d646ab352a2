// A transformers.js-layout folder published over HTTP without duet.json: its ONNX files cannot be listed, only fetched.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, toTypedArray } from '@duet/model-format';
import { MissingOnnxError } from '../runtime/errors.js';
import { createEmbedder } from './create.js';

const FIXTURE = new URL('../../../../../shared/fixtures/hf-reference/tiny-clip/', import.meta.url);
let dir = '';
let server: Server;
let base = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'duet-url-folder-'));
  for (const name of ['full', 'text-only']) {
    const d = join(dir, name);
    mkdirSync(join(d, 'onnx'), { recursive: true });
    copyFileSync(new URL('config.json', FIXTURE), join(d, 'config.json'));
    copyFileSync(new URL('model.safetensors', FIXTURE), join(d, 'model.safetensors'));
    copyFileSync(new URL('text_model.onnx', FIXTURE), join(d, 'onnx/text_model.onnx'));
    if (name === 'full') copyFileSync(new URL('vision_model.onnx', FIXTURE), join(d, 'onnx/vision_model.onnx'));
  }
  // A plain static server: 404 for anything absent, no directory listings, no duet.json anywhere.
  server = createServer((req, res) => {
    const rel = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^\/+/, '');
    try {
      const body = readFileSync(join(dir, rel));
      res.writeHead(200, { 'content-length': body.length }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('model folder by URL without duet.json', () => {
  it('finds the ONNX towers by fetching them and reproduces the HF reference image_embeds (L2-normalised, as CLIPModel returns them)', async () => {
    const embedder = await createEmbedder(`${base}/full/`);
    const ref = readSafetensors(new Uint8Array(readFileSync(new URL('reference_io.safetensors', FIXTURE))));
    const pv = ref.tensors.get('pixel_values')!;
    const want = toTypedArray(ref.tensors.get('image_embeds')!) as Float32Array;
    const { data: got } = await embedder.embedPixels({ pixelValues: toTypedArray(pv) as Float32Array, shape: pv.shape as [number, number, number, number] });
    let maxRef = 0, maxDiff = 0;
    for (let i = 0; i < want.length; i++) { maxRef = Math.max(maxRef, Math.abs(want[i]!)); maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want[i]!)); }
    expect(got.length).toBe(want.length);
    expect(maxDiff / maxRef).toBeLessThan(1e-4);
  });

  it('a tower that is really absent is a MissingOnnxError naming the file', async () => {
    const err = await createEmbedder(`${base}/text-only/`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingOnnxError);
    expect(String((err as Error).message)).toContain('onnx/vision_model.onnx');
    const textOnly = await createEmbedder(`${base}/text-only/`, { towers: ['text'] });
    expect(textOnly.dim).toBe(32);
  });
});


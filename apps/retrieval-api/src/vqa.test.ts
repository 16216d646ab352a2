// /v1/vqa over HTTP: a folder with a fusion head answers with probabilities over its answer vocabulary (JSON and
// multipart), equal to running the head directly; the folder still serves embeddings through ONNX (golden check).
// The folder without a head is covered in api.test.ts (400 no_fusion_head).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@duet/runtime';
import { loadModelFolder } from '@duet/model-format/node';
import { defaultPreprocessorConfig, ImageProcessor, TextTokenizer } from '@duet/preprocess';
import { decodeImage } from '@duet/preprocess/node';
import { loadVqaModel } from '@duet/fusion';
import { startServer, type RunningServer } from './server.js';
import { checkSchema } from './test-util/json-schema.js';
import { makeTestModelFolder, TEST_IMAGES } from './test-util/model-folder.js';
import { makeTestVqaFolder, TEST_ANSWERS } from './test-util/vqa-folder.js';

const png = readFileSync(TEST_IMAGES[1]!);
let dir: string;
let srv: RunningServer;

beforeAll(async () => {
  dir = await makeTestVqaFolder(await makeTestModelFolder());
  srv = await startServer({ modelDir: dir, dataDir: join(dir, '..', 'data'), rateLimit: false });
  await srv.api.ready;
}, 120_000);

afterAll(async () => {
  await srv?.close();
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

async function post(path: string, init: RequestInit) {
  const res = await fetch(srv.url + path, { method: 'POST', ...init });
  return { status: res.status, body: await res.json() };
}

describe('/v1/vqa with a fusion head', () => {
  it('answers with softmax probabilities over the answer vocabulary, equal to the head run directly; the response matches the OpenAPI schema', async () => {
    expect((await fetch(`${srv.url}/readyz`).then((r) => r.json())).golden).toBe('passed');
    const question = 'what is in the picture?';
    const r = await post('/v1/vqa', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: png.toString('base64'), question, topK: 10 }) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ head: 'cross_attention', question });
    expect(r.body.answers).toHaveLength(TEST_ANSWERS.length);
    expect(r.body.answers.map((a: { answer: string }) => a.answer).sort()).toEqual([...TEST_ANSWERS].sort());
    const probs = r.body.answers.map((a: { probability: number }) => a.probability);
    expect(probs.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
    expect([...probs].sort((a, b) => b - a)).toEqual(probs);
    expect(r.body.answer).toBe(r.body.answers[0].answer);
    const doc = await fetch(`${srv.url}/openapi.json`).then((x) => x.json());
    expect(checkSchema(r.body, doc.paths['/v1/vqa'].post.responses['200'].content['application/json'].schema, doc)).toEqual([]);

    // Reference: the same folder, tokenizer and processor, run in-process.
    const folder = await loadModelFolder(dir);
    const model = await loadVqaModel(folder);
    const tok = TextTokenizer.fromJSON(folder.tokenizerJson as never, folder.tokenizerConfig as never, { modelConfig: folder.config });
    const enc = tok.encode([question], { maxLength: folder.config.text_config.max_position_embeddings, padding: 'max_length' });
    const px = ImageProcessor.fromConfig((folder.preprocessorConfig ?? defaultPreprocessorConfig('clip', 32)) as never).process([await decodeImage(png)]);
    const inputs = {
      pixelValues: tf.tensor4d(px.pixelValues, px.shape as [number, number, number, number]),
      inputIds: tf.tensor2d(enc.inputIds, [1, enc.shape[1]!], 'int32'),
      attentionMask: tf.tensor2d(enc.attentionMask, [1, enc.shape[1]!], 'int32'),
    };
    const ref = model.predict(inputs).probabilities[0]!;
    for (const a of r.body.answers as { answer: string; probability: number }[]) expect(a.probability).toBeCloseTo(ref[TEST_ANSWERS.indexOf(a.answer)]!, 6);
    tf.dispose(Object.values(inputs));
    model.dispose();
  });

  it('takes multipart (image file + question), bounds topK, and rejects a missing question or image with 400', async () => {
    const form = new FormData();
    form.append('image', new Blob([png], { type: 'image/png' }), 'chelsea.png');
    form.append('question', 'is there a cat?');
    form.append('topK', '2');
    const r = await post('/v1/vqa', { body: form });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.answers).toHaveLength(2);
    const noQ = await post('/v1/vqa', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image: png.toString('base64') }) });
    expect(noQ.status).toBe(400);
    expect(noQ.body.error.code).toBe('invalid_request');
    expect(noQ.body.error.message).toMatch(/question/);
    const noImage = await post('/v1/vqa', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: 'what?' }) });
    expect(noImage.status).toBe(400);
    expect(noImage.body.error.message).toMatch(/image: required/);
  });

  it('the folder with a head still serves embeddings (ONNX towers) and counts /v1/vqa in the metrics', async () => {
    const r = await post('/v1/embed/text', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts: ['a cat'] }) });
    expect(r.status).toBe(200);
    expect(r.body.dim).toBe(32);
    const m = await fetch(`${srv.url}/metrics`).then((x) => x.text());
    expect(m).toMatch(/duet_http_requests_total\{method="POST",route="\/v1\/vqa",status="200"\} [1-9]/);
  });
});

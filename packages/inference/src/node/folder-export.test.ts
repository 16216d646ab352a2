import { readFileSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { updateDuetManifest } from '@duet/model-format/node';
import { l2normRows, referenceIO, refFloat, refInt, relErr, type Fixture } from '../test-util/fixtures.js';
import { cleanupTempFolders, tempModelFolder } from '../test-util/temp-folder.js';
import { GoldenCheckError, MissingOnnxError } from '../runtime/errors.js';
import { createEmbedder, goldenCheck } from './create.js';
import { exportOnnx } from './export-onnx.js';

afterAll(cleanupTempFolders);

async function refTokens(name: Fixture) {
  const io = referenceIO(name);
  const ids = refInt(io, 'input_ids');
  const mask = refInt(io, 'attention_mask');
  return { inputIds: ids.data, attentionMask: mask.data, shape: [ids.shape[0]!, ids.shape[1]!] as [number, number] };
}

describe.each(['tiny-clip', 'tiny-siglip'] as const)('exportOnnx + embedder on %s', (name) => {
  const dir = tempModelFolder(name);
  const exported = exportOnnx(dir, { fp16: true, quantized: true });

  it('writes the transformers.js layout and a golden record covered by duet.json hashes', async () => {
    const r = await exported;
    expect(r.files.sort()).toEqual([
      'onnx/text_model.onnx', 'onnx/text_model_fp16.onnx', 'onnx/text_model_quantized.onnx',
      'onnx/vision_model.onnx', 'onnx/vision_model_fp16.onnx', 'onnx/vision_model_quantized.onnx',
    ]);
    const manifest = JSON.parse(readFileSync(join(dir, 'duet.json'), 'utf8'));
    for (const f of [...r.files, 'duet_golden.safetensors']) expect(manifest.files[f]).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.golden.expected.text_embeds).toHaveLength(2);
    expect(manifest.loss_family).toBe(name === 'tiny-clip' ? 'clip' : 'siglip');
    // fp16/int8 weights shrink the files.
    const size = (f: string) => readFileSync(join(dir, f)).length;
    expect(size('onnx/vision_model_fp16.onnx')).toBeLessThan(0.6 * size('onnx/vision_model.onnx'));
    expect(size('onnx/vision_model_quantized.onnx')).toBeLessThan(0.6 * size('onnx/vision_model.onnx'));
  });

  it('passes the golden check for every variant', async () => {
    await exported;
    for (const dtype of ['fp32', 'fp16', 'q8'] as const) {
      const res = await goldenCheck(dir, { dtype });
      expect(res.filesVerified).toContain(`onnx/text_model${dtype === 'fp32' ? '' : dtype === 'fp16' ? '_fp16' : '_quantized'}.onnx`);
    }
  });

  it.each(['node', 'web'] as const)('embedTokens/embedPixels on onnxruntime-%s reproduce the HF reference embeds', async (engine) => {
    await exported;
    const io = referenceIO(name);
    const emb = await createEmbedder(dir, { engine, batchSize: 3 });
    const tokens = await refTokens(name);
    const t = await emb.embedTokens(tokens);
    const px = refFloat(io, 'pixel_values');
    const v = await emb.embedPixels({ pixelValues: px.data, shape: px.shape as [number, number, number, number] });
    expect(t.shape).toEqual([4, emb.dim]);
    expect(relErr(t.data, refFloat(io, 'text_embeds').data)).toBeLessThan(1e-4);
    expect(relErr(v.data, refFloat(io, 'image_embeds').data)).toBeLessThan(1e-4);
    const raw = await emb.embedPixels({ pixelValues: px.data, shape: px.shape as [number, number, number, number] }, { normalize: false });
    expect(relErr(raw.data, refFloat(io, 'vision_pooler_output').data)).toBeLessThan(1e-4);
    await expect(emb.embedPixels({ pixelValues: new Float32Array(2 * 32 * 32 * 3), shape: [2, 32, 32, 3] })).rejects.toThrow(/pixelValues: expected \[B, 3, 32, 32\], got \[2, 32, 32, 3\]/);
    await expect(emb.embedTokens({ inputIds: new Int32Array(17), shape: [1, 17] })).rejects.toThrow(/sequence length 17 exceeds the model's max_position_embeddings 16/);
    await expect(emb.embedTokens({ inputIds: new Int32Array(5), shape: [1, 16] })).rejects.toThrow(/inputIds: expected 1x16 = 16 values for shape \[1, 16\], got 5/);
    await emb.dispose();
  });

  it('refuses a corrupted ONNX file (sha256) and a mismatched one (embeds)', async () => {
    await exported;
    const file = join(dir, 'onnx/vision_model.onnx');
    const good = readFileSync(file);
    const bad = Buffer.from(good);
    bad[bad.length - 100] ^= 0x55;
    writeFileSync(file, bad);
    await expect(goldenCheck(dir)).rejects.toThrow(/vision_model\.onnx: sha256 .* does not match duet\.json/);
    writeFileSync(file, good);
    // Swap in the text tower of a re-export with perturbed weights and re-hash: only the golden values can tell.
    const other = tempModelFolder(name === 'tiny-clip' ? 'tiny-siglip' : 'tiny-clip');
    await exportOnnx(other);
    const textFile = join(dir, 'onnx/text_model.onnx');
    const keep = readFileSync(textFile);
    cpSync(join(other, 'onnx/text_model.onnx'), textFile);
    await updateDuetManifest(dir, {}, { rehash: true });
    const err = await goldenCheck(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GoldenCheckError);
    expect((err as Error).message).toMatch(/golden check|text_embeds/);
    writeFileSync(textFile, keep);
    await updateDuetManifest(dir, {}, { rehash: true });
    await expect(goldenCheck(dir)).resolves.toBeTruthy();
  });
});

describe('serving models exported by others', () => {
  it.each(['tiny-clip', 'tiny-siglip'] as const)('runs the HF torch.onnx export of %s and reproduces the reference embeds', async (name) => {
    const dir = tempModelFolder(name, { hfOnnx: true });
    const io = referenceIO(name);
    for (const engine of ['node', 'web'] as const) {
      const emb = await createEmbedder(dir, { engine });
      const t = await emb.embedTokens(await refTokens(name));
      const px = refFloat(io, 'pixel_values');
      const v = await emb.embedPixels({ pixelValues: px.data, shape: px.shape as [number, number, number, number] });
      expect(relErr(t.data, refFloat(io, 'text_embeds').data), engine).toBeLessThan(1e-4);
      expect(relErr(v.data, refFloat(io, 'image_embeds').data), engine).toBeLessThan(1e-4);
      await emb.dispose();
    }
  });

  it('a folder without ONNX files names the export command', async () => {
    const dir = tempModelFolder('tiny-clip');
    const err = await createEmbedder(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingOnnxError);
    expect((err as Error).message).toMatch(/onnx\/text_model\.onnx not found.*duet export --onnx/);
  });
});

void l2normRows;

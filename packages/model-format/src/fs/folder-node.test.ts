import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkModelFolder } from '../check-folder.js';
import { ConfigError } from '../config.js';
import { SafetensorsError } from '../dtype.js';
import { ModelFolderError } from '../folder.js';
import { readSafetensors } from '../safetensors.js';
import { HF_REF, MODELS, fixturePath } from '../test-util/fixtures.js';
import { writeFileAtomic } from './atomic.js';
import { writeSafetensorsFile } from './write-safetensors-file.js';
import { openSafetensors } from './file-source.js';
import { hashFile } from './hash.js';
import { loadModelFolder } from './load-folder.js';
import { saveModelFolder, updateDuetManifest } from './save-folder.js';
import { verifyFolder } from './verify-folder.js';

const root = mkdtempSync(join(tmpdir(), 'duet-mf-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let seq = 0;
const fresh = (): string => {
  const d = join(root, `case-${seq++}`);
  mkdirSync(d);
  return d;
};
const tokenizerJson = JSON.parse(readFileSync(`${HF_REF}tokenizers/clip-bpe.tokenizer.json`, 'utf8'));
const processors = JSON.parse(readFileSync(`${HF_REF}preprocess/processor_configs.json`, 'utf8'));
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

describe.each(MODELS)('%s on disk', (model) => {
  const ref = readSafetensors(new Uint8Array(readFileSync(fixturePath(model))));

  it('loads lazily, saves, reloads: identical bytes per tensor, config and passthrough files intact', async () => {
    const src = await loadModelFolder(`${HF_REF}${model}`);
    expect(src.tensorNames().sort()).toEqual([...ref.tensors.keys()].sort());
    for (const n of src.tensorNames()) {
      const info = src.tensorInfo(n);
      expect([n, info.dtype, info.shape]).toEqual([n, ref.tensors.get(n)!.dtype, ref.tensors.get(n)!.shape]);
    }
    expect(src.hasFile('text_model.onnx')).toBe(true);
    expect(src.hasFile('nope.bin')).toBe(false);

    const parent = fresh();
    const out = join(parent, 'model');
    const family = model === 'tiny-clip' ? 'clip' : 'siglip';
    const onnx = await src.readFile('text_model.onnx');
    const manifest = await saveModelFolder(out, {
      config: src.rawConfig,
      tensors: await src.getAllTensors(),
      tokenizerJson,
      tokenizerConfig: { model_max_length: 16, pad_token: '<|endoftext|>' },
      preprocessorConfig: processors[family],
      extraFiles: { 'onnx/text_model.onnx': onnx },
      duet: { provenance: { tool: 'test', step: 3 } },
    });
    expect(readdirSync(parent)).toEqual(['model']); // no temp folders left
    expect(readdirSync(out).sort()).toEqual(['config.json', 'duet.json', 'model.safetensors', 'onnx', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json']);
    expect(manifest.loss_family).toBe(family);
    expect(manifest.files['onnx/text_model.onnx']).toBe(await hashFile(fixturePath(model, 'text_model.onnx')));

    // Same bytes as HF's save_pretrained wrote (reference tensor order, {format: 'pt'} metadata, space padding).
    expect(same(readFileSync(join(out, 'model.safetensors')), readFileSync(fixturePath(model)))).toBe(true);
    const back = await loadModelFolder(out);
    for (const [n, t] of ref.tensors) expect([n, same((await back.getTensor(n)).data, t.data)]).toEqual([n, true]);
    expect(back.config).toEqual(src.config);
    expect(back.rawConfig.architectures).toEqual(src.rawConfig.architectures);
    expect(back.tokenizerJson).toEqual(tokenizerJson);
    expect(back.preprocessorConfig).toEqual(processors[family]);
    expect(back.duet?.provenance).toEqual({ tool: 'test', step: 3 });
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(same(await back.readFile('onnx/text_model.onnx'), onnx)).toBe(true);
    expect(await verifyFolder(out)).toEqual({ ok: true, errors: [], warnings: [] });
    // The isomorphic check (WebCrypto sha256 through readFile) agrees with the streamed node:crypto hashes.
    expect(await checkModelFolder(back)).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('openSafetensors reads only what is asked and reports a file replaced underneath', async () => {
    const dir = fresh();
    const p = join(dir, 'm.safetensors');
    copyFileSync(fixturePath(model), p);
    const r = await openSafetensors(p);
    const n = r.tensorNames()[3]!;
    expect(same((await r.getTensor(n)).data, ref.tensors.get(n)!.data)).toBe(true);
    appendFileSync(p, 'x');
    await expect(r.getTensor(n)).rejects.toThrow(/m\.safetensors: file changed on disk/);
  });
});

describe('atomic replace and manifest', () => {
  it('replaces an existing folder completely and leaves no temp files', async () => {
    const src = await loadModelFolder(`${HF_REF}tiny-siglip`);
    const tensors = await src.getAllTensors();
    const parent = fresh();
    const out = join(parent, 'm');
    await saveModelFolder(out, { config: src.rawConfig, tensors, extraFiles: { 'stale.txt': 'old' } });
    const changed = new Map(tensors);
    changed.set('logit_bias', { dtype: 'F32', shape: [1], data: new Uint8Array(new Float32Array([-10]).buffer) });
    await saveModelFolder(out, { config: { ...src.rawConfig, duet_loss: 'clip' }, tensors: changed });
    expect(readdirSync(parent)).toEqual(['m']);
    expect(readdirSync(out)).not.toContain('stale.txt');
    const back = await loadModelFolder(out);
    expect(new Float32Array((await back.getTensor('logit_bias')).data.slice().buffer)[0]).toBe(-10);
    expect(back.duet?.loss_family).toBe('clip');
  });

  it('refuses tensors that do not match the config, leaving the target untouched', async () => {
    const src = await loadModelFolder(`${HF_REF}tiny-clip`);
    const tensors = await src.getAllTensors();
    tensors.delete('visual_projection.weight');
    const parent = fresh();
    await expect(saveModelFolder(join(parent, 'm'), { config: src.rawConfig, tensors })).rejects.toThrow(/missing tensor "visual_projection\.weight" \(config implies shape \[32,64\]\)/);
    await expect(saveModelFolder(join(parent, 'm'), { config: { model_type: 'nope' }, tensors })).rejects.toThrow(ConfigError);
    await expect(saveModelFolder(join(parent, 'm'), { config: src.rawConfig, tensors: await src.getAllTensors(), extraFiles: { '../evil': 'x' } })).rejects.toThrow(/invalid relative path "\.\.\/evil"/);
    expect(readdirSync(parent)).toEqual([]);
  });

  it('updateDuetManifest merges golden/provenance and rehashes; verifyFolder catches tampering', async () => {
    const src = await loadModelFolder(`${HF_REF}tiny-clip`);
    const out = join(fresh(), 'm');
    await saveModelFolder(out, { config: src.rawConfig, tensors: await src.getAllTensors(), duet: { provenance: { step: 1 } } });
    mkdirSync(join(out, 'onnx'));
    copyFileSync(fixturePath('tiny-clip', 'vision_model.onnx'), join(out, 'onnx', 'vision_model.onnx'));
    expect((await verifyFolder(out)).warnings).toEqual(['onnx/vision_model.onnx: not listed in duet.json']);
    const m = await updateDuetManifest(out, { golden: { texts: ['a photo'], expected: { text_embeds: [[0.1, 0.2]] }, atol: 1e-4 } }, { rehash: true });
    expect(m.provenance).toEqual({ step: 1 });
    expect(m.golden?.texts).toEqual(['a photo']);
    expect(Object.keys(m.files).sort()).toEqual(['config.json', 'model.safetensors', 'onnx/vision_model.onnx']);
    expect(await verifyFolder(out)).toEqual({ ok: true, errors: [], warnings: [] });

    const bytes = readFileSync(join(out, 'model.safetensors'));
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(join(out, 'model.safetensors'), bytes);
    rmSync(join(out, 'onnx', 'vision_model.onnx'));
    const v = await verifyFolder(out);
    expect(v.ok).toBe(false);
    expect(v.errors).toEqual([
      'model.safetensors: sha256 does not match duet.json (file modified or corrupt)',
      'onnx/vision_model.onnx: listed in duet.json but missing',
    ]);
  });

  it('updateDuetManifest creates duet.json when absent and removes entries patched to null', async () => {
    const dir = fresh();
    copyFileSync(fixturePath('tiny-siglip'), join(dir, 'model.safetensors'));
    copyFileSync(fixturePath('tiny-siglip', 'config.json'), join(dir, 'config.json'));
    const m = await updateDuetManifest(dir, { provenance: { tool: 'import' } }, { rehash: true });
    expect(m.format_version).toBe(1);
    expect(m.loss_family).toBe('siglip');
    expect(m.files['model.safetensors']).toBe(await hashFile(fixturePath('tiny-siglip')));
    const m2 = await updateDuetManifest(dir, { files: { 'config.json': null } });
    expect(Object.keys(m2.files)).toEqual(['model.safetensors']);
    expect(m2.provenance).toEqual({ tool: 'import' });
    await expect(updateDuetManifest(dir, { files: { 'x.bin': 'not-a-hash' } })).rejects.toThrow(/files\.x\.bin: expected a lowercase hex sha256/);
    await expect(updateDuetManifest(fresh(), {})).rejects.toThrow(/config\.json: cannot read \(ENOENT\)/);
  });

  it('verifyFolder reports config/tensor mismatches', async () => {
    const dir = fresh();
    copyFileSync(fixturePath('tiny-clip'), join(dir, 'model.safetensors'));
    const cfg = JSON.parse(readFileSync(fixturePath('tiny-clip', 'config.json'), 'utf8'));
    cfg.text_config.num_hidden_layers = 3;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    const v = await verifyFolder(dir);
    expect(v.ok).toBe(false);
    expect(v.errors).toContain('missing tensor "text_model.encoder.layers.2.self_attn.q_proj.weight" (config implies shape [64,64])');
    expect(v.warnings).toContain('duet.json missing: artifact hashes not checked');
  });

  it('writeSafetensorsFile streams a valid file atomically and validates before touching the disk', async () => {
    const dir = fresh();
    const p = join(dir, 'x.safetensors');
    const tensors = readSafetensors(new Uint8Array(readFileSync(fixturePath('tiny-siglip')))).tensors;
    await writeSafetensorsFile(p, tensors, { format: 'pt' }, { order: 'reference' });
    expect(same(readFileSync(p), readFileSync(fixturePath('tiny-siglip')))).toBe(true);
    await expect(writeSafetensorsFile(p, { bad: { dtype: 'F32', shape: [2], data: new Uint8Array(3) } })).rejects.toThrow(/"bad": F32 \[2\] needs 8 bytes, got 3/);
    expect(readdirSync(dir)).toEqual(['x.safetensors']);
    expect(same(readFileSync(p), readFileSync(fixturePath('tiny-siglip')))).toBe(true);
  });

  it('writeFileAtomic replaces a file and leaves no temp file', async () => {
    const dir = fresh();
    const p = join(dir, 'a.json');
    await writeFileAtomic(p, 'one');
    await writeFileAtomic(p, new TextEncoder().encode('two'));
    expect(readFileSync(p, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['a.json']);
    await expect(writeFileAtomic(join(dir, 'missing-dir', 'x'), 'x')).rejects.toThrow(/ENOENT/);
  });
});

describe('clear errors for broken folders (naming the file)', () => {
  const make = (files: Record<string, string | Uint8Array>): string => {
    const d = fresh();
    for (const [k, v] of Object.entries(files)) writeFileSync(join(d, k), v);
    return d;
  };
  const cfg = readFileSync(fixturePath('tiny-clip', 'config.json'), 'utf8');
  const weights = readFileSync(fixturePath('tiny-clip'));

  it('missing folder, config.json, model.safetensors', async () => {
    await expect(loadModelFolder(join(root, 'does-not-exist'))).rejects.toThrow(/does-not-exist: no such model folder/);
    await expect(loadModelFolder(make({ 'model.safetensors': weights }))).rejects.toThrow(/config\.json: missing \(a model folder needs config\.json\)/);
    await expect(loadModelFolder(make({ 'config.json': cfg }))).rejects.toThrow(/model\.safetensors: missing/);
    await expect(loadModelFolder(make({ 'config.json': cfg }))).rejects.toThrow(ModelFolderError);
  });

  it('unreadable JSON and a corrupt safetensors file', async () => {
    await expect(loadModelFolder(make({ 'config.json': '{"model_type": "clip",', 'model.safetensors': weights }))).rejects.toThrow(/config\.json: unreadable JSON/);
    await expect(loadModelFolder(make({ 'config.json': cfg, 'model.safetensors': weights, 'tokenizer.json': '{oops' }))).rejects.toThrow(/tokenizer\.json: unreadable JSON/);
    const d = make({ 'config.json': cfg, 'model.safetensors': weights.subarray(0, 5000) });
    await expect(loadModelFolder(d)).rejects.toThrow(SafetensorsError);
    await expect(loadModelFolder(d)).rejects.toThrow(/model\.safetensors: header length 8568 runs past the end of the 5000-byte file/);
  });

  it('loads a sharded checkpoint through model.safetensors.index.json', async () => {
    const all = readSafetensors(new Uint8Array(weights)).tensors;
    const names = [...all.keys()];
    const { writeSafetensors } = await import('../safetensors.js');
    const a = new Map(names.slice(0, 30).map((n) => [n, all.get(n)!]));
    const b = new Map(names.slice(30).map((n) => [n, all.get(n)!]));
    const weight_map = Object.fromEntries(names.map((n, i) => [n, i < 30 ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors']));
    const d = make({
      'config.json': cfg,
      'model-00001-of-00002.safetensors': writeSafetensors(a), 'model-00002-of-00002.safetensors': writeSafetensors(b),
      'model.safetensors.index.json': JSON.stringify({ metadata: {}, weight_map }),
    });
    const f = await loadModelFolder(d);
    expect(f.tensorNames().sort()).toEqual([...names].sort());
    expect(f.tensorInfo(names[40]!).file).toBe('model-00002-of-00002.safetensors');
    const got = await f.getAllTensors();
    for (const n of names) expect(same(got.get(n)!.data, all.get(n)!.data)).toBe(true);
  });
});

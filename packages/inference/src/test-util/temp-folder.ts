// Temporary copies of fixture model folders (the fixtures themselves are read-only).
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureDir, type Fixture } from './fixtures.js';

const made: string[] = [];

/** Copies config.json + model.safetensors of a fixture; `hfOnnx` also places the HF-exported towers under onnx/. */
export function tempModelFolder(name: Fixture, opts: { hfOnnx?: boolean } = {}): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'duet-inf-')), name);
  mkdirSync(dir, { recursive: true });
  made.push(dir);
  for (const f of ['config.json', 'model.safetensors']) cpSync(join(fixtureDir(name), f), join(dir, f));
  if (opts.hfOnnx) {
    mkdirSync(join(dir, 'onnx'));
    for (const f of ['text_model.onnx', 'vision_model.onnx']) cpSync(join(fixtureDir(name), f), join(dir, 'onnx', f));
  }
  return dir;
}

export function cleanupTempFolders(): void {
  for (const d of made.splice(0)) rmSync(join(d, '..'), { recursive: true, force: true });
}

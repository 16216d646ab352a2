import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, toTypedArray } from '@duet/model-format';
import { buildProgram } from './program.js';

const FIXTURES = new URL('../../../../shared/fixtures/hf-reference/', import.meta.url).pathname;

async function duet(...args: string[]): Promise<string> {
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'duet', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

describe('duet embed / info on the HF reference folders', () => {
  for (const name of ['tiny-clip', 'tiny-siglip']) {
    it(`${name}: embeds the reference input tensors like HF get_*_features (normalised = reference embeds)`, async () => {
      const dir = join(FIXTURES, name);
      const out = join(mkdtempSync(join(tmpdir(), 'duet-embed-')), 'embeds.safetensors');
      await duet('embed', '--model', dir, '--input', join(dir, 'reference_io.safetensors'), '--out', out, '--normalize', '--backend', 'cpu');
      const got = readSafetensors(new Uint8Array(readFileSync(out))).tensors;
      const ref = readSafetensors(new Uint8Array(readFileSync(join(dir, 'reference_io.safetensors')))).tensors;
      for (const key of ['text_embeds', 'image_embeds']) {
        const a = toTypedArray(got.get(key)!), b = toTypedArray(ref.get(key)!);
        expect(got.get(key)!.shape).toEqual(ref.get(key)!.shape);
        let maxErr = 0;
        for (let i = 0; i < a.length; i++) maxErr = Math.max(maxErr, Math.abs(a[i]! - b[i]!));
        expect(maxErr, key).toBeLessThan(1e-4);
      }
    });
  }

  it('info reports the architecture, loss family and parameter count', async () => {
    const s = JSON.parse(await duet('info', join(FIXTURES, 'tiny-siglip'), '--json')) as { lossFamily: string; parameters: { total: number }; modelType: string };
    expect(s.modelType).toBe('siglip');
    expect(s.lossFamily).toBe('siglip');
    // total = sum of the safetensors shapes in the reference file
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'tiny-siglip', 'model.safetensors')));
    const total = [...readSafetensors(bytes).tensors.values()].reduce((acc, t) => acc + t.shape.reduce((x, y) => x * y, 1), 0);
    expect(s.parameters.total).toBe(total);
  });
});

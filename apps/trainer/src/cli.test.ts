import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTrainConfig } from './commands/train.js';
import { buildProgram } from './program.js';

const bin = fileURLToPath(new URL('../bin/duet.js', import.meta.url));
function duet(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmpdir(), timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('duet CLI', () => {
  it('runs from the bin script without a build and shows help with examples for every command', () => {
    const top = duet('--help');
    expect(top.code).toBe(0);
    for (const c of ['train', 'eval', 'export', 'data', 'info', 'embed', 'tokenize']) expect(top.out).toContain(c);
    const train = duet('train', '--help');
    expect(train.code).toBe(0);
    expect(train.out).toMatch(/--batch-size/);
    expect(train.out).toMatch(/Examples:/);
  });

  it('rejects bad input before any work, with a message naming it', async () => {
    const cases: [string[], RegExp][] = [
      [['train', '--batch-size', '10', '--accum', '3'], /batch size 10 does not divide by the accumulation steps 3/],
      [['train', '--preset', 'no-such-preset', '--steps', '1'], /no-such-preset/],
      [['train', '--data', 'missing.csv'], /missing\.csv: no such file/],
      [['train', '--resume', '/nonexistent/run'], /--resume \/nonexistent\/run: no such directory/],
      [['train', '--lr', 'abc'], /--lr must be a number/],
      [['train', '--loss', 'hinge'], /hinge/],
      [['info', '/nonexistent/model'], /no such/],
      [['embed', '--model', '/nonexistent', '--input', '/nonexistent.txt', '--out', 'x.safetensors'], /--input \/nonexistent\.txt: no such file/],
    ];
    for (const [args, re] of cases) {
      let stderr = '';
      const program = buildProgram().exitOverride().configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => undefined });
      for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => undefined });
      const err = await program.parseAsync(['node', 'duet', ...args]).then(() => undefined, (e: Error) => e);
      expect(err, args.join(' ')).toBeInstanceOf(Error);
      expect(`${stderr} ${err!.message}`, args.join(' ')).toMatch(re);
    }
  });
});

describe('train config layering', () => {
  it('defaults to the tiny-siglip Fashion-MNIST recipe on wasm; flags override a config file', () => {
    const d = buildTrainConfig({});
    expect(d).toMatchObject({ preset: 'tiny-siglip', data: 'fashion-mnist', backend: 'wasm' });
    expect(d.out).toMatch(/^runs\/tiny-siglip-/);
    const file = join(mkdtempSync(join(tmpdir(), 'duet-cli-')), 'run.json');
    writeFileSync(file, JSON.stringify({ preset: 'tiny-clip', lr: 0.01, batchSize: 32, out: 'x' }));
    const c = buildTrainConfig({ config: file, lr: 0.002 });
    expect(c).toMatchObject({ preset: 'tiny-clip', lr: 0.002, batchSize: 32, out: 'x' });
    expect(buildTrainConfig({ smoke: true }).steps).toBe(1);
    expect(() => buildTrainConfig({ config: file, batchSize: 30, accum: 4 })).toThrow(/does not divide/);
  });
});

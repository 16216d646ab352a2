// `duet serve` and `duet demo` through the bin script (a fresh clone, no build): the retrieval API on a free port
// with a fixture model folder answers /readyz and a search of the built-in Fashion-MNIST collection.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTestModelFolder } from '@duet/retrieval-api/testing';
import { buildProgram } from './program.js';

const bin = fileURLToPath(new URL('../bin/duet.js', import.meta.url));
const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM')));

/** Spawns the CLI and resolves with the child once stdout has printed a line matching `re` (plus the match). */
function spawnUntil(args: string[], re: RegExp, timeoutMs = 90_000): Promise<{ child: ChildProcess; match: RegExpMatchArray; out: () => string }> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; stdout: ${out} stderr: ${err}`)), timeoutMs);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const m = out.match(re);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, out: () => out });
      }
    });
    child.on('exit', (code) => reject(new Error(`duet ${args[0]} exited (${code}) before ${re}; stdout: ${out} stderr: ${err}`)));
  });
}

async function errorOf(args: string[]): Promise<string> {
  let stderr = '';
  const program = buildProgram().exitOverride().configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => undefined });
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => undefined });
  const e = await program.parseAsync(['node', 'duet', ...args]).then(() => undefined, (x: Error) => x);
  return `${stderr} ${e?.message ?? 'no error'}`;
}

describe('duet serve', () => {
  it('serves the retrieval API on a free port: /readyz, then a text search of the built-in collection', async () => {
    const model = await makeTestModelFolder('tiny-clip');
    const data = mkdtempSync(join(tmpdir(), 'duet-serve-'));
    const { child, match, out } = await spawnUntil(
      ['serve', '--model', model, '--port', '0', '--data', data, '--index', 'fashion-mnist-test', '--index-limit', '40'],
      /built-in collections ready/,
    );
    const url = /retrieval API: (http:\/\/\S+)/.exec(out())![1]!;
    expect(match[0]).toBeTruthy();
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, golden: 'passed' });
    const r = await fetch(`${url}/v1/collections/fashion-mnist-test/search`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'a photo of a sneaker.', k: 5 }),
    });
    expect(r.status).toBe(200);
    const { results } = (await r.json()) as { results: { id: string; score: number; metadata: { className: string; index: number } }[] };
    expect(results).toHaveLength(5);
    for (const h of results) {
      expect(h.id).toMatch(/^fashion-mnist-test-\d+$/);
      expect(h.metadata.index).toBeLessThan(40);
      expect(typeof h.metadata.className).toBe('string');
    }
    expect(results.map((h) => h.score)).toEqual([...results.map((h) => h.score)].sort((a, b) => b - a));
    child.kill('SIGTERM');
    expect(await new Promise((ok) => child.on('exit', ok))).toBe(0);
  });

  it('rejects bad input before starting, naming it', async () => {
    const notModel = mkdtempSync(join(tmpdir(), 'duet-nomodel-'));
    writeFileSync(join(notModel, 'config.json'), '{}');
    expect(await errorOf(['serve', '--model', '/nonexistent/model'])).toMatch(/--model \/nonexistent\/model: not a model folder/);
    expect(await errorOf(['serve', '--model', notModel, '--index', 'imagenet'])).toMatch(/unknown built-in collection "imagenet"/);
    expect(await errorOf(['serve', '--model', notModel, '--port', '-1'])).toMatch(/--port must be an integer >= 0/);
    expect(await errorOf(['demo', '--model', '/nonexistent/model'])).toMatch(/--model \/nonexistent\/model: no such directory/);
    expect(await errorOf(['demo', '--model', notModel, '--gallery-size', '0'])).toMatch(/no ONNX towers .*duet export --onnx/);
  });
});

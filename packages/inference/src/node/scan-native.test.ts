import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'duet-scan-build-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('native scan build and fallback', () => {
  it('the install script never fails without a compiler (and says why); the explicit build does', () => {
    for (const p of ['native', 'tools', 'binding.gyp', 'package.json']) cpSync(join(PKG, p), join(tmp, p), { recursive: true });
    // The copy resolves the shared build driver (@duet/runtime/native-build) as the workspace does.
    mkdirSync(join(tmp, 'node_modules', '@duet'), { recursive: true });
    symlinkSync(join(PKG, '..', 'runtime'), join(tmp, 'node_modules', '@duet', 'runtime'));
    const env = { PATH: '', CC: '', npm_config_node_gyp: '' };
    const optional = spawnSync(process.execPath, [join(tmp, 'tools', 'build-scan.mjs'), '--optional'], { encoding: 'utf8', env });
    expect(optional.status).toBe(0);
    expect(optional.stderr).toMatch(/no C compiler found.*onnxruntime/);
    expect(existsSync(join(tmp, 'build', 'Release', 'duet_scan.node'))).toBe(false);
    const strict = spawnSync(process.execPath, [join(tmp, 'tools', 'build-scan.mjs')], { encoding: 'utf8', env });
    expect(strict.status).toBe(2);
  });

  it('DUET_SCAN_NATIVE=0 falls back to the onnxruntime engine with the same answers, and engine "native" then errors', () => {
    const script = `
      import { ExactIndex, Int8ExactSearch, scanNativeUnavailableReason } from './src/node.ts';
      const d = 16, n = 300;
      const v = new Float32Array(n * d).map((_, i) => Math.sin(i * 1.7));
      const ref = new ExactIndex(d);
      ref.add(Array.from({ length: n }, (_, i) => 'r' + i), v);
      const s = await Int8ExactSearch.create(ref);
      const q = v.subarray(5 * d, 8 * d);
      const a = await ref.searchRaw(q, 5), b = await s.searchRaw(q, 5);
      const same = a.indices.every((x, i) => x === b.indices[i]) && a.scores.every((x, i) => x === b.scores[i]);
      let err = '';
      await Int8ExactSearch.create(ref, { engine: 'native' }).catch((e) => (err = e.message));
      console.log(JSON.stringify({ engine: s.engine, same, err, reason: scanNativeUnavailableReason() }));
    `;
    const r = spawnSync(process.execPath, ['--conditions=@duet/source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: PKG, encoding: 'utf8', env: { ...process.env, DUET_SCAN_NATIVE: '0' },
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { engine: string; same: boolean; err: string; reason: string };
    expect(out).toMatchObject({ engine: 'onnxruntime', same: true, reason: 'disabled by DUET_SCAN_NATIVE=0' });
    expect(out.err).toMatch(/engine 'native': the int8 scan addon is unavailable \(disabled by DUET_SCAN_NATIVE=0\)/);
  });
});

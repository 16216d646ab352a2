// The mpi group on real MPI ranks (mpirun -n 2 and -n 4) against closed forms, plus the optional-install paths:
// no MPI -> MpiUnavailableError saying what to install; binding missing but MPI present -> built on first use.
// Needs Open MPI (CI installs libopenmpi-dev + openmpi-bin): without it these tests fail, they never skip.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkMpiScript, type MpiScriptOut } from '../test/mpi-check.js';
import { PKG_DIR, requireMpi, runMpi } from './testing.js';

const WORKER = new URL('../test/workers/mpi-script.ts', import.meta.url);

beforeAll(() => requireMpi());

describe('mpi group collectives (mpirun)', () => {
  for (const w of [2, 4]) {
    it(`mpirun -n ${w}: every collective equals its closed form; bytesSent follows the ring cost model`, async () => {
      const run = await runMpi<MpiScriptOut>(w, WORKER, null);
      expect(run.code, run.stderr).toBe(0);
      expect(run.results).toHaveLength(w);
      checkMpiScript(run.results, w);
    });
  }
});

describe('mpi group availability', () => {
  // A copy of the package without a built binding, so the real one is not disturbed.
  function copyPackage(): string {
    // Inside the package (tmp/ is git-ignored) so tsx and the workspace resolve from it.
    mkdirSync(join(PKG_DIR, 'tmp'), { recursive: true });
    const dir = mkdtempSync(join(PKG_DIR, 'tmp', 'mpi-'));
    for (const p of ['src', 'tools', 'native', 'binding.gyp', 'package.json']) cpSync(join(PKG_DIR, p), join(dir, p), { recursive: true });
    return dir;
  }
  const probe = `import { createMpiGroup } from './src/mpi.ts';
    createMpiGroup().then(async (g) => { const s = await g.allReduce(Float32Array.from([2, 3])); console.log(JSON.stringify({ ok: true, rank: g.rank, size: g.worldSize, s: [...s] })); },
      (e) => console.log(JSON.stringify({ ok: false, name: e.name, message: e.message })));`;
  function runProbe(dir: string, env: Record<string, string>) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    expect(line, r.stderr).toMatch(/^\{/);
    return JSON.parse(line) as { ok: boolean; name?: string; message?: string; rank?: number; size?: number; s?: number[] };
  }

  it('without MPI: createMpiGroup rejects with MpiUnavailableError saying what to install', () => {
    const dir = copyPackage();
    try {
      const res = runProbe(dir, { MPICC: '/nonexistent/mpicc' });
      expect(res.ok).toBe(false);
      expect(res.name).toBe('MpiUnavailableError');
      expect(res.message).toMatch(/no MPI found/);
      expect(res.message).toMatch(/apt-get install libopenmpi-dev openmpi-bin/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with MPI but no binding yet: built on first use; a process started alone is a world of one', () => {
    const dir = copyPackage();
    try {
      const res = runProbe(dir, {});
      expect(res).toEqual({ ok: true, rank: 0, size: 1, s: [2, 3] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

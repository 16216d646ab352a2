// A save killed at a random moment leaves the old or the new folder intact (after recoverModelFolder for the
// instant between the two renames), never a half-written one.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModelFolder } from './load-folder.js';
import { recoverModelFolder, saveModelFolder } from './save-folder.js';
import { verifyFolder } from './verify-folder.js';

const child = fileURLToPath(new URL('../test-util/save-child.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'duet-kill-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

/** Runs the child until it has printed `saved` `after` times, then waits `delayMs` and SIGKILLs it. */
function runAndKill(dir: string, start: number, after: number, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, dir, '8', String(start)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let saved = 0;
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.stdout.on('data', (d: Buffer) => {
      saved += (d.toString().match(/saved/g) ?? []).length;
      if (saved === after) setTimeout(() => p.kill('SIGKILL'), delayMs);
    });
    p.on('close', (code, signal) => (signal === 'SIGKILL' ? resolve(saved) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

async function checkIntact(dir: string): Promise<number> {
  const v = await verifyFolder(dir);
  expect(v.errors).toEqual([]);
  const f = await loadModelFolder(dir);
  const step = f.duet!.provenance!.step!;
  if (f.hasTensor('filler')) {
    const filler = (await f.getTensor('filler')).data;
    expect([filler[0], filler[filler.length - 1]]).toEqual([step % 256, step % 256]);
  }
  return step;
}

describe('kill during save', () => {
  it('always leaves a complete old or new folder', async () => {
    const r = rng(7);
    const dir = join(root, 'model');
    let start = 0;
    const outcomes: string[] = [];
    for (let round = 0; round < 5; round++) {
      const saved = await runAndKill(dir, start, 1 + (round % 2), Math.floor(r() * 120));
      const before = readdirSync(root);
      const missing = !before.includes('model');
      if (!missing) await checkIntact(dir); // the common case: intact even before any recovery
      const action = await recoverModelFolder(dir);
      const step = await checkIntact(dir);
      // The folder holds the last completed save or the one in flight when killed.
      expect(step).toBeGreaterThanOrEqual(start + saved - 1);
      expect(step).toBeLessThanOrEqual(start + saved);
      expect(readdirSync(root)).toEqual(['model']); // temp folders of the dead process cleaned up
      outcomes.push(`${missing ? 'missing' : 'present'}/${action}/${before.length - (missing ? 0 : 1)} temp`);
      start += saved + 1;
    }
    expect(outcomes).toHaveLength(5);
  });
});

describe('recoverModelFolder (the instant between the two renames)', () => {
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;

  async function stage(name: string, newComplete: boolean): Promise<string> {
    const parent = join(root, name);
    const dir = join(parent, 'model');
    const src = await loadModelFolder(fileURLToPath(new URL('../../../../../shared/fixtures/hf-reference/tiny-clip', import.meta.url)));
    const tensors = await src.getAllTensors();
    await saveModelFolder(dir, { config: src.rawConfig, tensors, duet: { provenance: { step: 1 } } });
    await saveModelFolder(join(parent, 'next'), { config: src.rawConfig, tensors, duet: { provenance: { step: 2 } } });
    if (!newComplete) writeFileSync(join(parent, 'next', 'model.safetensors'), 'truncated');
    renameSync(join(parent, 'next'), join(parent, `.model.tmp-${deadPid}-0badf00d`));
    renameSync(dir, join(parent, `.model.old-${deadPid}-0badf00d`));
    return dir;
  }

  it('puts a complete new folder in place', async () => {
    const dir = await stage('a', true);
    expect(await recoverModelFolder(dir)).toBe('restored-new');
    expect(await checkIntact(dir)).toBe(2);
    expect(readdirSync(join(root, 'a'))).toEqual(['model']);
  });

  it('falls back to the old folder when the new one is incomplete', async () => {
    const dir = await stage('b', false);
    expect(await loadModelFolder(dir).then((f) => f.duet!.provenance!.step)).toBe(1); // loading recovers too
    expect(readdirSync(join(root, 'b'))).toEqual(['model']);
  });

  it('loading waits for a live save that is between its two renames', async () => {
    const dir = await stage('d', true);
    const parent = join(root, 'd');
    // Pretend the swap belongs to this (live) process: recovery must not touch it, loading must wait for it.
    renameSync(join(parent, `.model.old-${deadPid}-0badf00d`), join(parent, `.model.old-${process.pid}-0badf00d`));
    setTimeout(() => renameSync(join(parent, `.model.tmp-${deadPid}-0badf00d`), dir), 150);
    expect((await loadModelFolder(dir)).duet!.provenance!.step).toBe(2);
  });

  it('leaves temp folders of live processes alone', async () => {
    const parent = join(root, 'c');
    mkdirSync(join(parent, `.model.tmp-${process.pid}-12345678`), { recursive: true });
    expect(await recoverModelFolder(join(parent, 'model'))).toBe('none');
    expect(readdirSync(parent)).toEqual([`.model.tmp-${process.pid}-12345678`]);
  });
});

import { describe, it, expect, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@duet/runtime';
import { resolveConfig } from './config.js';
import { runTraining, NonFiniteLossError, type LoaderBatch } from './loop.js';
import { CheckpointManager } from './io/checkpoints.js';
import { readMetrics } from './io/metrics-log.js';
import { syntheticSession } from './test-session.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const tmp = () => mkdtempSync(join(tmpdir(), 'duet-loop-'));
const quiet = (): void => undefined;
// Same settings as testing-resume-child.ts.
const config = (out: string, extra = {}) => resolveConfig({
  data: 'synthetic', evalData: 'none', batchSize: 8, accum: 2, steps: 10, warmup: 2, lr: 0.05, saveEvery: 1, keepCheckpoints: 2, out, seed: 3,
  backend: 'cpu', ...extra,
});
const session = (resumeDir?: string) => syntheticSession({ family: 'siglip', size: 24, batchSize: 8, seed: 3, ...(resumeDir ? { resumeDir } : {}) });

function runChild(out: string, resume?: string, delayMs = 0): { done: Promise<number | null>; kill: () => void } {
  const script = fileURLToPath(new URL('./testing-resume-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=@duet/source', '--import', 'tsx', script, out, 'siglip', ...(resume ? [resume] : [])], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DUET_TEST_STEP_DELAY_MS: String(delayMs) },
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<number | null>((res) => child.on('exit', (code) => {
    if (code) console.error(err);
    res(code);
  }));
  return { done, kill: () => child.kill('SIGKILL') };
}

describe('training loop', () => {
  let reference: number[] = [];

  it('trains, logs every step, checkpoints, and writes a model folder with metrics and a plot', async () => {
    const out = tmp();
    const r = await runTraining(config(out), session(), { onLog: quiet });
    expect(r.stopped).toBe('completed');
    expect(r.steps).toBe(10);
    reference = r.losses.map((l) => l.loss);
    expect(reference.every(Number.isFinite)).toBe(true);
    expect(reference.at(-1)!).toBeLessThan(reference[0]!); // it learns something
    expect(readMetrics(join(out, 'metrics.jsonl')).filter((m) => typeof m['loss'] === 'number').map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(new CheckpointManager(join(out, 'checkpoints')).list().map((c) => c.step)).toEqual([9, 10]);
    for (const f of ['model/model.safetensors', 'model/training/metrics.jsonl', 'model/training/curves.png', 'curves.png']) expect(existsSync(join(out, f)), f).toBe(true);
  });

  it('resumes exactly after a SIGKILL: the losses after the checkpoint equal the uninterrupted run', async () => {
    const out = tmp();
    const first = runChild(out, undefined, 400);
    const ckpts = new CheckpointManager(join(out, 'checkpoints'));
    for (let i = 0; i < 600 && (ckpts.latest()?.step ?? 0) < 4; i++) await new Promise((r) => setTimeout(r, 50));
    first.kill();
    await first.done;
    const killedAt = ckpts.latest()!.step;
    expect(killedAt).toBeGreaterThanOrEqual(4);
    expect(killedAt).toBeLessThan(10);
    expect(await runChild(out, out).done).toBe(0);
    const losses = readMetrics(join(out, 'metrics.jsonl')).filter((m) => typeof m['loss'] === 'number');
    expect(losses.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    losses.forEach((m, i) => expect(m['loss'] as number, `step ${m.step} (killed after ${killedAt})`).toBeCloseTo(reference[i]!, 6));
  });

  it('an abort (Ctrl-C) finishes the step, checkpoints and returns; resuming in-process continues exactly', async () => {
    const out = tmp();
    const ac = new AbortController();
    const r = await runTraining(config(out), session(), { signal: ac.signal, onLog: quiet, afterStep: (s) => { if (s === 3) ac.abort(); } });
    expect(r.stopped).toBe('interrupted');
    const latest = new CheckpointManager(join(out, 'checkpoints')).latest()!;
    expect(latest.step).toBe(3);
    const r2 = await runTraining(config(out), session(latest.dir), { onLog: quiet }, CheckpointManager.load(latest.dir));
    expect(r2.losses.map((l) => l.loss)).toEqual(reference.slice(3).map((x) => expect.closeTo(x, 6)));
  });

  it('stops on a non-finite loss with a clear error and keeps the last good checkpoint', async () => {
    const out = tmp();
    const s = session();
    const make = s.makeLoader.bind(s);
    let n = 0;
    s.makeLoader = (epoch, from) => {
      const src = make(epoch, from);
      return {
        position: () => src.position(),
        async *[Symbol.asyncIterator]() {
          for await (const b of src) {
            if (++n === 3) (b as LoaderBatch).pixelValues.fill(NaN);
            yield b;
          }
        },
      };
    };
    await expect(runTraining(config(out), s, { onLog: quiet })).rejects.toThrow(NonFiniteLossError);
    await expect(runTraining(config(tmp()), session(), { onLog: quiet }).then(() => 'ok')).resolves.toBe('ok');
    const ck = new CheckpointManager(join(out, 'checkpoints'));
    expect(ck.latest()!.step).toBe(2);
    expect(CheckpointManager.load(ck.latest()!.dir).state.lastLoss).toBeCloseTo(reference[1]!, 6);
  });
});

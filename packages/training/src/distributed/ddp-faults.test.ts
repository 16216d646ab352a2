// Faults in `duet train --workers 2` (train() with config.workers = 2, the CLI's path): a rank killed mid-run
// (test hook: it calls process.exit right after the step-3 checkpoint) fails the run with an error naming it,
// and resuming from the run directory ends with the same weights as an uninterrupted 2-worker run, bit for bit.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, toTypedArray } from '@duet/model-format';
import { ThreadsLaunchError } from '@duet/distributed';
import { resolveConfig } from '../config.js';
import { train } from '../train.js';
import { readMetrics } from '../io/metrics-log.js';
import { CheckpointManager } from '../io/checkpoints.js';
import { isRankPositions } from './data-parallel.js';

const tiny = {
  vision_config: { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, patch_size: 14 },
  text_config: { hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 16, projection_size: 16 },
};
const config = (out: string, extra = {}) => resolveConfig({
  preset: 'tiny-siglip', modelOverrides: tiny, data: 'shapes', evalData: 'none', trainLimit: 48, batchSize: 8, steps: 6, warmup: 1,
  lr: 0.01, saveEvery: 1, keepCheckpoints: 10, backend: 'cpu', seed: 2, workers: 2, out, ...extra,
});
const quiet = { onLog: () => undefined };

function weights(runDir: string): Map<string, Float32Array> {
  const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(runDir, 'model', 'model.safetensors'))));
  return new Map([...tensors].map(([n, t]) => [n, toTypedArray(t) as Float32Array]));
}

describe('data-parallel training with worker threads: faults and resume', () => {
  it('a rank that dies fails the run naming it; resuming continues to the weights of an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'duet-ddp-fault-'));
    const whole = await train(config(join(dir, 'whole')), quiet);
    expect(whole.steps).toBe(6);
    expect(whole.samplesSeen).toBe(48);

    const broken = join(dir, 'broken');
    process.env['DUET_TEST_EXIT_RANK_AFTER_STEP'] = '1:3';
    const err = await train(config(broken), quiet).then(() => undefined, (e: unknown) => e).finally(() => delete process.env['DUET_TEST_EXIT_RANK_AFTER_STEP']);
    expect(err).toBeInstanceOf(ThreadsLaunchError);
    const e = err as ThreadsLaunchError;
    expect(e.firstRank).toBe(1);
    expect(e.message).toMatch(/rank 1 failed: exited with code 3/);
    expect(e.failures.find((f) => f.rank === 0)?.message).toMatch(/rank 1 failed while rank 0 was in/);

    const logs: string[] = [];
    const resumed = await train(config(broken, { resume: broken }), { onLog: (m) => logs.push(m) });
    expect(resumed.stopped).toBe('completed');
    expect(resumed.losses.map((l) => l.step)).toEqual([4, 5, 6]);
    expect(resumed.losses.map((l) => l.loss)).toEqual(whole.losses.slice(3).map((l) => l.loss));
    expect(readMetrics(join(broken, 'metrics.jsonl')).filter((m) => typeof m['loss'] === 'number').map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    const a = weights(join(dir, 'whole'));
    const b = weights(broken);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [name, t] of a) expect(Buffer.from(b.get(name)!.buffer).equals(Buffer.from(t.buffer)), name).toBe(true);

    // The checkpoint holds one loader position per rank: another rank count is refused before any work.
    await expect(train(config(broken, { resume: broken, workers: 1 }), quiet)).rejects.toThrow(/written by 2 ranks but this run has 1.*--workers 2/);
  });

  it('Ctrl-C (the abort signal) stops every rank after the same step and checkpoints every rank\'s data position', async () => {
    const out = mkdtempSync(join(tmpdir(), 'duet-ddp-abort-'));
    const ac = new AbortController();
    const r = await train(config(out, { steps: 60, saveEvery: 0 }), { ...quiet, signal: ac.signal, onProgress: (p) => { if (p.step >= 1) ac.abort(); } });
    expect(r.stopped).toBe('interrupted');
    expect(r.steps).toBeGreaterThanOrEqual(1);
    expect(r.steps).toBeLessThan(60);
    const latest = new CheckpointManager(join(out, 'checkpoints')).latest()!;
    expect(latest.step).toBe(r.steps);
    const { dataPosition } = CheckpointManager.load(latest.dir).state;
    expect(isRankPositions(dataPosition) && dataPosition.worldSize).toBe(2);
    expect((dataPosition as { ranks: { rank: number }[] }).ranks.map((p) => p?.rank ?? null)).toEqual(r.steps % 6 === 0 ? [null, null] : [0, 1]);
  });
});

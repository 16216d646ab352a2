// `duet train --workers N`: the flag reaches the training config (validated), is listed in the help, and a
// --resume picks the checkpoint's worker count up (a data-parallel checkpoint holds one data position per rank).
// The multi-worker runs themselves (equivalence, a killed rank, resume) are tested in @duet/training.
import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointManager } from '@duet/training';
import { buildTrainConfig } from './commands/train.js';
import { buildProgram } from './program.js';

describe('duet train --workers', () => {
  it('sets config.workers, is in the help, and rejects a non-positive count', () => {
    expect(buildTrainConfig({ smoke: true, workers: 2 }).workers).toBe(2);
    expect(buildTrainConfig({ smoke: true }).workers).toBe(1);
    const train = buildProgram().commands.find((c) => c.name() === 'train')!;
    const opt = train.options.find((o) => o.long === '--workers')!;
    expect(opt.description).toMatch(/worker threads/);
    expect(() => opt.parseArg!('0', undefined)).toThrow(/--workers must be an integer >= 1/);
  });

  it('--resume continues with the checkpoint\'s worker count', async () => {
    const out = mkdtempSync(join(tmpdir(), 'duet-workers-'));
    const config = { ...buildTrainConfig({ smoke: true, workers: 2, out }), resume: undefined };
    await new CheckpointManager(join(out, 'checkpoints')).save({
      state: { step: 1, epoch: 0, samplesSeen: 4, optimizerStep: 1, dataPosition: { worldSize: 2, ranks: [null, null] }, rngState: null, config, lastLoss: 1 },
      optimizerTensors: new Map(),
      writeModel: async (d) => { mkdirSync(d, { recursive: true }); },
    });
    const resumed = buildTrainConfig({ resume: out });
    expect(resumed.workers).toBe(2);
    expect(resumed.out).toBe(out);
  });
});

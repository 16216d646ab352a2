import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, mkdirSync, readdirSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromFloat32 } from '@duet/model-format';
import { CheckpointManager, NonFiniteStateError, resolveCheckpoint } from './checkpoints.js';
import { MetricsLog } from './metrics-log.js';
import { curvesSvg, svgToPng } from './plot.js';
import { ProgressReporter } from './progress.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'duet-training-'));
const state = (step: number, lastLoss: number | null = 1) => ({
  step, epoch: 0, samplesSeen: step * 4, optimizerStep: step, dataPosition: { i: step }, rngState: { s: 1 }, config: {}, lastLoss,
});
const writeModel = async (dir: string) => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), '{}');
};

describe('CheckpointManager', () => {
  it('saves atomically, keeps the last K and round-trips optimizer state', async () => {
    const root = join(tmp(), 'checkpoints');
    const mgr = new CheckpointManager(root, 2);
    const opt = new Map([['m.w', fromFloat32(new Float32Array([1.5, -2]), [2])]]);
    for (const s of [1, 2, 3]) await mgr.save({ state: state(s), optimizerTensors: opt, writeModel });
    expect(mgr.list().map((c) => c.step)).toEqual([2, 3]);
    expect(readdirSync(root).filter((n) => n.startsWith('.tmp'))).toEqual([]);
    const loaded = CheckpointManager.load(resolveCheckpoint(join(root, '..')));
    expect(loaded.state.step).toBe(3);
    expect(loaded.state.dataPosition).toEqual({ i: 3 });
    expect(Array.from(new Float32Array(loaded.optimizerTensors.get('m.w')!.data.slice().buffer))).toEqual([1.5, -2]);
  });

  it('never replaces the last good checkpoint with a non-finite state', async () => {
    const root = join(tmp(), 'checkpoints');
    const mgr = new CheckpointManager(root, 1);
    const good = new Map([['m.w', fromFloat32(new Float32Array([1]), [1])]]);
    await mgr.save({ state: state(1), optimizerTensors: good, writeModel });
    await expect(mgr.save({ state: state(2, NaN), optimizerTensors: good, writeModel })).rejects.toThrow(NonFiniteStateError);
    const bad = new Map([['w', fromFloat32(new Float32Array([Infinity]), [1])]]);
    await expect(mgr.save({ state: state(2), optimizerTensors: good, modelTensors: bad, writeModel })).rejects.toThrow(/model tensor w/);
    expect(mgr.list().map((c) => c.step)).toEqual([1]);
  });

  it('ignores an incomplete checkpoint folder and explains a bad --resume path', () => {
    const root = tmp();
    mkdirSync(join(root, 'checkpoints', 'step-00000005'), { recursive: true });
    expect(() => resolveCheckpoint(root)).toThrow(/no checkpoint found/);
    expect(() => resolveCheckpoint(join(root, 'missing'))).toThrow(/no such directory/);
  });
});

describe('MetricsLog', () => {
  it('appends JSONL, survives a torn last line and truncates past a resumed step', () => {
    const log = new MetricsLog(join(tmp(), 'metrics.jsonl'));
    for (let s = 1; s <= 4; s++) log.append({ step: s, loss: 1 / s });
    appendFileSync(log.path, '{"step": 5, "lo');
    expect(log.read().map((r) => r.step)).toEqual([1, 2, 3, 4]);
    log.truncateAfter(2);
    expect(log.read()).toEqual([{ step: 1, loss: 1 }, { step: 2, loss: 0.5 }]);
  });
});

describe('plot', () => {
  it('draws the curves as SVG and renders a PNG', async () => {
    const svg = curvesSvg([{ step: 1, loss: 2, lr: 1e-3 }, { step: 2, loss: 1, lr: 5e-4, zeroshot_top1: 0.5 }], 'run');
    expect(svg).toContain('<path');
    expect(svg).toContain('zero-shot top-1');
    const png = await svgToPng(svg);
    expect(Array.from(png.slice(1, 4))).toEqual([0x50, 0x4e, 0x47]); // "PNG"
  });
});

describe('ProgressReporter', () => {
  it('prints plain periodic lines with rate and ETA when not on a TTY', () => {
    const out: string[] = [];
    let t = 0;
    const p = new ProgressReporter({ stream: { write: (s: string) => out.push(s), isTTY: false }, intervalS: 5, now: () => t });
    p.update({ step: 0, total: 10, samples: 0 });
    t = 1000; p.update({ step: 1, total: 10, samples: 8 }); // within interval: silent
    t = 6000; p.update({ step: 5, total: 10, samples: 40, fields: { loss: 0.5 } });
    expect(out).toHaveLength(2);
    expect(out[1]).toMatch(/5\/10 50%\s+6\.7 samples\/s\s+ETA 6s\s+loss 0\.5/);
  });
  it('redraws one bar in place on a TTY', () => {
    const out: string[] = [];
    const p = new ProgressReporter({ stream: { write: (s: string) => out.push(s), isTTY: true, columns: 120 }, now: () => 0 });
    p.update({ step: 1, total: 4, samples: 4 });
    expect(out[0]).toMatch(/^\rtrain \[#+\.+\] 1\/4 25%/);
  });
});

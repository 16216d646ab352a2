// A synthetic, fully deterministic LoopSession for unit tests of the loop, checkpoints and resume (not exported).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readSafetensors, writeSafetensors } from '@duet/model-format';
import { LinearDualEncoder } from './test-model.js';
import type { BatchSource, LoaderBatch, LoopSession } from './loop.js';
import type { LossFamily } from './model.js';

const C = 3, H = 2, W = 2, L = 5, VOCAB = 20;

/** Deterministic pseudo-random in [0, 1) from integers (no state). */
function hash(...xs: number[]): number {
  let h = 2166136261;
  for (const x of xs) { h ^= x; h = Math.imul(h, 16777619); h ^= h >>> 13; }
  return ((h >>> 0) % 1_000_003) / 1_000_003;
}

/** A shuffled order per epoch (Fisher–Yates driven by `hash`). */
function order(n: number, seed: number, epoch: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(hash(seed, epoch, i) * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export function syntheticSession(opts: { family: LossFamily; size: number; batchSize: number; seed: number; resumeDir?: string }): LoopSession & { model: LinearDualEncoder } {
  const model = new LinearDualEncoder(opts.family, C * H * W, VOCAB, 6, opts.seed + 1);
  if (opts.resumeDir) model.loadTensors(readSafetensors(new Uint8Array(readFileSync(join(opts.resumeDir, 'model.safetensors')))).tensors);
  return {
    model,
    label: 'synthetic',
    datasetSize: opts.size,
    makeLoader(epoch, resumeFrom) {
      const perm = order(opts.size, opts.seed, epoch);
      let next = (resumeFrom as { index?: number } | undefined)?.index ?? 0;
      return {
        position: () => ({ epoch, index: next }),
        async *[Symbol.asyncIterator](): AsyncGenerator<LoaderBatch> {
          while (next + opts.batchSize <= opts.size) {
            const idx = perm.slice(next, next + opts.batchSize);
            next += opts.batchSize;
            const b = idx.length;
            yield {
              pixelValues: Float32Array.from({ length: b * C * H * W }, (_, k) => hash(idx[Math.floor(k / (C * H * W))]!, k % (C * H * W)) * 2 - 1),
              pixelShape: [b, C, H, W],
              inputIds: Int32Array.from({ length: b * L }, (_, k) => Math.floor(hash(7, idx[Math.floor(k / L)]!, k % L) * VOCAB)),
              attentionMask: Int32Array.from({ length: b * L }, (_, k) => (k % L < 2 + (idx[Math.floor(k / L)]! % 3) ? 1 : 0)),
              textShape: [b, L],
              labels: idx.map((i) => i % 4),
            };
          }
        },
      } satisfies BatchSource;
    },
    async saveModel(dir, info) {
      const tmp = `${dir}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      writeFileSync(join(tmp, 'config.json'), JSON.stringify({ model_type: 'synthetic', family: opts.family }));
      writeFileSync(join(tmp, 'model.safetensors'), writeSafetensors(model.toTensors()));
      for (const [rel, data] of Object.entries(info.extraFiles ?? {})) {
        mkdirSync(dirname(join(tmp, rel)), { recursive: true });
        writeFileSync(join(tmp, rel), data);
      }
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    },
  };
}

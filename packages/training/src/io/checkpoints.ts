// Checkpoint manager: each checkpoint is a model folder plus trainer_state/ (optimizer moments, step, data position,
// RNG state, config), written into a temp dir and renamed into place, so a kill never leaves a half checkpoint.
// Keeps the last K. Refuses to write non-finite state so the last good checkpoint is never replaced by a NaN one.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors, toTypedArray, type RawTensor } from '@duet/model-format';
import { writeFileAtomic } from './atomic.js';

export const TRAINER_STATE_DIR = 'trainer_state';
export const STATE_FILE = `${TRAINER_STATE_DIR}/state.json`;
export const OPTIMIZER_FILE = `${TRAINER_STATE_DIR}/optimizer.safetensors`;

export interface TrainerState {
  /** Optimizer steps completed. */
  step: number;
  epoch: number;
  samplesSeen: number;
  optimizerStep: number;
  dataPosition: unknown;
  rngState: unknown;
  config: Record<string, unknown>;
  lastLoss: number | null;
  /** Model folder layout, so a resume can check compatibility before any work. */
  modelConfig?: Record<string, unknown>;
  savedAt: string;
}

export interface CheckpointPayload {
  state: Omit<TrainerState, 'savedAt'>;
  optimizerTensors: Map<string, RawTensor>;
  /** Writes the model folder at `dir` (which does not exist yet), e.g. saveModelFolder. */
  writeModel: (dir: string) => Promise<void>;
  /** Model tensors to check for finiteness before anything is written. */
  modelTensors?: Map<string, RawTensor>;
}

export interface LoadedCheckpoint {
  dir: string;
  state: TrainerState;
  optimizerTensors: Map<string, RawTensor>;
}

export class NonFiniteStateError extends Error {
  override name = 'NonFiniteStateError';
}

export class CheckpointManager {
  constructor(readonly root: string, readonly keep = 3) {
    if (!(keep >= 1)) throw new Error(`checkpoints: keep must be >= 1, got ${keep}`);
  }

  static dirName(step: number): string {
    return `step-${String(step).padStart(8, '0')}`;
  }

  /** Complete checkpoints (those with a state file), oldest first. */
  list(): { step: number; dir: string }[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root)
      .flatMap((n) => {
        const m = /^step-(\d+)$/.exec(n);
        return m && existsSync(join(this.root, n, STATE_FILE)) ? [{ step: Number(m[1]), dir: join(this.root, n) }] : [];
      })
      .sort((a, b) => a.step - b.step);
  }

  latest(): { step: number; dir: string } | undefined {
    return this.list().at(-1);
  }

  async save(p: CheckpointPayload): Promise<string> {
    if (p.state.lastLoss !== null && !Number.isFinite(p.state.lastLoss)) {
      throw new NonFiniteStateError(`refusing to checkpoint step ${p.state.step}: loss is ${p.state.lastLoss}`);
    }
    for (const [what, tensors] of [['optimizer', p.optimizerTensors], ['model', p.modelTensors]] as const) {
      const bad = tensors && firstNonFinite(tensors);
      if (bad) throw new NonFiniteStateError(`refusing to checkpoint step ${p.state.step}: ${what} tensor ${bad} has non-finite values`);
    }
    mkdirSync(this.root, { recursive: true });
    const final = join(this.root, CheckpointManager.dirName(p.state.step));
    const tmp = join(this.root, `.tmp-${CheckpointManager.dirName(p.state.step)}-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    await p.writeModel(tmp);
    mkdirSync(join(tmp, TRAINER_STATE_DIR), { recursive: true });
    writeFileAtomic(join(tmp, OPTIMIZER_FILE), writeSafetensors(p.optimizerTensors));
    // state.json last: its presence marks a complete checkpoint.
    writeFileAtomic(join(tmp, STATE_FILE), JSON.stringify({ ...p.state, savedAt: new Date().toISOString() }, null, 2));
    if (existsSync(final)) {
      // Same step saved again (e.g. Ctrl-C right after a periodic save): swap in the new one.
      const old = `${final}.old-${process.pid}`;
      renameSync(final, old);
      renameSync(tmp, final);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, final);
    }
    this.prune();
    return final;
  }

  private prune(): void {
    const all = this.list();
    for (const c of all.slice(0, Math.max(0, all.length - this.keep))) rmSync(c.dir, { recursive: true, force: true });
  }

  /** Load a checkpoint directory (or the latest one under root when `dir` is omitted). */
  static load(dir: string): LoadedCheckpoint {
    const statePath = join(dir, STATE_FILE);
    if (!existsSync(statePath)) throw new Error(`${dir}: not a checkpoint (no ${STATE_FILE})`);
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as TrainerState;
    const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(dir, OPTIMIZER_FILE))));
    return { dir, state, optimizerTensors: tensors };
  }
}

/** Resolve a --resume argument: a checkpoint dir, or a run dir / checkpoints dir holding step-* folders. */
export function resolveCheckpoint(path: string): string {
  if (!existsSync(path)) throw new Error(`--resume ${path}: no such directory`);
  if (existsSync(join(path, STATE_FILE))) return path;
  for (const root of [join(path, 'checkpoints'), path]) {
    const latest = new CheckpointManager(root).latest();
    if (latest) return latest.dir;
  }
  throw new Error(`--resume ${path}: no checkpoint found (expected ${STATE_FILE} or checkpoints/step-*/)`);
}

function firstNonFinite(tensors: Map<string, RawTensor>): string | undefined {
  for (const [name, t] of tensors) {
    if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16' && t.dtype !== 'F64') continue;
    const a = toTypedArray(t) as Float32Array | Float64Array;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return name;
  }
  return undefined;
}

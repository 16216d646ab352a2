// Child process for the kill-and-resume test: trains the synthetic session, checkpointing every step, pacing each
// step so the parent can SIGKILL it mid-run. Prints nothing but errors; results go to metrics.jsonl.
// argv: <out> <family> [resumeDir]
import { initBackend } from '@duet/runtime';
import { resolveConfig } from './config.js';
import { runTraining } from './loop.js';
import { CheckpointManager, resolveCheckpoint } from './io/checkpoints.js';
import { syntheticSession } from './test-session.js';

const quiet = (): void => undefined;
const [out, family, resume] = process.argv.slice(2) as [string, 'clip' | 'siglip', string | undefined];
await initBackend({ backend: 'cpu' });
const config = resolveConfig({
  data: 'synthetic', evalData: 'none', batchSize: 8, accum: 2, steps: 10, warmup: 2, lr: 0.05, saveEvery: 1, keepCheckpoints: 2, out, seed: 3,
  backend: 'cpu',
});
const resumeDir = resume ? resolveCheckpoint(resume) : undefined;
const session = syntheticSession({ family, size: 24, batchSize: 8, seed: 3, ...(resumeDir ? { resumeDir } : {}) });
await runTraining(config, session, {
  onLog: quiet,
  afterStep: () => new Promise((r) => setTimeout(r, Number(process.env['DUET_TEST_STEP_DELAY_MS'] ?? 0))),
}, resumeDir ? CheckpointManager.load(resumeDir) : undefined);

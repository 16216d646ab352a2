// A tiny CLIP trained on Fashion-MNIST for the browser test, so that text -> image retrieval is meaningful:
// the fashion-mnist-clip recipe for 120 steps (~1 min on 2 wasm cores), exported with ONNX through the `duet` CLI,
// cached under node_modules/.cache (keyed by the recipe arguments) and reused by later runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WORKSPACE = fileURLToPath(new URL('../../../../', import.meta.url));
export const DUET_BIN = join(WORKSPACE, 'apps/trainer/bin/duet.js');
const TRAIN_ARGS = ['--recipe', 'fashion-mnist-clip', '--steps', '120', '--warmup', '20', '--eval-data', 'none', '--seed', '0'];
const KEY = 'fmnist-clip-s120-v1';

function duet(args: string[], what: string): void {
  const r = spawnSync(process.execPath, [DUET_BIN, ...args], { cwd: WORKSPACE, encoding: 'utf8', timeout: 540_000 });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}): ${(r.stderr || r.stdout || String(r.error)).slice(-2000)}`);
}

/** Path of the cached trained model folder (with onnx/), training it first when absent. */
export function trainedModelFolder(log: (m: string) => void = () => undefined): string {
  const cache = join(WORKSPACE, 'node_modules', '.cache', 'duet-web-demo');
  const dir = join(cache, KEY);
  if (existsSync(join(dir, 'onnx', 'vision_model.onnx'))) return dir;
  mkdirSync(cache, { recursive: true });
  const tmp = join(cache, `.${KEY}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    log(`training the test model (duet train ${TRAIN_ARGS.join(' ')}) -> ${dir}`);
    duet(['train', ...TRAIN_ARGS, '--out', join(tmp, 'run')], 'duet train');
    duet(['export', '--model', join(tmp, 'run'), '--out', join(tmp, 'model'), '--onnx'], 'duet export --onnx');
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(tmp, 'model'), dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

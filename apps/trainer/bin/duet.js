#!/usr/bin/env node
// `duet` from a fresh clone, without a build step: run the TypeScript entry through tsx with the workspace's
// @duet/source condition (packages resolve to their src/). Signals are forwarded so Ctrl-C reaches the trainer,
// which checkpoints and exits cleanly; the exit code is passed through.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
const child = spawn(process.execPath, ['--conditions=@duet/source', '--import', tsx, main, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  // A terminal's Ctrl-C already reaches the child (same process group); forward signals sent to us alone.
  process.on(sig, () => {
    if (child.exitCode === null) child.kill(sig);
  });
}
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});

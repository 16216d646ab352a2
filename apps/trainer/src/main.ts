// `duet` entry point: parse, run, and turn errors into one clear line and a non-zero exit code.
import { buildProgram } from './program.js';

buildProgram()
  .parseAsync(process.argv)
  .catch((e: unknown) => {
    const err = e as Error & { code?: string; exitCode?: number };
    if (err.code?.startsWith('commander.')) process.exit(err.exitCode ?? 1);
    process.stderr.write(`duet: ${err.message ?? String(e)}\n`);
    if (process.env['DUET_DEBUG']) process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  });

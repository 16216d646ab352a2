// Per-step metrics as JSON Lines. On resume, lines past the resumed step are dropped so the log reads as one run.
import { appendFileSync, existsSync, readFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomic.js';

export type MetricsRecord = { step: number } & Record<string, number | string | null | Record<string, unknown>>;

export class MetricsLog {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  append(rec: MetricsRecord): void {
    appendFileSync(this.path, JSON.stringify(rec, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) + '\n');
  }

  read(): MetricsRecord[] {
    return readMetrics(this.path);
  }

  /** Keep only records with step <= `step` (used when resuming from a checkpoint at that step). */
  truncateAfter(step: number): void {
    if (!existsSync(this.path)) return;
    const kept = this.read().filter((r) => r.step <= step);
    writeFileAtomic(this.path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}

export function readMetrics(path: string): MetricsRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as MetricsRecord];
      } catch {
        return []; // a torn last line after a kill
      }
    });
}

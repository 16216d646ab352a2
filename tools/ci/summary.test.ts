// The CI summary line is what decides landing: check it counts passes, failures, crashed suites and missing reports.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./summary.mjs', import.meta.url));

function run(reports: Record<string, unknown>, expected: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'duet-summary-'));
  try {
    for (const [name, r] of Object.entries(reports)) writeFileSync(join(dir, `${name}.json`), typeof r === 'string' ? r : JSON.stringify(r));
    const p = spawnSync(process.execPath, [script, dir, expected.join(',')], { encoding: 'utf8' });
    return { line: p.stdout.trim().split('\n').at(-1), status: p.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('ci summary', () => {
  it('sums passed and failed over projects', () => {
    const r = run({ a: { numPassedTests: 3, numFailedTests: 0, testResults: [] }, b: { numPassedTests: 2, numFailedTests: 1, testResults: [] } });
    expect(r.line).toBe('5 passed, 1 failed');
    expect(r.status).toBe(1);
  });
  it('counts a suite that failed to load as a failure', () => {
    const r = run({ a: { numPassedTests: 1, numFailedTests: 0, testResults: [{ status: 'failed', assertionResults: [] }] } });
    expect(r.line).toBe('1 passed, 1 failed');
  });
  it('counts a missing or unreadable report as a failure', () => {
    expect(run({ a: { numPassedTests: 4, numFailedTests: 0, testResults: [] } }, ['a', 'b']).line).toBe('4 passed, 1 failed');
    expect(run({ a: '{not json' }).line).toBe('0 passed, 1 failed');
  });
  it('exits 0 when everything passed', () => {
    expect(run({ a: { numPassedTests: 2, numFailedTests: 0, testResults: [] } }, ['a']).status).toBe(0);
  });
});

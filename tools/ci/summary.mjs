// Sums vitest JSON reports into the one line CI reads: "N passed, N failed".
// A project whose test target ran but wrote no report counts as one failure (it crashed before reporting).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'reports/vitest';
const expected = (process.argv[3] ?? '').split(',').filter(Boolean);
let passed = 0;
let failed = 0;
const seen = new Set();
if (existsSync(dir)) {
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    seen.add(f.replace(/\.json$/, ''));
    try {
      const r = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      passed += r.numPassedTests ?? 0;
      failed += (r.numFailedTests ?? 0) + countErroredSuites(r);
    } catch (e) {
      console.error(`unreadable report ${f}: ${e.message}`);
      failed += 1;
    }
  }
}
for (const name of expected) {
  if (!seen.has(name)) {
    console.error(`no test report from project ${name}`);
    failed += 1;
  }
}
// Suites that failed to load (syntax error, import error) report no tests: count each as a failure.
function countErroredSuites(r) {
  return (r.testResults ?? []).filter((s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0).length;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

// `npm run bench [filter...]`: runs every tools/bench/*.bench.ts (or those whose name contains a filter)
// in its own process, resolving workspace packages from source. Each benchmark prints a table and writes JSON.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).filter((f) => !filters.length || filters.some((x) => f.includes(x))).sort();
if (!files.length) {
  console.log(filters.length ? `no benchmark matches ${filters.join(', ')}` : 'no benchmarks yet');
  process.exit(0);
}
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const r = spawnSync(process.execPath, ['--conditions=@duet/source', '--import', 'tsx', join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) { failed++; console.error(`${f} failed (exit ${r.status ?? r.signal})`); }
}
console.log(`\n${files.length - failed}/${files.length} benchmarks completed; results in bench-results/`);
process.exit(failed ? 1 : 0);

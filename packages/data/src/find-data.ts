// Locating shared data directories: an explicit dir (authoritative), else $DUET_DATA, then the workspace's sibling
// `../shared/datasets/<name>` (found by walking up from this module and from cwd to the nx workspace root),
// then /usr/share/datasets/<name>.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nx workspace root above `start` (directory holding nx.json), if any. */
export function findWorkspaceRoot(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Candidate directories for dataset `name`, in lookup order (duplicates removed). An explicit dir is the only candidate. */
export function datasetDirCandidates(name: string, dir?: string): string[] {
  if (dir) return [resolve(dir)];
  const out: string[] = [];
  const env = process.env['DUET_DATA'];
  if (env) out.push(resolve(env, name), resolve(env));
  for (const start of [dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    const root = findWorkspaceRoot(start);
    if (root) out.push(resolve(root, '..', 'shared', 'datasets', name));
  }
  out.push(join('/usr/share/datasets', name));
  return [...new Set(out)];
}

/** First candidate containing all `files` (an array entry = any one of those names); throws naming every place looked at. */
export function findDatasetDir(name: string, files: readonly (string | readonly string[])[], dir?: string): string {
  const cands = datasetDirCandidates(name, dir);
  const has = (c: string, f: string | readonly string[]) => (typeof f === 'string' ? [f] : f).some((x) => existsSync(join(c, x)));
  for (const c of cands) if (files.every((f) => has(c, f))) return c;
  const names = files.map((f) => (typeof f === 'string' ? f : f.join(' or '))).join(', ');
  throw new Error(`${name}: cannot find ${names}; looked in ${cands.join(', ')} (pass dir or set DUET_DATA)`);
}

// Builds the page with Vite on demand, so `duet demo` works in a fresh clone without a separate build step.
// The output is reused while the sources it came from are unchanged (a fingerprint of their paths, sizes and mtimes).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_DIST = join(APP_DIR, 'dist', 'web');
const STAMP = '.duet-build';

/** Sources the bundle depends on: this app and the workspace packages it imports. */
function sourceRoots(): string[] {
  const pkgs = join(APP_DIR, '..', '..', 'packages');
  return [join(APP_DIR, 'index.html'), join(APP_DIR, 'vite.config.ts'), join(APP_DIR, 'src'),
    ...['inference', 'preprocess', 'model-format'].map((p) => join(pkgs, p, 'src'))];
}

function walk(p: string, out: string[]): void {
  if (!existsSync(p)) return;
  const st = statSync(p);
  if (st.isDirectory()) {
    for (const e of readdirSync(p).sort()) if (!e.endsWith('.test.ts')) walk(join(p, e), out);
  } else out.push(`${p}:${st.size}:${st.mtimeMs}`);
}

export function sourceFingerprint(): string {
  const files: string[] = [];
  for (const r of sourceRoots()) walk(r, files);
  return createHash('sha256').update(files.join('\n')).digest('hex');
}

export function isBuilt(outDir = DEFAULT_DIST): boolean {
  const stamp = join(outDir, STAMP);
  return existsSync(join(outDir, 'index.html')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === sourceFingerprint();
}

/**
 * Builds the demo into outDir unless an up-to-date build is there (force: always). Builds into a temp sibling
 * and renames it into place, so a concurrent reader never sees a half-written folder.
 */
export async function buildDemo(opts: { outDir?: string; force?: boolean; log?: (m: string) => void } = {}): Promise<{ outDir: string; built: boolean; ms: number }> {
  const outDir = opts.outDir ?? DEFAULT_DIST;
  if (!opts.force && isBuilt(outDir)) return { outDir, built: false, ms: 0 };
  const t0 = Date.now();
  const fingerprint = sourceFingerprint();
  const tmp = join(dirname(outDir), `.${Date.now()}-${process.pid}.tmp`);
  opts.log?.(`building the web demo with Vite -> ${outDir}`);
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch (e) {
    throw new Error(`building the web demo needs Vite (a workspace devDependency: run npm install): ${(e as Error).message}`);
  }
  try {
    await vite.build({ configFile: join(APP_DIR, 'vite.config.ts'), logLevel: 'warn', build: { outDir: tmp, emptyOutDir: true } });
    writeFileSync(join(tmp, STAMP), fingerprint);
    rmSync(outDir, { recursive: true, force: true });
    renameSync(tmp, outDir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { outDir, built: true, ms: Date.now() - t0 };
}

// The main entry must stay loadable in browsers: no node:* builtins, sharp or other native modules in its
// import graph (Node-only code lives behind src/node.ts).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));
const IMPORT_RE = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

function graph(entry: string): { files: Set<string>; externals: Set<string> } {
  const files = new Set<string>(), externals = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.')) {
        if (spec.endsWith('.json')) continue;
        visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      } else externals.add(spec);
    }
  };
  visit(entry);
  return { files, externals };
}

describe('entry points', () => {
  it('src/index.ts imports nothing Node-only', () => {
    const { files, externals } = graph(resolve(SRC, 'index.ts'));
    expect(files.size).toBeGreaterThan(5);
    expect([...externals].filter((e) => e.startsWith('node:') || ['sharp', 'fs', 'path', 'os', 'child_process'].includes(e))).toEqual([]);
    expect([...externals].sort()).toEqual(['@huggingface/tokenizers']);
  });

  it('src/node.ts adds the sharp decoder', () => {
    const { externals } = graph(resolve(SRC, 'node.ts'));
    expect(externals.has('sharp')).toBe(true);
  });
});

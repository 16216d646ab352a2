// The main entry must stay loadable in a browser: nothing in its import graph may touch node:* modules.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

function importGraph(entry: string): { files: string[]; external: string[] } {
  const files = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      else external.add(spec);
    }
  };
  visit(entry);
  return { files: [...files], external: [...external] };
}

describe('isomorphic entry', () => {
  it('src/index.ts imports no node:* module (only zod)', () => {
    const g = importGraph(fileURLToPath(new URL('./index.ts', import.meta.url)));
    expect(g.files.length).toBeGreaterThan(5);
    expect(g.external.sort()).toEqual(['zod']);
  });
  it('src/node.ts adds the file-system parts', () => {
    const g = importGraph(fileURLToPath(new URL('./node.ts', import.meta.url)));
    expect(g.external.some((x) => x.startsWith('node:'))).toBe(true);
  });
});

// The index entry must stay browser-safe: its static import graph reaches no node:* / native / Node-only module.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const STATIC_IMPORT = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

function graph(entry: string): { files: Set<string>; bare: Set<string> } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const src = readFileSync(join(here, file), 'utf8');
    for (const m of src.matchAll(STATIC_IMPORT)) {
      if (/^\s*(?:import|export)\s+type\s/.test(m[0])) continue; // erased at compile time
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(spec.replace(/^\.\//, '').replace(/\.js$/, '.ts'));
      else bare.add(spec);
    }
  };
  visit(entry);
  return { files, bare };
}

describe('isomorphic entry', () => {
  it('src/index.ts reaches no Node-only module statically', () => {
    const { files, bare } = graph('index.ts');
    expect(files.has('backends-node.ts')).toBe(false);
    expect(files.has('backend.ts')).toBe(true);
    for (const spec of bare) expect(spec).not.toMatch(/^node:|^(fs|path|module|os|child_process|url)$|^webgpu$|tfjs-node/);
    expect([...bare].sort()).toEqual(['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu']);
  });

  it('the Node entry does reach the Node providers', () => {
    const { files, bare } = graph('node.ts');
    expect(files.has('backends-node.ts')).toBe(true);
    expect(bare.has('node:module')).toBe(true);
  });
});

// The main entry must stay browser-safe: nothing reachable from src/index.ts imports node:*, onnxruntime-node,
// usearch, sharp, or the /node entries of other packages.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const FORBIDDEN = [/^node:/, /^onnxruntime-node$/, /^usearch$/, /^sharp$/, /^@duet\/[^/]+\/node$/, /^(fs|path|os|crypto|child_process)$/];

function reachable(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const stack = [resolve(entry)];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    const src = readFileSync(file, 'utf8');
    const specs = [...src.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
    seen.set(file, specs);
    for (const s of specs) if (s.startsWith('.')) stack.push(join(dirname(file), s.replace(/\.js$/, '.ts')));
  }
  return seen;
}

describe('isomorphic entry', () => {
  it('src/index.ts reaches no Node-only module', () => {
    const graph = reachable(join(import.meta.dirname, 'index.ts'));
    expect(graph.size).toBeGreaterThan(10);
    const bad = [...graph].flatMap(([file, specs]) => specs.filter((s) => FORBIDDEN.some((r) => r.test(s))).map((s) => `${file}: ${s}`));
    expect(bad).toEqual([]);
  });

  it('the Node entry does reach onnxruntime-node and usearch (sanity check of the scanner)', () => {
    const specs = [...reachable(join(import.meta.dirname, 'node.ts')).values()].flat();
    expect(specs).toContain('onnxruntime-node');
    expect(specs).toContain('usearch');
  });
});

// A folder of images with sidecar captions (`photo.jpg` + `photo.txt`, or `photo.json` with a caption field),
// searched recursively in sorted order. Images without a caption are reported, not dropped silently.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { IMAGE_EXTENSIONS } from './webdataset.js';
import type { DataRecord, Dataset } from './types.js';

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
}

export function folderDataset(dir: string): Dataset {
  const root = resolve(dir);
  let files: string[] | undefined;
  const list = () => {
    if (!files) {
      if (!existsSync(root)) throw new Error(`folderDataset: ${root} does not exist`);
      const all: string[] = [];
      walk(root, all);
      files = all.filter((f) => (IMAGE_EXTENSIONS as readonly string[]).includes(f.split('.').pop()!.toLowerCase()));
    }
    return files;
  };
  const base = (f: string) => f.slice(0, f.lastIndexOf('.'));
  function caption(f: string): { text?: string; why?: string } {
    const txt = `${base(f)}.txt`;
    if (existsSync(txt)) return { text: readFileSync(txt, 'utf8') };
    const json = `${base(f)}.json`;
    if (existsSync(json)) {
      try {
        const o = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>;
        const k = ['caption', 'text', 'title'].find((x) => typeof o[x] === 'string');
        return k ? { text: o[k] as string } : { why: `missing caption: ${json} has no "caption"/"text"/"title"` };
      } catch (e) {
        return { why: `bad caption json: ${json}: ${e instanceof Error ? e.message : String(e)}` };
      }
    }
    return { why: `missing caption: no ${relative(root, txt)} or .json` };
  }
  const record = (i: number, text: string): DataRecord => {
    const f = list()[i]!;
    return { key: relative(root, base(f)), caption: text.trim(), image: { kind: 'file', path: f }, source: f, shard: i, offset: 0 };
  };
  return {
    name: `folder:${root}`,
    indexed: true,
    async shardCount() { return list().length; },
    shardName: (i) => list()[i] ?? `#${i}`,
    async *readShard(i, from, ctx) {
      const f = list()[i];
      if (from > 0 || !f) return;
      const c = caption(f);
      if (c.text === undefined) return void ctx.skips.add({ source: f, reason: c.why! });
      if (!c.text.trim()) return void ctx.skips.add({ source: f, reason: 'empty caption' });
      yield record(i, c.text);
    },
    async readRecords(i, offsets) { return offsets.map(() => record(i, caption(list()[i]!).text ?? '')); },
    knownSize: () => files?.length,
  };
}

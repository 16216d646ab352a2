// Resolves a dataset spec string (as typed on the `duet data` command line) to a Dataset:
//   fashion-mnist[:train|:test] · shapes[:seed=0,size=1000,imageSize=64,questions] · table.csv|.tsv|.jsonl ·
//   shard.tar[.gz] or brace/`::` patterns · a directory (its *.tar shards, else images with sidecar captions).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { csvDataset, type CsvDatasetOptions } from './csv-dataset.js';
import { fashionMnist } from './fashion-mnist.js';
import { folderDataset } from './folder-dataset.js';
import { shapesDataset } from './shapes.js';
import type { Dataset } from './types.js';
import { webDataset } from './webdataset.js';

export interface OpenDatasetOptions { csv?: CsvDatasetOptions; dataDir?: string }

export function openDataset(spec: string | Dataset, opts: OpenDatasetOptions = {}): Dataset {
  if (typeof spec !== 'string') return spec;
  const [head, arg] = [spec.split(':')[0]!, spec.includes(':') ? spec.slice(spec.indexOf(':') + 1) : undefined];
  if (head === 'fashion-mnist') {
    const split = (arg ?? 'train') as 'train' | 'test';
    return fashionMnist({ split, ...(opts.dataDir ? { dir: opts.dataDir } : {}) });
  }
  if (head === 'shapes') {
    const kv = new Map<string, string | undefined>((arg ?? '').split(',').filter(Boolean).map((p) => [p.split('=')[0]!, p.includes('=') ? p.slice(p.indexOf('=') + 1) : undefined]));
    const num = (k: string, d: number) => {
      const v = kv.get(k);
      if (v === undefined) return d;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`dataset "${spec}": ${k} must be a number, got "${v}"`);
      return n;
    };
    for (const k of kv.keys()) if (!['seed', 'size', 'imageSize', 'questions', 'locations'].includes(k)) throw new Error(`dataset "${spec}": unknown shapes option "${k}" (allowed: seed, size, imageSize, questions, locations)`);
    if (kv.has('locations') && !kv.has('questions')) throw new Error(`dataset "${spec}": "locations" adds location questions, so it needs "questions" too`);
    return shapesDataset({ seed: num('seed', 0), size: num('size', 1000), imageSize: num('imageSize', 64), withQuestions: kv.has('questions'), withLocations: kv.has('locations') });
  }
  if (/\.(csv|tsv|jsonl|ndjson)$/i.test(spec)) return csvDataset(spec, opts.csv);
  if (/\.(tar|tar\.gz|tgz)$/i.test(spec) || spec.includes('{') || spec.includes('::')) return webDataset(spec);
  const dir = resolve(spec);
  if (existsSync(dir) && statSync(dir).isDirectory()) {
    const tars = readdirSync(dir).filter((f) => /\.(tar|tar\.gz|tgz)$/i.test(f)).sort();
    return tars.length ? webDataset(tars.map((f) => join(dir, f))) : folderDataset(dir);
  }
  throw new Error(`dataset "${spec}": not found; expected fashion-mnist[:split], shapes[:opts], a .csv/.tsv/.jsonl table, .tar shards (brace patterns allowed) or a directory`);
}

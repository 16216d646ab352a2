// Image path + caption tables: CSV/TSV (open_clip's CsvDataset: `--csv-separator` default tab,
// `--csv-img-key filepath`, `--csv-caption-key title`) and JSON Lines. Relative image paths resolve against
// the table's directory so a dataset folder can be moved as a whole.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDelimited } from './csv.js';
import { errorMessage } from './skip-log.js';
import type { DataRecord, Dataset, ReadContext } from './types.js';

export interface CsvDatasetOptions {
  /** Field separator (default tab, as open_clip's --csv-separator; ',' is never guessed). */
  separator?: string;
  /** Image path column (default "filepath"). */
  imageKey?: string;
  /** Caption column (default "title"). */
  captionKey?: string;
  /** Base directory for relative paths (default: the table file's directory). */
  baseDir?: string;
  /** 'csv' | 'jsonl' (default from the extension: .jsonl/.ndjson → jsonl, anything else delimited). */
  format?: 'csv' | 'jsonl';
}

interface Row { path: string; caption: string; line: number }

export function csvDataset(path: string, opts: CsvDatasetOptions = {}): Dataset {
  const file = resolve(path);
  const imageKey = opts.imageKey ?? 'filepath';
  const captionKey = opts.captionKey ?? 'title';
  const baseDir = opts.baseDir ? resolve(opts.baseDir) : dirname(file);
  const format = opts.format ?? (/\.(jsonl|ndjson)$/i.test(file) ? 'jsonl' : 'csv');
  let rows: Row[] | undefined;
  // Problems found while parsing the table (bad rows) are reported once, on the first read that has a SkipLog.
  let tableProblems: { line: number; reason: string }[] = [];
  let problemsReported = false;

  async function load(): Promise<Row[]> {
    if (rows) return rows;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new Error(`csvDataset: cannot read ${file}: ${errorMessage(e)}`);
    }
    const out: Row[] = [];
    const problems: { line: number; reason: string }[] = [];
    if (format === 'jsonl') {
      text.split(/\r?\n/).forEach((line, idx) => {
        if (!line.trim()) return;
        let obj: unknown;
        try { obj = JSON.parse(line); } catch (e) { problems.push({ line: idx + 1, reason: `bad json: ${errorMessage(e)}` }); return; }
        const o = obj as Record<string, unknown>;
        const p = o?.[imageKey];
        const c = o?.[captionKey];
        if (typeof p !== 'string' || !p) { problems.push({ line: idx + 1, reason: `missing image path: no string "${imageKey}"` }); return; }
        out.push({ path: p, caption: c == null ? '' : String(c), line: idx + 1 });
      });
    } else {
      const sep = opts.separator ?? '\t';
      const table = parseDelimited(text, sep);
      const header = table[0] ?? [];
      const pi = header.indexOf(imageKey);
      const ci = header.indexOf(captionKey);
      if (pi < 0 || ci < 0) {
        throw new Error(`csvDataset ${file}: expected columns "${imageKey}" and "${captionKey}" separated by ${JSON.stringify(sep)}, got header ${JSON.stringify(header)}`);
      }
      for (let r = 1; r < table.length; r++) {
        const cells = table[r]!;
        const p = cells[pi];
        if (!p) { problems.push({ line: r + 1, reason: `missing image path: empty "${imageKey}"` }); continue; }
        out.push({ path: p, caption: cells[ci] ?? '', line: r + 1 });
      }
    }
    tableProblems = problems;
    rows = out;
    return out;
  }

  function reportProblems(ctx: ReadContext): void {
    if (problemsReported) return;
    problemsReported = true;
    for (const p of tableProblems) ctx.skips.add({ source: `${file}:${p.line}`, reason: p.reason });
  }

  function toRecord(i: number, row: Row): DataRecord {
    return {
      key: String(i), caption: row.caption,
      image: { kind: 'file', path: isAbsolute(row.path) ? row.path : resolve(baseDir, row.path) },
      source: `${file}:${row.line}`, shard: i, offset: 0,
    };
  }

  return {
    name: `csv:${file}`,
    indexed: true,
    async shardCount() { return (await load()).length; },
    shardName: (i) => `${file} row ${i}`,
    async *readShard(i, from, ctx) {
      const all = await load();
      reportProblems(ctx);
      if (from > 0 || i < 0 || i >= all.length) return;
      const rec = toRecord(i, all[i]!);
      if (!rec.caption.trim()) { ctx.skips.add({ source: rec.source, key: rec.key, reason: 'empty caption' }); return; }
      yield rec;
    },
    async readRecords(i, offsets) {
      const all = await load();
      return offsets.map(() => toRecord(i, all[i]!));
    },
    knownSize: () => rows?.length,
  };
}

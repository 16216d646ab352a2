// Benchmark output helpers: every benchmark prints a table and writes JSON under bench-results/.
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus, totalmem } from 'node:os';

export type Row = Record<string, string | number | boolean | null>;

export function printTable(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  if (!rows.length) return void console.log('(no rows)');
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : v == null ? '—' : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => fmt(r[c]).length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log(line(cols));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(cols.map((c) => fmt(r[c]))));
}

/** Writes bench-results/<name>.json atomically, with machine info. Returns the path. */
export function writeResult(name: string, data: unknown): string {
  const dir = resolve(process.env['DUET_BENCH_DIR'] ?? 'bench-results');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  const body = { name, date: new Date().toISOString(), machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, totalMemGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version }, data };
  writeFileSync(path + '.tmp', JSON.stringify(body, null, 2));
  renameSync(path + '.tmp', path);
  console.log(`wrote ${path}`);
  return path;
}

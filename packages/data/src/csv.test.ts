import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDelimited } from './csv.js';
import { csvDataset } from './csv-dataset.js';
import { SkipLog } from './skip-log.js';
import { tempDir } from './testing/fixtures.js';
import type { DataRecord, Dataset } from './types.js';

async function all(ds: Dataset, skips = new SkipLog()): Promise<DataRecord[]> {
  const out: DataRecord[] = [];
  const n = await ds.shardCount();
  for (let i = 0; i < n; i++) for await (const r of ds.readShard(i, 0, { epoch: 0, skips })) out.push(r);
  return out;
}

describe('parseDelimited', () => {
  it('handles quotes, escaped quotes, embedded separators and newlines, CRLF and BOM', () => {
    const text = '\ufeffa,b\r\n"x, y","he said ""hi"""\n"multi\nline",2\n\n';
    expect(parseDelimited(text, ',')).toEqual([['a', 'b'], ['x, y', 'he said "hi"'], ['multi\nline', '2']]);
    expect(parseDelimited('a\tb\nc\t', '\t')).toEqual([['a', 'b'], ['c', '']]);
    expect(() => parseDelimited('a', '::')).toThrow(/one character/);
  });
});

describe('csvDataset', () => {
  it('reads open_clip-style TSV (tab default, filepath/title) with paths relative to the file', async () => {
    const dir = tempDir('csv');
    writeFileSync(join(dir, 'train.csv'), 'filepath\ttitle\nimg/a.jpg\ta cat\n/abs/b.png\t"a dog, running"\nimg/c.jpg\t   \n\tno path\n');
    const skips = new SkipLog();
    const recs = await all(csvDataset(join(dir, 'train.csv')), skips);
    expect(recs.map((r) => r.caption)).toEqual(['a cat', 'a dog, running']);
    expect(recs[0]!.image).toEqual({ kind: 'file', path: join(dir, 'img/a.jpg') });
    expect(recs[1]!.image).toEqual({ kind: 'file', path: '/abs/b.png' });
    const rep = skips.report();
    expect(rep.byReason).toEqual({ 'missing image path': 1, 'empty caption': 1 });
    expect(rep.examples.map((e) => e.source)).toEqual([`${join(dir, 'train.csv')}:5`, `${join(dir, 'train.csv')}:4`]);
  });

  it('honours separator and column names, and names the header on a mismatch', async () => {
    const dir = tempDir('csv2');
    writeFileSync(join(dir, 'x.csv'), 'image,text\np.png,hello\n');
    const recs = await all(csvDataset(join(dir, 'x.csv'), { separator: ',', imageKey: 'image', captionKey: 'text' }));
    expect(recs.map((r) => [r.caption, (r.image as { path: string }).path])).toEqual([['hello', join(dir, 'p.png')]]);
    await expect(csvDataset(join(dir, 'x.csv')).shardCount()).rejects.toThrow(/expected columns "filepath" and "title".*got header/);
  });

  it('reads JSON Lines and reports bad lines', async () => {
    const dir = tempDir('jsonl');
    writeFileSync(join(dir, 'd.jsonl'), '{"filepath":"a.png","title":"one"}\nnot json\n{"title":"no path"}\n{"filepath":"b.png","title":"two"}\n');
    const skips = new SkipLog();
    const recs = await all(csvDataset(join(dir, 'd.jsonl')), skips);
    expect(recs.map((r) => r.caption)).toEqual(['one', 'two']);
    expect(skips.report().byReason).toEqual({ 'bad json': 1, 'missing image path': 1 });
  });
});

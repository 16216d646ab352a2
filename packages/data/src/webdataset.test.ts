import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSamples } from './samples.js';
import { SkipLog } from './skip-log.js';
import { indexedShard, solidImage, tempDir, writeTar } from './testing/fixtures.js';
import type { DataRecord, Dataset } from './types.js';
import { splitKey, webDataset } from './webdataset.js';

async function all(ds: Dataset, skips = new SkipLog()): Promise<DataRecord[]> {
  const out: DataRecord[] = [];
  const n = await ds.shardCount();
  for (let i = 0; i < n; i++) for await (const r of ds.readShard(i, 0, { epoch: 0, skips })) out.push(r);
  return out;
}

describe('webDataset', () => {
  it('splits keys like webdataset (first dot of the basename)', () => {
    expect(splitKey('a/b/0001.jpg')).toEqual({ key: 'a/b/0001', ext: 'jpg' });
    expect(splitKey('x.seg.png')).toEqual({ key: 'x', ext: 'seg.png' });
    expect(splitKey('dir.v2/k.TXT')).toEqual({ key: 'dir.v2/k', ext: 'txt' });
  });

  it('groups files by key across gzip and plain shards given as a brace pattern', async () => {
    const dir = tempDir('wds');
    await indexedShard(join(dir, 'd-0.tar'), 's', 0, 3);
    await indexedShard(join(dir, 'd-1.tar.gz'), 's', 3, 2);
    const ds = webDataset(join(dir, 'd-{0.tar,1.tar.gz}'));
    expect(await ds.shardCount()).toBe(2);
    const recs = await all(ds);
    expect(recs.map((r) => [r.key, r.caption, r.shard, r.offset])).toEqual([
      ['s0000', 'caption 0', 0, 0], ['s0001', 'caption 1', 0, 1], ['s0002', 'caption 2', 0, 2], ['s0003', 'caption 3', 1, 0], ['s0004', 'caption 4', 1, 1],
    ]);
    const samples = [];
    for await (const s of readSamples(ds)) samples.push(s);
    expect(samples.map((s) => s.image.data[0])).toEqual([0, 8, 16, 24, 32]); // red channel encodes the index
    expect(samples[0]!.image).toMatchObject({ width: 4, height: 4, channels: 3 });
  });

  it('takes .json captions, prefers jpg over png, and skips + reports incomplete samples', async () => {
    const dir = tempDir('wds2');
    const png = await solidImage(2, 2, [255, 0, 0]);
    const jpg = await solidImage(2, 2, [0, 0, 255], 'jpg');
    await writeTar(join(dir, 's.tar'), [
      { name: 'a.png', data: png }, { name: 'a.jpg', data: jpg }, { name: 'a.json', data: '{"caption":"from json"}' },
      { name: 'b.png', data: png }, // no caption
      { name: 'c.txt', data: 'no image' },
      { name: 'd.webp', data: await solidImage(2, 2, [0, 255, 0], 'webp') }, { name: 'd.txt', data: '  ' },
      { name: 'e.png', data: png }, { name: 'e.json', data: '{"other":1}' },
      { name: 'f.webp', data: await solidImage(2, 2, [0, 255, 0], 'webp') }, { name: 'f.txt', data: 'green\n' }, { name: 'f.cls', data: '3' },
    ]);
    const skips = new SkipLog();
    const recs = await all(webDataset(join(dir, 's.tar')), skips);
    expect(recs.map((r) => [r.key, r.caption, (r.image as { ext: string }).ext, r.offset, r.label])).toEqual([['a', 'from json', 'jpg', 0, undefined], ['f', 'green', 'webp', 5, 3]]);
    expect(skips.report().byReason).toEqual({ 'missing caption': 2, 'missing image': 1, 'empty caption': 1 });
    expect(skips.report().examples.map((e) => e.key)).toEqual(['b', 'c', 'd', 'e']);
  });

  it('reports unreadable shards (missing, truncated gzip, garbage) and keeps going', async () => {
    const dir = tempDir('wds3');
    await indexedShard(join(dir, 'ok.tar'), 's', 0, 2);
    const gz = await indexedShard(join(dir, 'cut.tar.gz'), 't', 0, 4);
    const { readFileSync } = await import('node:fs');
    const full = readFileSync(gz);
    writeFileSync(gz, full.subarray(0, Math.floor(full.length * 0.6)));
    writeFileSync(join(dir, 'junk.tar'), Buffer.alloc(1500, 7));
    const skips = new SkipLog();
    const recs = await all(webDataset([join(dir, 'missing.tar'), join(dir, 'cut.tar.gz'), join(dir, 'junk.tar'), join(dir, 'ok.tar')]), skips);
    expect(recs.filter((r) => r.key.startsWith('s')).map((r) => r.key)).toEqual(['s0000', 's0001']);
    const rep = skips.report();
    expect(rep.byReason['unreadable shard']).toBe(3);
    expect(rep.examples.map((e) => e.source)).toEqual([join(dir, 'missing.tar'), join(dir, 'cut.tar.gz'), join(dir, 'junk.tar')]);
  });

  it('resumes inside a shard from a record offset and fetches records by offset', async () => {
    const dir = tempDir('wds4');
    await indexedShard(join(dir, 'a.tar'), 's', 0, 5);
    const ds = webDataset(join(dir, 'a.tar'));
    const ctx = { epoch: 0, skips: new SkipLog() };
    const tail: string[] = [];
    for await (const r of ds.readShard(0, 3, ctx)) tail.push(r.key);
    expect(tail).toEqual(['s0003', 's0004']);
    expect((await ds.readRecords(0, [4, 1], ctx)).map((r) => r.key)).toEqual(['s0004', 's0001']);
  });
});

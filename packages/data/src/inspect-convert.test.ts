import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertToWebDataset } from './convert.js';
import { formatInspectReport, inspectDataset } from './inspect.js';
import { openDataset } from './open-dataset.js';
import { readSamples } from './samples.js';
import { solidImage, tempDir } from './testing/fixtures.js';

async function tableDir(): Promise<string> {
  const dir = tempDir('conv');
  mkdirSync(join(dir, 'img'));
  writeFileSync(join(dir, 'img', 'a.png'), await solidImage(6, 4, [200, 10, 10]));
  writeFileSync(join(dir, 'img', 'b.jpg'), await solidImage(10, 8, [10, 200, 10], 'jpg'));
  writeFileSync(join(dir, 'img', 'c.png'), Buffer.from('garbage'));
  writeFileSync(join(dir, 'img', 'd.webp'), await solidImage(2, 2, [10, 10, 200], 'webp'));
  writeFileSync(join(dir, 'data.tsv'), 'filepath\ttitle\nimg/a.png\tred\nimg/b.jpg\tgreen\nimg/c.png\tbroken\nimg/missing.png\tgone\nimg/d.webp\tblue\n');
  return dir;
}

describe('inspectDataset', () => {
  it('counts records, captions and image sizes, and lists problems with file and reason', async () => {
    const dir = await tableDir();
    const progress: number[] = [];
    const rep = await inspectDataset(join(dir, 'data.tsv'), { onProgress: (p) => progress.push(p.shard) });
    expect(rep.records).toBe(3);
    expect(rep.shards).toBe(5);
    expect(rep.captions.samples).toEqual(['red', 'green', 'blue']);
    expect(rep.images.width).toEqual({ min: 2, max: 10, mean: 6 });
    expect(rep.images.height).toEqual({ min: 2, max: 8, mean: 14 / 3 });
    expect(rep.images.formats).toEqual({ png: 1, jpeg: 1, webp: 1 });
    expect(rep.skipped.byReason).toEqual({ 'corrupt image': 1, 'missing image': 1 });
    expect(rep.skipped.examples.map((e) => e.source)).toEqual([`${join(dir, 'data.tsv')}:4`, `${join(dir, 'data.tsv')}:5`]);
    expect(progress[progress.length - 1]).toBe(5);
    const text = formatInspectReport(rep);
    expect(text).toContain('records   3 usable, 2 skipped');
    expect(text).toContain(`${join(dir, 'data.tsv')}:5: missing image: `);
  });

  it('reports Fashion-MNIST labels by class name', async () => {
    const { fashionMnist } = await import('./fashion-mnist.js');
    const rep = await inspectDataset(fashionMnist({ split: 'test', limit: 20 }), { maxImages: 5 });
    expect(rep.records).toBe(20);
    expect(rep.images.probed).toBe(5);
    expect(rep.images.width).toEqual({ min: 28, max: 28, mean: 28 });
    expect(rep.labels!['9 ankle boot']).toBeGreaterThan(0);
  });
});

describe('convertToWebDataset', () => {
  it('writes complete shards of shardSize that read back as the same samples', async () => {
    const dir = await tableDir();
    const out = join(dir, 'shards');
    const progress: number[] = [];
    const res = await convertToWebDataset(join(dir, 'data.tsv'), out, { shardSize: 2, onProgress: (p) => progress.push(p.records) });
    expect(res.records).toBe(3);
    expect(res.shards.map((s) => s.split('/').pop())).toEqual(['data-000000.tar', 'data-000001.tar']);
    expect(res.pattern).toBe(join(out, 'data-{000000..000001}.tar'));
    expect(readdirSync(out).sort()).toEqual(['data-000000.tar', 'data-000001.tar']); // no temp files left
    expect(res.skipped.total).toBe(2);
    expect(progress).toEqual([2, 3]);
    const back = [];
    for await (const s of readSamples(openDataset(res.pattern))) back.push(s);
    expect(back.map((s) => [s.caption, s.image.width, s.image.height, s.image.data[0]])).toEqual([
      ['red', 6, 4, 200], ['green', 10, 8, expect.any(Number)], ['blue', 2, 2, 10],
    ]);
    expect(back.map((s) => (s.meta?.['json'] as { key: string }).key)).toEqual(['0', '1', '4']);
  });

  it('converts generated datasets (PNG-encoded pixels, labels in .cls) and gzip shards', async () => {
    const dir = tempDir('conv2');
    const res = await convertToWebDataset('shapes:seed=3,size=5,imageSize=16', dir, { shardSize: 10, gzip: true, prefix: 'shapes' });
    expect(res.shards.map((s) => s.split('/').pop())).toEqual(['shapes-000000.tar.gz']);
    const orig = [];
    for await (const s of readSamples(openDataset('shapes:seed=3,size=5,imageSize=16'))) orig.push(s);
    const back = [];
    for await (const s of readSamples(openDataset(res.shards[0]!))) back.push(s);
    expect(back.map((s) => s.caption)).toEqual(orig.map((s) => s.caption));
    expect(Array.from(back[2]!.image.data)).toEqual(Array.from(orig[2]!.image.data)); // lossless
    const { fashionMnist } = await import('./fashion-mnist.js');
    const fm = await convertToWebDataset(fashionMnist({ split: 'test', limit: 3 }), join(dir, 'fm'), { shardSize: 2 });
    const labels = [];
    for await (const s of readSamples(openDataset(join(dir, 'fm')))) labels.push(s.label);
    expect(fm.records).toBe(3);
    expect(labels).toEqual([9, 2, 1]);
  });

  it('opens folders with sidecar captions and rejects unknown specs', async () => {
    const dir = tempDir('folder');
    writeFileSync(join(dir, 'x.png'), await solidImage(3, 3, [1, 2, 3]));
    writeFileSync(join(dir, 'x.txt'), 'a tiny image');
    writeFileSync(join(dir, 'y.png'), await solidImage(3, 3, [1, 2, 3]));
    const rep = await inspectDataset(dir);
    expect(rep.records).toBe(1);
    expect(rep.skipped.byReason).toEqual({ 'missing caption': 1 });
    expect(() => openDataset(join(dir, 'nothing-here'))).toThrow(/not found; expected fashion-mnist/);
    expect(() => openDataset('shapes:colour=1')).toThrow(/unknown shapes option "colour"/);
    expect(() => openDataset('shapes:size=2,locations')).toThrow(/"locations" .* needs "questions"/);
  });
});

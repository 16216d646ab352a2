import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_TEMPLATES, fashionMnist, fashionMnistCaption, parseIdx } from './fashion-mnist.js';
import { datasetDirCandidates } from './find-data.js';
import { SkipLog } from './skip-log.js';
import { tempDir } from './testing/fixtures.js';

function idx(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt8(0x08, 2);
  head.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

const envBefore = process.env['DUET_DATA'];
afterEach(() => { if (envBefore === undefined) delete process.env['DUET_DATA']; else process.env['DUET_DATA'] = envBefore; });

describe('fashionMnist', () => {
  it('reads the shared test split: 10,000 images of 28×28, 1,000 per class, first labels 9 2 1 1 6', async () => {
    const ds = fashionMnist({ split: 'test' });
    expect(await ds.shardCount()).toBe(10000);
    const ctx = { epoch: 0, skips: new SkipLog() };
    const first = [];
    for (let i = 0; i < 5; i++) for await (const r of ds.readShard(i, 0, ctx)) first.push(r);
    expect(first.map((r) => r.label)).toEqual([9, 2, 1, 1, 6]);
    const img = (first[0]!.image as { image: { width: number; height: number; channels: number } }).image;
    expect([img.width, img.height, img.channels]).toEqual([28, 28, 1]);
    expect(first[0]!.caption).toContain('ankle boot');
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 10000; i++) for await (const r of ds.readShard(i, 0, ctx)) counts[r.label!]++;
    expect(counts).toEqual(new Array(10).fill(1000));
  });

  it('samples templates per example and per epoch, deterministically', () => {
    const caps = Array.from({ length: 200 }, (_, i) => fashionMnistCaption(0, i, 0, 0));
    expect(new Set(caps).size).toBe(FASHION_MNIST_TEMPLATES.length);
    for (const c of caps) expect(FASHION_MNIST_TEMPLATES.map((t) => t.replace('{}', 't-shirt'))).toContain(c);
    expect(fashionMnistCaption(3, 7, 0, 0)).toBe(fashionMnistCaption(3, 7, 0, 0));
    const epoch1 = Array.from({ length: 50 }, (_, i) => fashionMnistCaption(0, i, 1, 0));
    expect(epoch1).not.toEqual(caps.slice(0, 50));
    expect(FASHION_MNIST_CLASSES).toHaveLength(10);
  });

  it('finds files in a given dir and through DUET_DATA (raw or gzip), and says where it looked', async () => {
    const dir = tempDir('fm');
    mkdirSync(join(dir, 'fashion-mnist'));
    const px = new Uint8Array(2 * 2 * 3).map((_, i) => i * 10);
    writeFileSync(join(dir, 'fashion-mnist', 't10k-images-idx3-ubyte'), idx([3, 2, 2], px));
    writeFileSync(join(dir, 'fashion-mnist', 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([3], new Uint8Array([4, 0, 9]))));
    process.env['DUET_DATA'] = dir;
    const ds = fashionMnist({ split: 'test', templates: ['{}'] });
    const recs = [];
    for (let i = 0; i < 3; i++) for await (const r of ds.readShard(i, 0, { epoch: 0, skips: new SkipLog() })) recs.push(r);
    expect(recs.map((r) => r.caption)).toEqual(['coat', 't-shirt', 'ankle boot']);
    expect(Array.from((recs[1]!.image as { image: { data: Uint8Array } }).image.data)).toEqual([40, 50, 60, 70]);
    expect(() => fashionMnist({ split: 'train', dir: join(dir, 'nowhere') })).toThrow(/cannot find train-images.*looked in/);
    expect(() => fashionMnist({ split: 'val' as 'test' })).toThrow(/split must be/);
  });

  it('locates the workspace-relative shared directory independent of cwd', () => {
    const workspaceRoot = fileURLToPath(new URL('../../..', import.meta.url)); // packages/data/src → root
    const cwd = process.cwd();
    try {
      process.chdir(tmpdir());
      const cands = datasetDirCandidates('fashion-mnist');
      expect(cands).toContain(resolve(workspaceRoot, '..', 'shared', 'datasets', 'fashion-mnist'));
      expect(cands[cands.length - 1]).toBe('/usr/share/datasets/fashion-mnist');
    } finally {
      process.chdir(cwd);
    }
  });

  it('parseIdx rejects non-IDX and truncated input', () => {
    expect(() => parseIdx(new Uint8Array([1, 2, 3, 4]), 'x')).toThrow(/not an unsigned-byte IDX/);
    expect(() => parseIdx(idx([5], new Uint8Array(2)), 'y')).toThrow(/truncated/);
  });
});

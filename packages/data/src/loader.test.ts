import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLoader, epochStartPosition, type Batch, type LoaderOptions, type LoaderPosition } from './loader.js';
import { shapesDataset } from './shapes.js';
import { indexedShard, solidImage, tempDir, writeTar } from './testing/fixtures.js';
import { STAND_IN_SIZE, STAND_IN_TRANSFORM, standInProcessor, standInTokenizer } from './testing/stand-ins.js';
import type { Dataset } from './types.js';
import { webDataset } from './webdataset.js';

const base = { imageProcessor: standInProcessor, tokenizer: standInTokenizer, workers: 0 } satisfies Partial<LoaderOptions>;

async function collect(it: AsyncIterable<Batch>, limit = Infinity): Promise<Batch[]> {
  const out: Batch[] = [];
  if (limit <= 0) return out;
  for await (const b of it) {
    out.push(b);
    if (out.length >= limit) break;
  }
  return out;
}
const keysOf = (bs: Batch[]) => bs.flatMap((b) => b.keys.map((k) => `${b.epoch}:${k}`));

/** 4 shards × 6 samples (24), keys s0000..s0023. */
async function shards(): Promise<Dataset> {
  const dir = tempDir('loader');
  for (let s = 0; s < 4; s++) await indexedShard(join(dir, `d-${s}.tar`), 's', s * 6, 6);
  return webDataset(join(dir, 'd-{0..3}.tar'));
}

describe('createLoader', () => {
  it('batches NCHW pixels and token ids; every sample once per epoch, reshuffled each epoch', async () => {
    const ds = shapesDataset({ seed: 1, size: 10, imageSize: 16 });
    const batches = await collect(createLoader(ds, { ...base, batchSize: 4, seed: 7, epochs: 2 }));
    expect(batches.map((b) => b.keys.length)).toEqual([4, 4, 2, 4, 4, 2]);
    const b0 = batches[0]!;
    expect(b0.pixelShape).toEqual([4, 3, STAND_IN_SIZE, STAND_IN_SIZE]);
    expect(b0.pixelValues).toHaveLength(4 * 3 * STAND_IN_SIZE * STAND_IN_SIZE);
    expect(b0.textShape).toEqual([4, 8]);
    expect(b0.inputIds).toHaveLength(32);
    expect(b0.captions[0]).toMatch(/^a (red|green|blue|yellow|purple|orange) (circle|square|triangle)/);
    const e0 = batches.slice(0, 3).flatMap((b) => b.keys);
    const e1 = batches.slice(3).flatMap((b) => b.keys);
    expect([...e0].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `shapes-1-${String(i).padStart(6, '0')}`));
    expect([...e1].sort()).toEqual([...e0].sort());
    expect(e1).not.toEqual(e0);
    const again = await collect(createLoader(ds, { ...base, batchSize: 4, seed: 7, epochs: 2 }));
    expect(keysOf(again)).toEqual(keysOf(batches));
    const second = await collect(createLoader(ds, { ...base, batchSize: 4, seed: 7, epochs: 2, resumeFrom: epochStartPosition({ seed: 7, epoch: 1 }) }));
    expect(keysOf(second)).toEqual(keysOf(batches.slice(3)));
    const dropped = await collect(createLoader(ds, { ...base, batchSize: 4, seed: 7, drop_last: true }));
    expect(dropped.map((b) => b.keys.length)).toEqual([4, 4]);
  });

  it('resumes from a saved position with exactly the remaining samples (shard shuffle + shuffle buffer)', async () => {
    const ds = await shards();
    const opts = { ...base, batchSize: 5, seed: 3, shuffleBuffer: 7, epochs: 2 };
    const full = await collect(createLoader(ds, opts));
    expect(keysOf(full)).toHaveLength(48);
    for (const stop of [1, 3, 5, 6]) {
      const first = createLoader(ds, opts);
      const head = await collect(first, stop);
      const saved = JSON.parse(JSON.stringify(first.position())) as LoaderPosition;
      expect(saved).toEqual(head[head.length - 1]!.position);
      const tail = await collect(createLoader(ds, { ...opts, resumeFrom: saved }));
      expect(keysOf([...head, ...tail])).toEqual(keysOf(full));
      // Pixels too, not just keys.
      expect(Array.from(tail[0]!.pixelValues)).toEqual(Array.from(full[stop]!.pixelValues));
    }
  });

  it('splits samples across ranks: disjoint, complete, balanced — for both split modes', async () => {
    const ds = await shards();
    for (const splitBy of ['sample', 'shard'] as const) {
      const per = await Promise.all([0, 1].map((rank) => collect(createLoader(ds, { ...base, batchSize: 4, seed: 9, rank, worldSize: 2, splitBy, shuffleBuffer: 5 }))));
      const keys = per.map((bs) => bs.flatMap((b) => b.keys));
      expect(keys[0]!.filter((k) => keys[1]!.includes(k))).toEqual([]);
      expect([...keys[0]!, ...keys[1]!].sort()).toEqual(Array.from({ length: 24 }, (_, i) => `s${String(i).padStart(4, '0')}`));
      expect(keys[0]!.length).toBe(12);
    }
    const three = await Promise.all([0, 1, 2].map((rank) => collect(createLoader(shapesDataset({ seed: 0, size: 11, imageSize: 8 }), { ...base, batchSize: 2, seed: 1, rank, worldSize: 3 }))));
    const k3 = three.map((bs) => bs.flatMap((b) => b.keys));
    expect(new Set(k3.flat()).size).toBe(11);
    expect(k3.map((k) => k.length).sort()).toEqual([3, 4, 4]);
    expect(() => createLoader(ds, { ...base, batchSize: 2, seed: 1, rank: 2, worldSize: 2 })).toThrow(/rank must be in \[0, 2\)/);
  });

  it('skips corrupt and missing images with file and reason, keeping batches full', async () => {
    const dir = tempDir('bad');
    const good = await solidImage(4, 4, [10, 20, 30]);
    await writeTar(join(dir, 'a.tar'), [
      { name: 'k0.png', data: good }, { name: 'k0.txt', data: 'zero' },
      { name: 'k1.jpg', data: Buffer.from('this is not a jpeg') }, { name: 'k1.txt', data: 'corrupt' },
      { name: 'k2.png', data: good }, { name: 'k2.txt', data: 'two' },
      { name: 'k3.png', data: good.subarray(0, 20) }, { name: 'k3.txt', data: 'truncated' },
      { name: 'k4.png', data: good }, { name: 'k4.txt', data: '' },
      { name: 'k5.png', data: good }, { name: 'k5.txt', data: 'five' },
    ]);
    writeFileSync(join(dir, 't.tsv'), `filepath\ttitle\nnope.png\tmissing file\n`);
    const seen: string[] = [];
    const loader = createLoader(webDataset(join(dir, 'a.tar')), { ...base, batchSize: 3, seed: 0, shuffle: false, onSkip: (s) => seen.push(s.key!) });
    const batches = await collect(loader);
    expect(batches.map((b) => b.keys)).toEqual([['k0', 'k2', 'k5']]);
    const rep = loader.errors();
    expect(rep.total).toBe(3);
    expect(rep.byReason).toEqual({ 'empty caption': 1, 'corrupt image': 2 });
    expect(rep.examples.find((e) => e.key === 'k1')!.source).toBe(`${join(dir, 'a.tar')}#k1`);
    expect(seen.sort()).toEqual(['k1', 'k3', 'k4']);
    const { csvDataset } = await import('./csv-dataset.js');
    const l2 = createLoader(csvDataset(join(dir, 't.tsv')), { ...base, batchSize: 1, seed: 0 });
    expect(await collect(l2)).toEqual([]);
    expect(l2.errors().examples[0]!.reason).toMatch(/^missing image: .*nope\.png/);
  });

  it('worker threads give the same batches as the inline path, with per-sample augmentation seeds', async () => {
    const ds = await shards();
    const opts = { ...base, batchSize: 6, seed: 5, shuffleBuffer: 4, transformModule: STAND_IN_TRANSFORM, augment: true } as const;
    const inline = await collect(createLoader(ds, { ...opts, workers: 0 }));
    const pooled = await collect(createLoader(ds, { ...opts, workers: 2, prefetch: 9 }));
    expect(keysOf(pooled)).toEqual(keysOf(inline));
    pooled.forEach((b, i) => expect(Array.from(b.pixelValues)).toEqual(Array.from(inline[i]!.pixelValues)));
    // The stand-in writes the augmentation seed into pixel 0: distinct per sample.
    const seeds = inline.flatMap((b) => Array.from({ length: b.keys.length }, (_, j) => b.pixelValues[j * 3 * STAND_IN_SIZE * STAND_IN_SIZE]));
    expect(new Set(seeds).size).toBe(24);
  });

  it('survives a throwing transform and a dying worker: reported, replaced, the rest delivered', async () => {
    const dir = tempDir('crash');
    const img = (w: number) => solidImage(w, 4, [50, 60, 70]);
    await writeTar(join(dir, 'c.tar'), [
      { name: 'a.png', data: await img(4) }, { name: 'a.txt', data: 'a' },
      { name: 'b.png', data: await img(5) }, { name: 'b.txt', data: 'b' },
      { name: 'c.png', data: await img(7) }, { name: 'c.txt', data: 'c' },
      { name: 'd.png', data: await img(4) }, { name: 'd.txt', data: 'd' },
    ]);
    const loader = createLoader(webDataset(join(dir, 'c.tar')), { ...base, batchSize: 2, seed: 0, shuffle: false, workers: 1, prefetch: 1, transformModule: STAND_IN_TRANSFORM });
    const batches = await collect(loader);
    expect(batches.map((b) => b.keys)).toEqual([['a', 'd']]);
    expect(loader.errors().examples.map((e) => [e.key, e.reason])).toEqual([['b', 'transform failed: boom'], ['c', 'transform failed: worker exited with code 3']]);
  });

  it('rejects bad options and foreign positions with clear messages', async () => {
    const ds = shapesDataset({ seed: 0, size: 4, imageSize: 8 });
    expect(() => createLoader(ds, { ...base, batchSize: 0, seed: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => createLoader(ds, { ...base, batchSize: 2, seed: 0, workers: 1, imageProcessor: { process: standInProcessor.process } })).toThrow(/workers > 0 need preprocessorConfig/);
    const l = createLoader(ds, { ...base, batchSize: 2, seed: 0 });
    await collect(l, 1);
    expect(() => createLoader(ds, { ...base, batchSize: 2, seed: 1, resumeFrom: l.position() })).toThrow(/saved with seed 0, rank 0\/1; this loader has seed 1/);
    expect(() => createLoader(ds, { ...base, batchSize: 2, seed: 0, resumeFrom: {} as LoaderPosition })).toThrow(/not a loader position/);
    await expect(collect(createLoader(ds, { ...base, batchSize: 5, seed: 0, drop_last: true, epochs: Infinity }))).rejects.toThrow(/epoch 0 of shapes:seed=0 produced no batch/);
  });
});

import { describe, expect, it } from 'vitest';
import { Rng, createRng } from './index.js';

describe('xoshiro128** core', () => {
  it('matches the reference algorithm from state {1, 2, 3, 4} (values worked by hand from the C code)', () => {
    const r = Rng.fromState({ algorithm: 'xoshiro128**', s: [1, 2, 3, 4], spare: null });
    // out = rotl(s1 * 5, 7) * 9: rotl(10, 7) * 9 = 11520; then s1 = 0 -> 0; then s1 = 1029 -> rotl(5145, 7) * 9.
    expect([r.nextUint32(), r.nextUint32()]).toEqual([11520, 0]);
    expect(r.state().s).toEqual([12295, 1029, 1029, 25165824]); // state after two steps
    expect(r.nextUint32()).toBe(5927040);
  });
});

describe('createRng', () => {
  it('is deterministic per seed and differs across seeds (incl. high bits and strings)', () => {
    const draw = (seed: number | string) => Array.from({ length: 8 }, ((r) => () => r.nextUint32())(createRng(seed)));
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(2 ** 40)).not.toEqual(draw(0));
    expect(draw('run-a')).toEqual(draw('run-a'));
    expect(draw('run-a')).not.toEqual(draw('run-b'));
  });

  it('rejects bad seeds', () => {
    expect(() => createRng(1.5)).toThrow(/seed must be a safe integer or a string, got 1.5/);
    expect(() => createRng(Number.NaN)).toThrow(/seed must be a safe integer/);
  });

  it('next() is uniform on [0, 1): mean 1/2, variance 1/12', () => {
    const r = createRng(7);
    const n = 50_000;
    let s = 0;
    let s2 = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      if (!(u >= 0 && u < 1)) outside++;
      s += u;
      s2 += u * u;
    }
    const mean = s / n;
    expect(outside).toBe(0);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01); // se = 0.0013
    expect(Math.abs(s2 / n - mean * mean - 1 / 12)).toBeLessThan(0.003);
  });

  it('normal() has mean 0, variance 1 and N(0,1) tail mass', () => {
    const r = createRng(11);
    const n = 50_000;
    let s = 0;
    let s2 = 0;
    let beyond2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
      if (Math.abs(z) > 2) beyond2++;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
    expect(Math.abs(beyond2 / n - 0.0455)).toBeLessThan(0.005); // P(|Z| > 2) = 0.0455
    const m = createRng(3);
    const v = Array.from({ length: 2000 }, () => m.normal(5, 0.1));
    expect(Math.abs(v.reduce((a, b) => a + b) / v.length - 5)).toBeLessThan(0.01);
  });

  it('int(n) is in range and unbiased (chi-square over 10 bins)', () => {
    const r = createRng(5);
    const counts = new Array(10).fill(0);
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[r.int(10)]++;
    const chi2 = counts.reduce((a, c) => a + (c - n / 10) ** 2 / (n / 10), 0);
    expect(chi2).toBeLessThan(27.9); // p = 0.001 for 9 dof
    expect(() => r.int(0)).toThrow(/n must be an integer in \[1, 2\^32\], got 0/);
    expect(r.int(1)).toBe(0);
  });

  it('shuffle is an in-place permutation; every position is reached', () => {
    const r = createRng(9);
    const a = Array.from({ length: 50 }, (_, i) => i);
    const same = r.shuffle(a);
    expect(same).toBe(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    const firstSeen = new Set<number>();
    for (let i = 0; i < 400; i++) firstSeen.add(r.permutation(5)[0]!);
    expect(firstSeen.size).toBe(5);
  });

  it('state() round-trips through JSON mid-stream, including a cached normal', () => {
    const r = createRng(123);
    for (let i = 0; i < 17; i++) r.next();
    r.normal(); // leaves the Box–Muller spare cached
    const saved = JSON.parse(JSON.stringify(r.state()));
    expect(saved.spare).not.toBeNull();
    const restored = Rng.fromState(saved);
    const seqA = [r.normal(), r.next(), r.int(1000), r.normal(), r.normal()];
    const seqB = [restored.normal(), restored.next(), restored.int(1000), restored.normal(), restored.normal()];
    expect(seqB).toEqual(seqA);
  });

  it('fromState validates its input', () => {
    expect(() => Rng.fromState({ algorithm: 'pcg32', s: [1, 2, 3, 4], spare: null } as never)).toThrow(/expected \{ algorithm: 'xoshiro128\*\*'/);
    expect(() => Rng.fromState({ algorithm: 'xoshiro128**', s: [1, 2, 3], spare: null } as never)).toThrow(/4 x uint32/);
    expect(() => Rng.fromState({ algorithm: 'xoshiro128**', s: [0, 0, 0, 0], spare: null })).toThrow(/all-zero state/);
    expect(() => Rng.fromState({ algorithm: 'xoshiro128**', s: [1, 2, 3, 2 ** 32], spare: null })).toThrow(/uint32/);
  });

  it('fork(label) gives distinct, reproducible streams without advancing the parent', () => {
    const r = createRng(1);
    const before = r.state();
    const a = r.fork('data');
    const b = r.fork('init');
    expect(r.state()).toEqual(before);
    const take = (x: Rng) => Array.from({ length: 6 }, () => x.nextUint32());
    const sa = take(a);
    expect(sa).not.toEqual(take(b));
    expect(take(createRng(1).fork('data'))).toEqual(sa);
    expect(sa).not.toEqual(take(createRng(1)));
    // Forks are uncorrelated with the parent: sample correlation of 5000 uniforms near 0.
    const p = createRng(2);
    const f = p.fork('x');
    let sxy = 0;
    for (let i = 0; i < 5000; i++) sxy += (p.next() - 0.5) * (f.next() - 0.5);
    expect(Math.abs(sxy / 5000 / (1 / 12))).toBeLessThan(0.05);
  });
});

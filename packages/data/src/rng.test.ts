import { describe, expect, it } from 'vitest';
import { DataRng, hashSeed } from './rng.js';

describe('DataRng', () => {
  it('is reproducible from a seed and from a saved state', () => {
    const a = new DataRng(42);
    const b = new DataRng(42);
    expect(Array.from({ length: 5 }, () => a.nextU32())).toEqual(Array.from({ length: 5 }, () => b.nextU32()));
    const s = JSON.parse(JSON.stringify(a.state()));
    const c = DataRng.fromState(s);
    expect(Array.from({ length: 5 }, () => c.next())).toEqual(Array.from({ length: 5 }, () => a.next()));
    expect(new DataRng(43).nextU32()).not.toBe(new DataRng(42).nextU32());
  });

  it('int(n) stays in range and is roughly uniform; shuffle is a permutation', () => {
    const r = new DataRng(1);
    const counts = new Array(4).fill(0);
    for (let i = 0; i < 4000; i++) counts[r.int(4)]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
    const p = r.shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('rejects malformed states and separates hash inputs', () => {
    expect(() => DataRng.fromState({ a: -1, b: 0, c: 0, d: 0 })).toThrow(/uint32/);
    expect(hashSeed(1, 2)).not.toBe(hashSeed(2, 1));
    expect(hashSeed(0, 2 ** 32)).not.toBe(hashSeed(0, 0));
    expect(hashSeed('a', 1)).toBe(hashSeed('a', 1));
  });
});

import { describe, expect, it } from 'vitest';
import { createRng, glorotUniform, initBackend, randomNormal, randomUniform, tf, truncatedNormal } from './index.js';

describe('seeded initialisers', () => {
  it('give bit-identical tensors on cpu and wasm for the same seed', async () => {
    const draw = async (backend: 'cpu' | 'wasm') => {
      await initBackend({ backend });
      const t = randomNormal([16, 8], 0.02, createRng(77));
      const u = truncatedNormal([32], createRng(78), { std: 1 });
      const out = [Array.from(await t.data()), Array.from(await u.data())];
      tf.dispose([t, u]);
      return out;
    };
    const cpu = await draw('cpu');
    const wasm = await draw('wasm');
    expect(wasm).toEqual(cpu);
  });

  it('match the requested distributions', async () => {
    await initBackend({ backend: 'wasm' });
    const n = randomNormal([20000], 0.02, createRng(1), 1);
    const { mean, variance } = tf.moments(n);
    expect(Math.abs((await mean.data())[0]! - 1)).toBeLessThan(0.001);
    expect(Math.abs(Math.sqrt((await variance.data())[0]!) - 0.02)).toBeLessThan(0.001);
    const tn = await truncatedNormal([5000], createRng(2), { std: 1, a: -0.5, b: 1 }).data();
    expect(Math.min(...tn)).toBeGreaterThanOrEqual(-0.5);
    expect(Math.max(...tn)).toBeLessThanOrEqual(1);
    const u = await randomUniform([5000], -3, -1, createRng(3)).data();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-3);
    expect(Math.max(...u)).toBeLessThan(-1);
    // Glorot limit for a 3x3 conv 4 -> 8: sqrt(6 / (4*9 + 8*9)) = 0.2357
    const g = await glorotUniform([3, 3, 4, 8], createRng(4)).data();
    expect(Math.max(...g.map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(6 / 108));
    expect(Math.max(...g.map(Math.abs))).toBeGreaterThan(0.9 * Math.sqrt(6 / 108));
    tf.disposeVariables();
  });

  it('reject bad arguments clearly', () => {
    expect(() => randomNormal([2, -1], 1, createRng(1))).toThrow(/shape must be non-negative integers, got \[2, -1\]/);
    expect(() => truncatedNormal([2], createRng(1), { a: 1, b: 0 })).toThrow(/need a < b/);
    expect(() => truncatedNormal([2], createRng(1), { a: 50, b: 51 })).toThrow(/holds almost no mass/);
  });
});

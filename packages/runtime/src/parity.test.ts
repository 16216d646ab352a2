// Op parity: the op set the models use (forward + gradients) on wasm vs the cpu reference, within 1e-5.
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_CASES, runConformance, tf, type ConformanceResult } from './index.js';
import { initBackend } from './index.js';

let results: ConformanceResult[];

beforeAll(async () => {
  results = await runConformance('wasm', { reference: 'cpu', atol: 1e-5, rtol: 1e-5 });
});

describe('wasm vs cpu op parity (atol = rtol = 1e-5)', () => {
  for (const c of CONFORMANCE_CASES) {
    it(c.name, () => {
      const mine = results.filter((r) => r.case === c.name);
      expect(mine.length).toBeGreaterThanOrEqual(2); // forward + at least one gradient
      for (const r of mine) expect({ output: r.output, ok: r.ok, maxAbsDiff: r.maxAbsDiff }).toEqual({ output: r.output, ok: true, maxAbsDiff: r.maxAbsDiff });
    });
  }

  it('covers matmul, softmax, layer norm, both gelus, quick_gelu and conv2d with gradients', () => {
    const names = CONFORMANCE_CASES.map((c) => c.name).join('|');
    for (const op of ['matmul', 'softmax', 'layer norm', 'gelu (tanh', 'gelu (erf)', 'quick_gelu', 'conv2d']) expect(names).toContain(op);
    expect(results.some((r) => r.case.startsWith('conv2d') && r.output === 'df')).toBe(true);
  });

  it('the comparison detects a real difference (a wrong gelu fails)', async () => {
    const wrong = await runConformance('wasm', {
      cases: [{ name: 'gelu vs relu', inputs: CONFORMANCE_CASES[5]!.inputs, run: (x) => ({ y: tf.tidy(() => (tf.getBackend() === 'wasm' ? tf.relu(x['x']!) : tf.mul(x['x']!, tf.sigmoid(tf.mul(1.702, x['x']!))))) }) }],
    });
    expect(wrong[0]!.ok).toBe(false);
  });

  it('wasm has the kernels tfjs-backend-wasm lacks: conv2d filter gradient, unsortedSegmentSum, einsum', async () => {
    await initBackend({ backend: 'wasm' });
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    const seg = tf.unsortedSegmentSum(tf.tensor2d([[1, 2], [3, 4], [5, 6]]), tf.tensor1d([1, 0, 1], 'int32'), 3);
    expect(Array.from(await seg.data())).toEqual([3, 4, 6, 8, 0, 0]);
    const a = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    const e = tf.einsum('bij,bjk->bik', a, a); // [[1,2],[3,4]]^2 = [[7,10],[15,22]]; [[5,6],[7,8]]^2 = [[67,78],[91,106]]
    expect(Array.from(await e.data())).toEqual([7, 10, 15, 22, 67, 78, 91, 106]);
    expect(tf.getBackend()).toBe('wasm');
    tf.dispose([seg, a, e]);
  });
});

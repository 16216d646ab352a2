import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, profileKernels, tf } from './index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('profileKernels', () => {
  it('aggregates kernel calls by name, with the forward and backward kernels of a step', async () => {
    const w = tf.variable(tf.ones([8, 8]));
    const x = tf.ones([4, 8]);
    const { result, rows, newTensors } = await profileKernels(() =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.matMul(tf.matMul(tf.matMul(x, w), w), w)));
        tf.dispose(grads);
        return value;
      }),
    );
    const calls = Object.fromEntries(rows.map((r) => [r.kernel, r.calls]));
    // 3 forward matmuls; backward of each: dx (2 needed: the first input is a constant) and dw (3).
    expect(calls['BatchMatMul']).toBe(3 + 2 + 3);
    expect(calls['Sum']).toBeGreaterThanOrEqual(1);
    expect(newTensors).toBe(1); // only the returned loss survives
    expect(await result.data()).toEqual(new Float32Array([4 * 8 * 8 * 8 * 8]));
    const top = rows.find((r) => r.kernel === 'BatchMatMul')!;
    expect(top.slowestOutput).toMatch(/^\[\d+,\d+(,\d+)?\]/);
    expect(rows.reduce((a, r) => a + r.share, 0)).toBeCloseTo(1, 6);
    tf.dispose([result, w, x]);
  });
});

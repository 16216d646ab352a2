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
    expect(rows.reduce((a, r) => a + (r.scope ? 0 : r.share), 0)).toBeCloseTo(1, 6);
    expect(rows.every((r) => !r.scope)).toBe(true);
    tf.dispose([result, w, x]);
  });

  it('reports custom-gradient ops as scopes, outside the kernel total (their time repeats their kernels\')', async () => {
    const square = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
      save([x]);
      return { value: tf.mul(x, x), gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => tf.mul(dy, tf.mul(s!, 2)) };
    }) as unknown as (x: tf.Tensor) => tf.Tensor;
    const x = tf.ones([64, 64]);
    const { result, rows, totalKernelMs } = await profileKernels(() => tf.sum(square(x)));
    const scope = rows.find((r) => r.scope)!;
    expect(scope).toBeDefined();
    expect(Number.isNaN(scope.share)).toBe(true);
    expect(rows.find((r) => r.kernel === 'Multiply')!.scope).toBe(false);
    expect(rows.indexOf(scope)).toBeGreaterThan(rows.findIndex((r) => r.kernel === 'Multiply')); // kernels first
    expect(totalKernelMs).toBeCloseTo(rows.filter((r) => !r.scope).reduce((a, r) => a + r.totalMs, 0), 9);
    expect(await result.data()).toEqual(new Float32Array([64 * 64]));
    tf.dispose([result, x]);
  });
});

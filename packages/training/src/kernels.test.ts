import { describe, it, expect } from 'vitest';
import { tf, initBackend } from '@duet/runtime';
import { registerTrainingKernels } from './kernels.js';

describe('UnsortedSegmentSum scatter-add kernel', () => {
  it('gives the gradient of an embedding gather (repeated ids add up) on wasm', async () => {
    await initBackend({ backend: 'wasm' });
    expect(registerTrainingKernels()).toBe(true);
    const table = tf.variable(tf.zeros([5, 2]));
    const ids = tf.tensor2d([[1, 3], [1, 4]], [2, 2], 'int32');
    const weights = tf.tensor3d([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.gather(table, ids), weights)) as tf.Scalar, [table]);
    // row 1 collects (1,2)+(5,6); row 3 (3,4); row 4 (7,8); rows 0 and 2 nothing
    expect(Array.from(grads[table.name]!.dataSync())).toEqual([0, 0, 6, 8, 0, 0, 3, 4, 7, 8]);
    const direct = tf.unsortedSegmentSum(tf.tensor2d([[1, 1], [2, 2], [3, 3]]), tf.tensor1d([2, 0, 2], 'int32'), 3);
    expect(Array.from(direct.dataSync())).toEqual([2, 2, 0, 0, 4, 4]);
  });
});

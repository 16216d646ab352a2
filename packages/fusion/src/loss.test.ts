import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@duet/runtime';
import { argmaxRows, buildAnswerVocab, vqaLoss } from './index.js';
import { useBackend } from '../test/helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('vqaLoss', () => {
  it('equals ln(A) for uniform logits and -log softmax of the true answer otherwise (closed forms)', () => {
    const uniform = vqaLoss(tf.zeros([3, 5]) as tf.Tensor2D, tf.tensor1d([0, 4, 2], 'int32'));
    expect(uniform.dataSync()[0]).toBeCloseTo(Math.log(5), 6);
    // Row [ln 3, 0]: p(answer 0) = 3/4, p(answer 1) = 1/4; mean of -ln(3/4) and -ln(1/4).
    const l = vqaLoss(tf.tensor2d([[Math.log(3), 0], [Math.log(3), 0]]), tf.tensor1d([0, 1], 'int32'));
    expect(l.dataSync()[0]).toBeCloseTo((-Math.log(0.75) - Math.log(0.25)) / 2, 6);
    expect(() => vqaLoss(tf.zeros([2, 3]) as tf.Tensor2D, tf.tensor1d([0], 'int32'))).toThrow('labels: expected [2], got [1]');
    tf.dispose([uniform, l]);
  });
});

describe('answers', () => {
  it('vocabulary by frequency then alphabetically; argmax takes the first of ties', () => {
    expect(buildAnswerVocab(['no', 'yes', 'red', 'yes', 'no', 'blue', 'yes'])).toEqual(['yes', 'no', 'blue', 'red']);
    expect(buildAnswerVocab(['a', 'b', 'b'], 1)).toEqual(['b']);
    expect(Array.from(argmaxRows(Float32Array.from([0, 2, 2, 5, 1, 0]), 2, 3))).toEqual([1, 0]);
  });
});

// The ResNet tower's conv gradient (conv2dTranspose for dx, dilated conv for dW) equals tfjs's own conv2d
// gradient (cpu backend kernels Conv2DBackpropInput/Filter) for the strides, paddings and sizes ModifiedResNet uses.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@duet/runtime';
import { convNhwc } from './resnet-tower.js';
import { relError, useBackend } from '../test/helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('convNhwc gradient', () => {
  for (const [stride, pad, size, k] of [[1, 1, 7, 3], [2, 1, 8, 3], [2, 1, 7, 3], [1, 0, 5, 1], [2, 0, 6, 1]] as const) {
    it(`stride ${stride}, pad ${pad}, ${size}x${size} input, ${k}x${k} kernel`, () => {
      const x = tf.randomNormal([2, size, size, 3], 0, 1, 'float32', 1);
      const w = tf.randomNormal([k, k, 3, 4], 0, 1, 'float32', 2);
      const dy = tf.randomNormal(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad).shape, 0, 1, 'float32', 3);
      const loss = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), dy));
      const ref = tf.grads(loss((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)))([x, w]);
      const got = tf.grads(loss(convNhwc(stride, pad)))([x, w]);
      const y = convNhwc(stride, pad)(x, w);
      expect(relError(y.dataSync(), tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad).dataSync())).toBe(0);
      expect(relError(got[0]!.dataSync(), ref[0]!.dataSync())).toBeLessThan(1e-6);
      expect(relError(got[1]!.dataSync(), ref[1]!.dataSync())).toBeLessThan(1e-6);
    });
  }
});

// The allocation-free replacements give bit-identical results to TensorFlow.js's own kernel/gradients.
import { describe, expect, it, beforeAll } from 'vitest';
import { tf } from './tf.js';
import { initBackend } from './backend.js';
import { copySlice, installLowAllocGradients, installZeroCopyWasmIdentity, installZeroCopyWasmSlice } from './low-alloc-kernels.js';

const iota = (shape: number[]) => tf.reshape(tf.range(0, shape.reduce((a, b) => a * b, 1), 1, 'float32'), shape);

describe('copySlice (the wasm Slice kernel body)', () => {
  it('copies x[begin : begin + size] for ranks 1–5, contiguous or strided (index closed form)', () => {
    const cases: [number[], number[], number[]][] = [
      [[10], [3], [4]],
      [[4, 6], [1, 2], [2, 3]],
      [[4, 6], [1, 0], [2, 6]], // contiguous rows
      [[3, 4, 5], [1, 1, 2], [2, 3, 2]],
      [[2, 3, 4, 5], [0, 1, 1, 0], [2, 2, 3, 5]],
      [[2, 2, 3, 2, 3], [1, 0, 1, 1, 1], [1, 2, 2, 1, 2]],
    ];
    for (const [shape, begin, size] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = Float32Array.from({ length: n }, (_, i) => i);
      const out = new Float32Array(size.reduce((a, b) => a * b, 1));
      copySlice(x, shape, out, begin, size);
      // value at multi-index j of the slice = flat index of (begin + j) in x
      const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
      const want = Array.from(out, (_, k) => {
        let rem = k, flat = 0;
        for (let d = size.length - 1; d >= 0; d--) {
          flat += (begin[d]! + (rem % size[d]!)) * strides[d]!;
          rem = Math.floor(rem / size[d]!);
        }
        return flat;
      });
      expect(Array.from(out)).toEqual(want);
    }
  });
});

describe('on the wasm backend', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('the zero-copy Slice kernel equals the stock one (tf.slice, tf.split, strided and contiguous)', () => {
    const x = tf.randomNormal([3, 5, 7, 4], 0, 1, 'float32', 7);
    const run = () => [
      tf.slice(x, [1, 1, 2, 0], [2, 3, 4, 4]), tf.slice(x, [0, 2, 0, 1], [3, 2, 7, 2]), tf.slice(x, [2, 0, 0, 0], [1, 5, 7, 4]),
      ...tf.split(tf.reshape(x, [15, 28]), [10, 18], 1), tf.slice(tf.cast(tf.reshape(x, [420]), 'int32'), [5], [100]),
    ].map((t) => Array.from(t.dataSync()));
    const stock = run();
    expect(installZeroCopyWasmSlice()).toBe(true);
    expect(run()).toEqual(stock);
  });

  it('Mean and Sum gradients equal the stock gradients (no JS ones array)', () => {
    const x = iota([2, 3, 4]).div(7);
    const dy = tf.randomNormal([2, 3], 0, 1, 'float32', 3);
    const f = () => [
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.mean(a, -1), dy)))(x),
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.sum(a, 2), dy)))(x),
      tf.grad((a: tf.Tensor) => tf.mean(tf.square(a)))(x),
      tf.grad((a: tf.Tensor) => tf.sum(tf.mean(a, [0, 2], true)))(x),
    ].map((t) => Array.from(t.dataSync()));
    const stock = f();
    installLowAllocGradients();
    expect(f()).toEqual(stock);
  });

  it('the zero-copy Identity shares the buffer; gradients through saved tensors equal the stock kernel bit for bit', () => {
    const x = tf.randomNormal([4, 6], 0, 1, 'float32', 11);
    const w = tf.variable(tf.randomNormal([6, 5], 0, 0.5, 'float32', 12));
    const grads = () => {
      // matMul, softmax, layer-norm-like moments and exp all save inputs/outputs for backward (Engine.clone)
      const { value, grads: g } = tf.variableGrads(() => {
        const h = tf.softmax(tf.matMul(x, w));
        const m = tf.moments(h, -1, true);
        return tf.sum(tf.mul(tf.exp(tf.div(tf.sub(h, m.mean), tf.sqrt(tf.add(m.variance, 1e-5)))), tf.range(1, 6, 1, 'float32'))) as tf.Scalar;
      }, [w]);
      const out = [Array.from(value.dataSync()), Array.from(g[w.name]!.dataSync())];
      tf.dispose([value, g[w.name]!]);
      return out;
    };
    const stock = grads();
    const stockClone = tf.clone(x);
    expect(tf.backend().refCount(x.dataId)).toBe(1); // the stock kernel copied
    stockClone.dispose();
    expect(installZeroCopyWasmIdentity()).toBe(true);
    expect(grads()).toEqual(stock);
    const twin = tf.clone(x);
    expect(twin.dataId).toBe(x.dataId);
    expect(tf.backend().refCount(x.dataId)).toBe(2);
    const want = Array.from(x.dataSync());
    x.dispose(); // the clone keeps the buffer alive
    expect(Array.from(twin.dataSync())).toEqual(want);
    twin.dispose();
  });
});

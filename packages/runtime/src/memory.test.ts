import { beforeAll, describe, expect, it } from 'vitest';
import { TensorLeakError, assertNoLeaks, assertNoLeaksSync, initBackend, measureLeaks, memorySnapshot, tf, trackLeaks } from './index.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('memory accounting', () => {
  it('memorySnapshot counts tensors and bytes', () => {
    const before = memorySnapshot();
    const t = tf.zeros([3, 5]);
    const after = memorySnapshot();
    expect(after.numTensors - before.numTensors).toBe(1);
    expect(after.numBytes - before.numBytes).toBe(60);
    expect(after.backend).toBe('wasm');
    t.dispose();
    expect(memorySnapshot().numTensors).toBe(before.numTensors);
  });

  it('assertNoLeaks catches a planted leak and names the count', async () => {
    let planted: tf.Tensor[] = [];
    const err = await assertNoLeaks(() => {
      const a = tf.ones([4]);
      const b = tf.add(a, 1); // intermediate kept alive: leak
      planted = [a, b];
      tf.dispose(tf.mul(b, 2)); // disposed: not a leak
    }, 'planted').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TensorLeakError);
    expect((err as Error).message).toMatch(/^planted: leaked 2 tensors \(32 bytes; \d+ -> \d+ live tensors\)$/);
    expect((err as TensorLeakError).report.leakedTensors).toBe(2);
    tf.dispose(planted);
  });

  it('passes clean code and does not count returned tensors (in arrays/objects) as leaks', async () => {
    await expect(assertNoLeaks(() => tf.tidy(() => tf.sum(tf.ones([8]))).dispose())).resolves.toBeUndefined();
    const out = await assertNoLeaks(async () => ({ loss: tf.scalar(1), grads: [tf.ones([2]), tf.zeros([3])] }));
    const { report } = await measureLeaks(() => out);
    expect(report).toMatchObject({ leakedTensors: 0, returnedTensors: 0, leakedBytes: 0 }); // they existed before
    tf.dispose([out.loss, ...out.grads]);
    const { result, report: r2 } = await measureLeaks(() => [tf.ones([2]), { a: tf.ones([1]) }]);
    expect(r2).toMatchObject({ leakedTensors: 0, returnedTensors: 2, leakedBytes: 0 });
    tf.dispose([result[0] as tf.Tensor, (result[1] as { a: tf.Tensor }).a]);
  });

  it('trackLeaks and assertNoLeaksSync cover step-style code', () => {
    const tracker = trackLeaks('step');
    const keep = tf.ones([2]);
    expect(tracker.check().leakedTensors).toBe(1);
    expect(() => tracker.assert()).toThrow(/^step: leaked 1 tensor \(8 bytes/);
    expect(() => tracker.assert(keep)).not.toThrow();
    keep.dispose();
    expect(() => assertNoLeaksSync(() => void tf.ones([1]), 'sync')).toThrow(/^sync: leaked 1 tensor/);
    tf.disposeVariables();
  });
});

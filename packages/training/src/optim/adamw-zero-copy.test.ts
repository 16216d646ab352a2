// The zero-copy wasm Identity (@duet/runtime) with this package's fused AdamW: a clone of a parameter keeps its
// values, and no per-buffer backend state goes stale across optimizer steps.
import { describe, expect, it } from 'vitest';
import { initBackend, installLowAllocGradients, installZeroCopyWasmIdentity, installZeroCopyWasmSlice, tf } from '@duet/runtime';
import { createDualEncoder } from '@duet/encoders';
import { parseModelConfig } from '@duet/model-format';
import { AdamW } from './adamw.js';
import { computeGradients, trainableByName } from '../step.js';
import { getRecipe, resolveConfig } from '../config.js';
import { presetModelConfig } from '../session.js';

describe('zero-copy Identity with the fused AdamW (wasm)', () => {
  it('leaves a clone of a parameter untouched', async () => {
    await initBackend({ backend: 'wasm' });
    installZeroCopyWasmIdentity();
    const p = tf.variable(tf.tensor1d([1, 2, 3, 4]));
    const opt = new AdamW(new Map([['w', p]]), { lr: 0.1, weightDecay: 0 });
    opt.applyGradients(new Map([['w', Float32Array.from([1, 1, 1, 1])]])); // the parameter now lives in a buffer AdamW allocated
    const before = Array.from(p.dataSync());
    const twin = p.clone(); // shares the parameter's buffer
    opt.applyGradients(new Map([['w', Float32Array.from([1, -1, 1, -1])]]));
    expect(Array.from(twin.dataSync())).toEqual(before);
    expect(Array.from(p.dataSync())).not.toEqual(before);
    twin.dispose();
    opt.dispose();
  });

  it('after optimizer steps, gradients equal those computed from fresh copies of every weight (no stale per-buffer state)', async () => {
    // The wasm backend keeps per-buffer state (XNNPACK packed weights of matmul/conv operands). With the zero-copy
    // Identity, the backward's saved copy of a weight IS the weight's buffer: a weight updated in place would then
    // be read stale by the next backward. AdamW must give every parameter a new buffer.
    await initBackend({ backend: 'wasm' });
    installLowAllocGradients();
    installZeroCopyWasmSlice();
    installZeroCopyWasmIdentity();
    const mc = parseModelConfig(presetModelConfig(resolveConfig(getRecipe('fashion-mnist-siglip'), {})));
    const model = createDualEncoder(mc, { seed: 0 });
    const s = mc.vision_config.image_size;
    const l = mc.text_config.max_position_embeddings;
    const batch = {
      pixelValues: tf.randomNormal([4, 3, s, s], 0, 1, 'float32', 1) as tf.Tensor4D,
      inputIds: tf.randomUniform([4, l], 0, 100, 'int32', 2) as tf.Tensor2D,
      attentionMask: tf.ones([4, l], 'int32') as tf.Tensor2D,
    };
    const params = trainableByName(model);
    const opt = new AdamW(params, { lr: 1e-3 });
    const grads = () => {
      const r = computeGradients(model, [batch]);
      const out = new Map([...r.grads].map(([n, g]) => [n, Array.from((g as tf.Tensor).dataSync())]));
      tf.dispose([...r.grads.values()] as tf.Tensor[]);
      return out;
    };
    for (let step = 0; step < 3; step++) {
      const r = computeGradients(model, [batch]);
      opt.applyGradients(r.grads);
      tf.dispose([...r.grads.values()] as tf.Tensor[]);
    }
    const g1 = grads();
    for (const p of params.values()) {
      const fresh = tf.tensor(p.dataSync(), p.shape); // a new buffer: nothing cached for it
      p.assign(fresh);
      fresh.dispose();
    }
    const g2 = grads();
    expect(g1.size).toBeGreaterThan(50);
    for (const [name, a] of g1) expect({ name, values: a }).toEqual({ name, values: g2.get(name) });
    opt.dispose();
    tf.dispose(Object.values(batch));
    model.dispose();
  });
});

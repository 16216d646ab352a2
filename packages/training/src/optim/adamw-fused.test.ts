// The fused (one JS pass, in place) AdamW of the wasm/cpu backends: torch's closed form on wasm, gradients given
// as arrays or tensors alike, the clipping scale, and that buffers the optimizer does not own are never written.
import { describe, it, expect } from 'vitest';
import { tf, initBackend } from '@duet/runtime';
import { AdamW } from './adamw.js';
import { clipByGlobalNorm, clipCoefficient, globalNorm } from './clip-grad.js';
import { torchAdamW } from './torch-adamw.js';

const lr = 0.1, wd = 0.5, eps = 1e-6, b1 = 0.9, b2 = 0.98;
const closedForm = (p0: number, gs: number[], decay: boolean) => torchAdamW(p0, gs, decay, { lr, wd, eps, b1, b2 });

describe.each(['wasm', 'cpu'] as const)('fused AdamW (%s)', (backend) => {
  it('matches torch over three steps with array and tensor gradients and a clipping scale', async () => {
    await initBackend({ backend });
    const w0 = [1, -2, 0.5, 3];
    const w = tf.variable(tf.tensor2d(w0, [2, 2]));
    const b = tf.variable(tf.tensor1d([0.25, -1]));
    const opt = new AdamW(new Map<string, tf.Variable>([['fc.weight', w], ['fc.bias', b]]), { lr, weightDecay: wd, eps, beta1: b1, beta2: b2 });
    const gw = [[2, -1, 0.5, 4], [1, 1, -3, 0], [0.5, -0.5, 2, 1]];
    const gb = [[1, -2], [0.5, 0.5], [-1, 3]];
    const scales = [1, 0.25, 1];
    for (let s = 0; s < 3; s++) {
      // step 1: tensors; step 2: arrays (the all-reduce's buffers); step 3: mixed
      const grads = new Map<string, tf.Tensor | Float32Array>([
        ['fc.weight', s === 1 ? Float32Array.from(gw[s]!) : tf.tensor2d(gw[s]!, [2, 2])],
        ['fc.bias', s === 0 ? tf.tensor1d(gb[s]!) : Float32Array.from(gb[s]!)],
      ]);
      opt.applyGradients(grads, { scale: scales[s]! });
    }
    const scaled = (g: number[][], i: number) => g.map((row, s) => row[i]! * scales[s]!);
    Array.from(w.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(closedForm(w0[i]!, scaled(gw, i), true), 5));
    Array.from(b.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(closedForm([0.25, -1][i]!, scaled(gb, i), false), 5));
    opt.dispose();
  });

  it('never writes a buffer it does not own: the array a parameter was made from, a clone sharing it', async () => {
    await initBackend({ backend });
    const src = Float32Array.from([1, 2, 3, 4]);
    const p = tf.variable(tf.tensor1d(src)); // cpu backend: the variable's storage IS src until its first assign
    const twin = p.clone(); // shares the buffer (refcount 2)
    const opt = new AdamW(new Map([['x.weight', p]]), { lr: 0.01, weightDecay: 0 });
    for (let s = 0; s < 3; s++) opt.applyGradients(new Map([['x.weight', Float32Array.from([1, -1, 1, -1])]]));
    expect(Array.from(src)).toEqual([1, 2, 3, 4]);
    expect(Array.from(twin.dataSync())).toEqual([1, 2, 3, 4]);
    // Adam's first steps move each coordinate by ~lr·sign(g)
    Array.from(p.dataSync()).forEach((x, i) => expect(x).toBeCloseTo([1, 2, 3, 4][i]! - 0.03 * (i % 2 ? -1 : 1), 4));
    // and a state restored into another optimizer continues identically
    const saved = opt.stateTensors();
    const q = tf.variable(p.clone());
    const opt2 = new AdamW(new Map([['x.weight', q]]), { lr: 0.01, weightDecay: 0 });
    opt2.loadState(saved.tensors, saved.step);
    const g = new Map([['x.weight', Float32Array.from([0.5, 2, -1, 0])]]);
    opt.applyGradients(g);
    opt2.applyGradients(g);
    expect(Array.from(q.dataSync())).toEqual(Array.from(p.dataSync()));
    tf.dispose([twin, p, q]);
    opt.dispose();
    opt2.dispose();
  });

  it('globalNorm over arrays and tensors, and the coefficient equal clip_grad_norm_', async () => {
    await initBackend({ backend });
    const grads = new Map<string, tf.Tensor | Float32Array>([['a', tf.tensor1d([3, 4])], ['b', Float32Array.of(12)]]);
    expect(globalNorm(grads)).toBeCloseTo(13, 6);
    expect(clipCoefficient(13, 1)).toBeCloseTo(1 / (13 + 1e-6), 9);
    expect(clipCoefficient(0.5, 1)).toBe(1);
    expect(clipCoefficient(NaN, 1)).toBe(1);
    expect(clipCoefficient(13, 0)).toBe(1);
    const t = new Map<string, tf.Tensor>([['a', tf.tensor1d([3, 4])], ['b', tf.tensor1d([12])]]);
    expect(clipByGlobalNorm(t, 1).grads.get('b')!.dataSync()[0]).toBeCloseTo(12 / (13 + 1e-6), 6);
  });
});

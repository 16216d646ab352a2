// Kernel variants behind a ViT-B-32 training step, timed on one backend: which composition is faster where our
// code has a choice (transposed matmul flags vs explicit transposes, patchify conv vs reshape + matmul, ...).
//   node --conditions=@duet/source --import tsx tools/gpu/kernels.ts --backend webgpu [--tokens 100] [--out FILE.json]
// Each variant: median over --reps runs of (run the op, read one element back), after one warm-up run (shader
// compilation). Times include dispatch overhead, which is what a training step pays.
import { renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { initBackend, tf, type BackendName } from '@duet/runtime/node';

interface Variant { group: string; name: string; run: () => tf.Tensor }

// tfjs-backend-webgpu's own UnsortedSegmentSum, captured before initBackend replaces it (runtime webgpu-kernels.ts).
const tfjsSegmentSum = tf.getKernel('UnsortedSegmentSum', 'webgpu');
function withKernel<T>(k: tf.KernelConfig | undefined, fn: () => T): T {
  const mine = tf.getKernel('UnsortedSegmentSum', 'webgpu');
  if (!k || !mine || k.kernelFunc === mine.kernelFunc) return fn();
  tf.unregisterKernel('UnsortedSegmentSum', 'webgpu');
  tf.registerKernel(k);
  try {
    return fn();
  } finally {
    tf.unregisterKernel('UnsortedSegmentSum', 'webgpu');
    tf.registerKernel(mine);
  }
}

async function timeIt(run: () => tf.Tensor, reps: number): Promise<number> {
  const once = async () => {
    const t0 = performance.now();
    const y = tf.tidy(run);
    await tf.slice(y.reshape([-1]), [0], [1]).data(); // waits for the op on the device
    const ms = performance.now() - t0;
    y.dispose();
    return ms;
  };
  await once();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) ms.push(await once());
  return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;
}

function variants(m: number): Variant[] {
  const r = (shape: number[]) => tf.randomNormal(shape, 0, 1, 'float32', 1);
  const x = r([m, 768]), w = r([3072, 768]), dy = r([m, 3072]);
  const q = r([24, 50, 64]), k = r([24, 50, 64]);
  const scores = r([24 * Math.max(1, m / 50), 50, 50]);
  const img = r([Math.max(1, m / 50), 3, 224, 224]), patchW = r([768, 3, 32, 32]);
  const ids = tf.tensor1d(Array.from({ length: m }, (_, i) => (i * 7919) % 49408), 'int32');
  const rows = r([m, 512]);
  const small = r([16]);
  const swap = (t: tf.Tensor) => tf.transpose(t, [0, 2, 1]);
  return [
    { group: 'linear x·Wᵀ [M,768]·[3072,768]ᵀ', name: 'matMul(x, W, false, true)', run: () => tf.matMul(x, w, false, true) },
    { group: 'linear x·Wᵀ [M,768]·[3072,768]ᵀ', name: 'matMul(x, transpose(W))', run: () => tf.matMul(x, tf.transpose(w)) },
    { group: 'weight grad dyᵀ·x [M,3072]ᵀ·[M,768]', name: 'matMul(dy, x, true, false)', run: () => tf.matMul(dy, x, true, false) },
    { group: 'weight grad dyᵀ·x [M,3072]ᵀ·[M,768]', name: 'matMul(transpose(dy), x)', run: () => tf.matMul(tf.transpose(dy), x) },
    { group: 'input grad dy·W [M,3072]·[3072,768]', name: 'matMul(dy, W)', run: () => tf.matMul(dy, w) },
    { group: 'attention q·kᵀ [24,50,64]', name: 'matMul(q, k, false, true)', run: () => tf.matMul(q, k, false, true) },
    { group: 'attention q·kᵀ [24,50,64]', name: 'matMul(q, swap(k))', run: () => tf.matMul(q, swap(k)) },
    { group: `softmax [${scores.shape}]`, name: 'tf.softmax', run: () => tf.softmax(scores) },
    { group: `softmax [${scores.shape}]`, name: 'exp(x - max) / sum', run: () => { const e = tf.exp(tf.sub(scores, tf.max(scores, -1, true))); return tf.div(e, tf.sum(e, -1, true)); } },
    { group: `layer norm [${m},768] (tf.moments, as @duet/encoders)`, name: 'moments + rsqrt', run: () => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5)));
    } },
    { group: `layer norm [${m},768] (tf.moments, as @duet/encoders)`, name: 'mean + mean of squares', run: () => {
      const mean = tf.mean(x, -1, true);
      const c = tf.sub(x, mean);
      return tf.mul(c, tf.rsqrt(tf.add(tf.mean(tf.square(c), -1, true), 1e-5)));
    } },
    { group: `activation [${m},3072]`, name: 'quick_gelu x·σ(1.702x)', run: () => tf.mul(dy, tf.sigmoid(tf.mul(dy, 1.702))) },
    { group: `activation [${m},3072]`, name: 'gelu tanh (x·x·x form, as @duet/encoders)', run: () => tf.mul(tf.mul(dy, 0.5), tf.add(tf.tanh(tf.mul(tf.add(dy, tf.mul(tf.mul(tf.mul(dy, dy), dy), 0.044715)), Math.sqrt(2 / Math.PI))), 1)) },
    { group: `patch embedding [${img.shape}] -> [B,49,768]`, name: 'conv2d NHWC stride 32', run: () => tf.conv2d(tf.transpose(img, [0, 2, 3, 1]) as tf.Tensor4D, tf.transpose(patchW, [2, 3, 1, 0]) as tf.Tensor4D, 32, 'valid') },
    { group: `patch embedding [${img.shape}] -> [B,49,768]`, name: 'reshape/transpose + matMul', run: () => {
      const b = img.shape[0]!;
      const p = tf.reshape(tf.transpose(tf.reshape(img, [b, 3, 7, 32, 7, 32]), [0, 2, 4, 1, 3, 5]), [b * 49, 3 * 32 * 32]);
      return tf.matMul(p, tf.reshape(patchW, [768, -1]), false, true);
    } },
    { group: 'embedding grad: [M,512] rows into [49408,512]', name: 'unsortedSegmentSum (Duet CSR kernel)', run: () => tf.unsortedSegmentSum(rows, ids, 49408) },
    ...(tfjsSegmentSum ? [{ group: 'embedding grad: [M,512] rows into [49408,512]', name: 'unsortedSegmentSum (tfjs 4.22 kernel)', run: () => withKernel(tfjsSegmentSum, () => tf.unsortedSegmentSum(rows, ids, 49408)) }] : []),
    { group: 'dispatch overhead', name: '100 × add on [16]', run: () => { let y = small; for (let i = 0; i < 100; i++) y = tf.add(y, 1); return y; } },
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { backend: { type: 'string', default: 'webgpu' }, tokens: { type: 'string', default: '100' }, reps: { type: 'string', default: '5' }, out: { type: 'string' } } });
  const info = await initBackend({ backend: values.backend as BackendName });
  console.error(`backend ${info.backend}: ${info.device}`);
  const results: { group: string; name: string; ms: number }[] = [];
  for (const v of variants(Number(values.tokens))) {
    const ms = await timeIt(v.run, Number(values.reps));
    results.push({ group: v.group, name: v.name, ms });
    console.error(`${v.group} | ${v.name}: ${ms.toFixed(2)} ms`);
  }
  const md = [`### Kernel variants on ${info.backend} (${info.device}), M = ${values.tokens} tokens`, '', '| op | variant | ms (median) |', '|---|---|---:|',
    ...results.map((r) => `| ${r.group} | ${r.name} | ${r.ms.toFixed(2)} |`)].join('\n') + '\n';
  console.log(md);
  if (values.out) {
    writeFileSync(values.out + '.tmp', JSON.stringify({ backend: info.backend, device: info.device, tokens: Number(values.tokens), results }, null, 2));
    renameSync(values.out + '.tmp', values.out);
    writeFileSync(values.out.replace(/\.json$/, '') + '.md', md);
  }
}

if (process.argv[1]?.endsWith('kernels.ts')) await main();

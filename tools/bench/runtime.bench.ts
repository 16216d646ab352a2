// Matmul throughput (GFLOP/s, fp32) of every available TensorFlow.js backend at a few square sizes.
// `npm run bench runtime`; sizes via DUET_BENCH_SIZES (comma-separated, default 128,256,512,1024,2048),
// backends via DUET_BENCH_BACKENDS (default: every backend describeBackends() reports available).
// Work per cell is adaptive: at least 2 timed runs and ~1 s; a size is skipped when the previous size
// predicts more than 6 s per run (the cpu reference backend at 2048²).
import { describeBackends, initBackend, tf, type BackendName } from '@duet/runtime/node';
import { printTable, writeResult, type Row } from './report.ts';

const sizes = (process.env['DUET_BENCH_SIZES'] ?? '128,256,512,1024,2048').split(',').map(Number);
const wanted = process.env['DUET_BENCH_BACKENDS']?.split(',') as BackendName[] | undefined;

async function timeMatmul(n: number): Promise<{ msPerRun: number; runs: number }> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const run = async (k: number) => {
    const outs: tf.Tensor[] = [];
    const t0 = performance.now();
    for (let i = 0; i < k; i++) outs.push(tf.matMul(a, b));
    await outs[outs.length - 1]!.data(); // in-order queues: the last result implies all are done
    const ms = performance.now() - t0;
    tf.dispose(outs);
    return ms;
  };
  await run(1); // warm-up: shader compilation / weight packing
  const probe = await run(1);
  const runs = Math.max(2, Math.min(50, Math.ceil(1000 / Math.max(probe, 1e-3))));
  const ms = await run(runs);
  tf.dispose([a, b]);
  return { msPerRun: ms / runs, runs };
}

const available = (await describeBackends()).filter((d) => d.available && (!wanted || wanted.includes(d.backend)));
const rows: Row[] = [];
const results: Record<string, unknown>[] = [];
for (const d of available) {
  const info = await initBackend({ backend: d.backend });
  let lastMs = 0;
  let lastN = 0;
  for (const n of sizes) {
    const predicted = lastMs * (n / lastN) ** 3;
    if (lastN && predicted > 6000) {
      rows.push({ backend: d.backend, device: info.device, n, 'ms/run': null, 'GFLOP/s': null, runs: 0, note: `skipped (~${(predicted / 1000).toFixed(0)} s/run)` });
      continue;
    }
    const { msPerRun, runs } = await timeMatmul(n);
    const gflops = (2 * n ** 3) / (msPerRun * 1e6);
    rows.push({ backend: d.backend, device: info.device, n, 'ms/run': +msPerRun.toFixed(3), 'GFLOP/s': +gflops.toFixed(2), runs, note: '' });
    results.push({ backend: d.backend, device: info.device, isGpu: info.isGpu, n, msPerRun, gflops, runs });
    lastMs = msPerRun;
    lastN = n;
  }
}
printTable('matmul [n, n] x [n, n], fp32', rows);

// Conv2d forward + weight gradient (wasm's weight gradient is the composed kernel from @duet/runtime).
// cpu is left out: its Conv2DBackpropFilter loops through TensorBuffer.get and takes minutes at these sizes.
const convShapes = [
  { name: 'ResNet 3x3 s1', x: [8, 28, 28, 64], f: [3, 3, 64, 64], stride: 1, pad: 'same' as const },
  { name: 'ViT-B/32 patchify', x: [8, 224, 224, 3], f: [32, 32, 3, 768], stride: 32, pad: 'valid' as const },
];
const convRows: Row[] = [];
const convResults: Record<string, unknown>[] = [];
for (const d of available.filter((a) => a.backend !== 'cpu')) {
  const info = await initBackend({ backend: d.backend });
  for (const c of convShapes) {
    const x = tf.randomNormal(c.x) as tf.Tensor4D;
    const f = tf.randomNormal(c.f) as tf.Tensor4D;
    const step = tf.grad((ff: tf.Tensor) => tf.sum(tf.conv2d(x, ff as tf.Tensor4D, c.stride, c.pad)));
    const once = async () => {
      const t0 = performance.now();
      const g = step(f);
      await g.data();
      g.dispose();
      return performance.now() - t0;
    };
    await once(); // warm-up
    const probe = await once();
    const runs = Math.max(2, Math.min(20, Math.ceil(2000 / probe)));
    let total = 0;
    for (let i = 0; i < runs; i++) total += await once();
    const ms = total / runs;
    const out = tf.backend_util.computeConv2DInfo(c.x as never, c.f as never, c.stride, 1, c.pad);
    const flops = 2 * 2 * c.x[0]! * out.outHeight * out.outWidth * c.f[0]! * c.f[1]! * c.f[2]! * c.f[3]!; // forward + weight grad
    convRows.push({ backend: d.backend, device: info.device, conv: c.name, 'ms (fwd + dW)': +ms.toFixed(2), 'GFLOP/s': +(flops / (ms * 1e6)).toFixed(2), runs });
    convResults.push({ backend: d.backend, conv: c.name, x: c.x, f: c.f, stride: c.stride, ms, gflops: flops / (ms * 1e6), runs });
    tf.dispose([x, f]);
  }
}
printTable('conv2d forward + weight gradient, fp32', convRows);
writeResult('runtime', { sizes, results, conv: convResults });

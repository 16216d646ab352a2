// Encoder throughput: forward and forward+backward (CLIP / SigLIP loss over the dual encoder's outputs) in
// samples/s (one sample = one image + one caption at the preset's full context length), per preset and backend.
// `npm run bench encoders`. Env: DUET_BENCH_ENCODER_PRESETS (default tiny-siglip,tiny-clip,ViT-B-32),
// DUET_BENCH_ENCODER_BACKENDS (default wasm,cpu; cpu runs tiny presets only), DUET_BENCH_ITERS (default 3).
import { createRng, initBackend, registerFallbackKernels, tf } from '@duet/runtime';
import { DualEncoder, getPreset } from '@duet/encoders';
import { clipLoss, siglipLoss } from '@duet/losses';
import { printTable, writeResult, type Row } from './report.ts';

const presets = (process.env['DUET_BENCH_ENCODER_PRESETS'] ?? 'tiny-siglip,tiny-clip,ViT-B-32').split(',');
const backends = (process.env['DUET_BENCH_ENCODER_BACKENDS'] ?? 'wasm,cpu').split(',') as ('wasm' | 'cpu')[];
const iters = Number(process.env['DUET_BENCH_ITERS'] ?? 3);
// Big presets stay short (batch 2, 2 timed iterations) so the benchmark finishes in minutes on 2 shared cores.
const plan = (preset: string, backend: string) => (preset.startsWith('tiny') ? { batch: backend === 'cpu' ? 8 : 32, iters } : { batch: 2, iters: Math.min(iters, 2) });

function inputs(model: DualEncoder, b: number, seed: number) {
  const s = model.settings;
  const rng = createRng(seed);
  const ids = new Int32Array(b * s.text.maxPositions).map(() => rng.int(s.text.vocabSize));
  const px = new Float32Array(b * s.channels * s.imageSize * s.imageSize).map(() => rng.normal(0, 1));
  return { inputIds: tf.tensor2d(ids, [b, s.text.maxPositions], 'int32'), pixelValues: tf.tensor4d(px, [b, s.channels, s.imageSize, s.imageSize]) };
}

function lossOf(model: DualEncoder, x: ReturnType<typeof inputs>): tf.Scalar {
  const o = model.forward(x, { training: true, checkIds: false });
  return model.lossFamily === 'siglip'
    ? siglipLoss({ imageEmbeds: o.imageEmbeds, textEmbeds: o.textEmbeds, logitScale: model.logitScale, logitBias: model.logitBias! })
    : clipLoss({ imageEmbeds: o.imageEmbeds, textEmbeds: o.textEmbeds, logitScale: model.logitScale });
}

async function time(n: number, f: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  tf.dispose(f()); // warm-up (kernel compilation, allocations)
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const out = f();
    await (Array.isArray(out) ? out[0]! : out).data();
    tf.dispose(out);
  }
  return (performance.now() - t0) / 1000;
}

const rows: Row[] = [];
for (const backend of backends) {
  try {
    await initBackend({ backend });
  } catch {
    await tf.setBackend(backend);
  }
  registerFallbackKernels(backend);
  for (const preset of presets) {
    if (backend === 'cpu' && !preset.startsWith('tiny')) continue;
    const { batch, iters: n } = plan(preset, backend);
    process.stdout.write(`${preset} on ${backend} (batch ${batch}, ${n} iterations) ... `);
    const model = DualEncoder.create(getPreset(preset), { seed: 0 });
    const x = inputs(model, batch, 1);
    const fwd = await time(n, () => {
      const o = model.forward(x, { checkIds: false });
      return [o.logitsPerImage, o.logitsPerText, o.imageEmbeds, o.textEmbeds];
    });
    const vars = model.trainableVariables();
    const bwd = await time(n, () => tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => lossOf(model, x), vars);
      return [value, ...Object.values(grads)];
    }));
    const row: Row = { preset, backend, params_M: +(model.parameterCount() / 1e6).toFixed(2), batch, iterations: n, forward_samples_per_s: (batch * n) / fwd, fwd_bwd_samples_per_s: (batch * n) / bwd };
    console.log(`forward ${(row.forward_samples_per_s as number).toFixed(2)}/s, forward+backward ${(row.fwd_bwd_samples_per_s as number).toFixed(2)}/s`);
    rows.push(row);
    tf.dispose([x.inputIds, x.pixelValues]);
    model.dispose();
  }
}
printTable('Encoder throughput (samples/s; one sample = image + caption at full context length; single thread)', rows);
writeResult('encoders', { rows, note: 'forward: DualEncoder.forward in eval mode; forward+backward: train mode + CLIP/SigLIP loss, gradients for all trainable variables' });

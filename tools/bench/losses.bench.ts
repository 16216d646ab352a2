// Peak tensor memory and time of the contrastive losses (forward + backward) on the wasm backend, and the
// per-device communication of the distributed forms. `npm run bench losses`
// Env: DUET_BENCH_SIZES (default 1024,4096,16384), DUET_BENCH_CHUNK (default 512), DUET_BENCH_DIM (default 512).
import { initBackend, tf } from '@duet/runtime';
import {
  DEFAULT_MEMORY_LIMIT_BYTES, LossMemoryError, clipCommBytes, clipLoss, createSimulatedGroups, distributedClipLoss,
  distributedSiglipLoss, estimateLossPeakBytes, siglipCommBytes, siglipLoss, type ContrastiveInputs, type LossForm,
} from '@duet/losses';
import { printTable, writeResult, type Row } from './report.ts';

const MiB = 2 ** 20;
const sizes = (process.env['DUET_BENCH_SIZES'] ?? '1024,4096,16384').split(',').map(Number);
const chunk = Number(process.env['DUET_BENCH_CHUNK'] ?? 512);
const dim = Number(process.env['DUET_BENCH_DIM'] ?? 512);

/** Seeded, L2-normalised embeddings (image/text pairs correlated like a half-trained model). */
function embeds(n: number, d: number, seed: number): { img: tf.Tensor2D; txt: tf.Tensor2D } {
  return tf.tidy(() => {
    const base = tf.randomNormal([n, d], 0, 1, 'float32', seed);
    const norm = (x: tf.Tensor) => tf.div(x, tf.norm(x, 2, 1, true)) as tf.Tensor2D;
    return { img: norm(tf.add(base, tf.randomNormal([n, d], 0, 1, 'float32', seed + 1))), txt: norm(tf.add(base, tf.randomNormal([n, d], 0, 1, 'float32', seed + 2))) };
  });
}

type Form = { name: string; family: 'clip' | 'siglip'; guard: LossForm; chunkSize?: number };
const FORMS: Form[] = [
  { name: 'SigLIP plain', family: 'siglip', guard: 'siglip-plain' },
  { name: `SigLIP chunked (${chunk})`, family: 'siglip', guard: 'siglip-chunked', chunkSize: chunk },
  { name: 'CLIP plain', family: 'clip', guard: 'clip-plain' },
  { name: `CLIP chunked (${chunk})`, family: 'clip', guard: 'clip-chunked', chunkSize: chunk },
];

/** Forward + backward w.r.t. embeds and logit parameters; returns ms and the peak of live tensor bytes above the inputs. */
async function measure(form: Form, x: ContrastiveInputs): Promise<{ ms: number; peakBytes: number; loss: number }> {
  const base = tf.memory().numBytes;
  const xs = [x.imageEmbeds, x.textEmbeds, x.logitScale as tf.Tensor, ...(form.family === 'siglip' ? [x.logitBias as tf.Tensor] : [])];
  const f = (...a: tf.Tensor[]) => {
    const inputs = { imageEmbeds: a[0]!, textEmbeds: a[1]!, logitScale: a[2]!, logitBias: a[3] };
    const opts = { chunkSize: form.chunkSize, checkFinite: false };
    return form.family === 'clip' ? clipLoss(inputs, opts) : siglipLoss(inputs, opts);
  };
  let loss = NaN;
  const run = () => {
    const { value, grads } = tf.valueAndGrads(f)(xs);
    loss = value.dataSync()[0]!;
    grads.forEach((g) => g.dataSync());
    tf.dispose([value, ...grads]);
  };
  // Memory under tf.profile (kernel bookkeeping); time outside it, best of `reps` runs (the machine is shared).
  const info = await tf.profile(run);
  let ms = Infinity;
  const reps = x.imageEmbeds.shape[0]! <= 1024 ? 3 : 1;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    run();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, peakBytes: info.peakBytes - base, loss };
}

async function lossTable(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const n of sizes) {
    const { img, txt } = embeds(n, dim, 7);
    const x: ContrastiveInputs = { imageEmbeds: img, textEmbeds: txt, logitScale: tf.scalar(Math.log(10)), logitBias: tf.scalar(-10) };
    for (const form of FORMS) {
      const est = estimateLossPeakBytes(form.guard, n, dim, form.chunkSize);
      process.stdout.write(`N=${n} ${form.name} (estimated ${(est / MiB).toFixed(0)} MiB) … `);
      try {
        // The guard (default limit DEFAULT_MEMORY_LIMIT_BYTES) refuses before anything is allocated.
        const r = await measure(form, x);
        console.log(`${(r.ms / 1000).toFixed(1)} s, peak ${(r.peakBytes / MiB).toFixed(1)} MiB`);
        rows.push({ N: n, form: form.name, status: 'ok', seconds: +(r.ms / 1000).toFixed(2), peakMiB: +(r.peakBytes / MiB).toFixed(1), estimateMiB: +(est / MiB).toFixed(0), loss: +r.loss.toFixed(6) });
      } catch (e) {
        const refused = e instanceof LossMemoryError;
        console.log(refused ? 'refused by the memory guard' : `failed: ${(e as Error).message}`);
        rows.push({ N: n, form: form.name, status: refused ? `refused: est. ${(est / 2 ** 30).toFixed(1)} GiB > ${(DEFAULT_MEMORY_LIMIT_BYTES / 2 ** 30).toFixed(0)} GiB (would not fit wasm's 4 GiB heap)` : `error: ${(e as Error).message}`, seconds: null, peakMiB: null, estimateMiB: +(est / MiB).toFixed(0), loss: null });
      }
    }
    tf.dispose([img, txt, x.logitScale as tf.Tensor, x.logitBias as tf.Tensor]);
  }
  return rows;
}

function targets(rows: Row[]): Row[] {
  const out: Row[] = [];
  const get = (n: number, form: string) => rows.find((r) => r['N'] === n && r['form'] === form && r['status'] === 'ok');
  const chunked = FORMS[1]!.name;
  const first = get(sizes[0]!, chunked);
  for (const n of sizes) {
    const c = get(n, chunked);
    const p = get(n, 'SigLIP plain');
    if (c && first) {
      const ratio = (c['peakMiB'] as number) / (((first['peakMiB'] as number) * n) / sizes[0]!);
      out.push({ target: `chunked SigLIP peak at N=${n} ≤ 1.2× linear extrapolation from N=${sizes[0]}`, value: +ratio.toFixed(3), met: ratio <= 1.2 });
    }
    if (c && p) {
      const ratio = (c['seconds'] as number) / (p['seconds'] as number);
      out.push({ target: `chunked SigLIP time ≤ 1.3× plain at N=${n}`, value: +ratio.toFixed(3), met: ratio <= 1.3 });
    }
  }
  return out;
}

/** Counted bytes from the simulated group at small world sizes, the closed form beyond. */
async function commTable(): Promise<Row[]> {
  const b = 256;
  const d = 512;
  const rows: Row[] = [];
  for (let w = 4; w <= 4096; w *= 2) {
    let clip = clipCommBytes({ worldSize: w, localBatch: b, dim: d });
    let sig = siglipCommBytes({ worldSize: w, localBatch: b, dim: d });
    let source = 'formula';
    if (w <= 16) {
      const counted = async (run: (x: ContrastiveInputs, g: ReturnType<typeof createSimulatedGroups>[number]) => Promise<{ bytesCommunicated: number }>) => {
        const groups = createSimulatedGroups(w);
        const res = await Promise.all(
          groups.map((g) => {
            const { img, txt } = embeds(b, d, 100 + g.rank);
            return run({ imageEmbeds: img, textEmbeds: txt, logitScale: tf.scalar(Math.log(10)), logitBias: tf.scalar(-10) }, g);
          }),
        );
        return Math.max(...res.map((r) => r.bytesCommunicated));
      };
      const cClip = await counted((x, g) => distributedClipLoss(x, g, { checkFinite: false }));
      const cSig = await counted((x, g) => distributedSiglipLoss(x, g, { checkFinite: false }));
      const cBidir = await counted((x, g) => distributedSiglipLoss(x, g, { checkFinite: false, bidirectional: true }));
      if (cClip > clip || cSig > sig || cBidir > sig) throw new Error(`counted bytes exceed the formula at W=${w}: ${cClip} / ${clip}, ${cSig} / ${cBidir} / ${sig}`);
      clip = cClip;
      sig = cSig;
      source = 'counted (simulated)';
      tf.disposeVariables();
    }
    rows.push({
      worldSize: w, globalBatch: w * b, source,
      clipAllGatherMiB: +(clip / MiB).toFixed(2), siglipRingMiB: +(sig / MiB).toFixed(2), ratio: +(clip / sig).toFixed(2),
      clipGatheredFeaturesMiB: +((2 * w * b * d * 4) / MiB).toFixed(1), siglipHeldFeaturesMiB: +((3 * b * d * 4) / MiB).toFixed(2),
    });
  }
  return rows;
}

const info = await initBackend({ backend: 'wasm' });
console.log(`backend ${info.backend} (${info.device}), D=${dim}, chunk=${chunk}, memory limit ${DEFAULT_MEMORY_LIMIT_BYTES / 2 ** 30} GiB`);
const comm = await commTable();
printTable('Per-device bytes per step (b = 256 per device, d = 512, float32; both directions incl. gradients)', comm);
const loss = await lossTable();
printTable(`Loss forward+backward, wasm, D=${dim} (peak = max live tensor bytes above the inputs, tf.profile)`, loss);
const tgt = targets(loss);
printTable('Targets', tgt);
writeResult('losses', { backend: info, dim, chunk, loss, targets: tgt, comm });

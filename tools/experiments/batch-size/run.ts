// Experiment: is SigLIP better than CLIP at small batch sizes? Trains tiny-siglip and tiny-clip on Fashion-MNIST at
// batch sizes 8…128 with an equal number of samples seen, then reports zero-shot top-1 and retrieval R@1 (table,
// JSON under bench-results/, SVG+PNG plot).
//
//   npx tsx --conditions=@duet/source tools/experiments/batch-size/run.ts [--samples 60000] [--sizes 8,16,32,64,128]
//        [--families siglip,clip] [--eval-limit 10000] [--lr 2e-3] [--out runs/batch-size]
//
// Each run uses the same recipe (fashion-mnist-<family>), the same seed and the same schedule shape (warmup = 5% of
// its steps, cosine); only the batch size (and so the number of steps) changes.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { train, resolveConfig, getRecipe, svgToPng, writeFileAtomic } from '@duet/training';
import { printTable, writeResult, type Row } from '../../bench/report.ts';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '60000' },
    sizes: { type: 'string', default: '8,16,32,64,128' },
    families: { type: 'string', default: 'siglip,clip' },
    'eval-limit': { type: 'string', default: '10000' },
    lr: { type: 'string' },
    out: { type: 'string', default: 'runs/batch-size' },
    backend: { type: 'string', default: 'wasm' },
  },
});
const samples = Number(values.samples);
const sizes = values.sizes!.split(',').map(Number);
const families = values.families!.split(',') as ('siglip' | 'clip')[];
const outRoot = resolve(values.out!);
mkdirSync(outRoot, { recursive: true });

const rows: Row[] = [];
for (const family of families) {
  for (const bs of sizes) {
    const steps = Math.max(1, Math.round(samples / bs));
    const config = resolveConfig(getRecipe(`fashion-mnist-${family}`), {
      batchSize: bs, steps, warmup: Math.round(steps * 0.05), evalLimit: Number(values['eval-limit']), evalEvery: 0,
      out: join(outRoot, `${family}-bs${bs}`), backend: values.backend as 'wasm', ...(values.lr ? { lr: Number(values.lr) } : {}),
    });
    process.stderr.write(`\n== ${family} batch ${bs}: ${steps} steps, ${steps * bs} samples\n`);
    const r = await train(config, { onLog: (m) => process.stderr.write(m + '\n') });
    rows.push({
      family, batch: bs, steps, samples: r.samplesSeen, zeroshot_top1: r.eval?.zeroShot?.top1 ?? null,
      i2t_r1: r.eval?.retrieval?.imageToText.r1 ?? null, t2i_r1: r.eval?.retrieval?.textToImage.r1 ?? null,
      seconds: +r.seconds.toFixed(1), samples_per_s: +r.samplesPerSecond.toFixed(1), last_loss: r.lastLoss,
    });
    printTable('batch-size experiment (so far)', rows);
  }
}
printTable(`SigLIP vs CLIP by batch size, ${samples} samples seen each`, rows);
writeResult('batch-size-experiment', { samples, rows });
const svg = plot(rows);
writeFileAtomic(join(outRoot, 'batch-size.svg'), svg);
writeFileAtomic(join(outRoot, 'batch-size.png'), await svgToPng(svg));
process.stderr.write(`plot: ${join(outRoot, 'batch-size.png')}\n`);

function plot(data: Row[]): string {
  const W = 640, H = 360, L = 60, R = 20, T = 40, B = 50;
  const xs = sizes.map((s) => Math.log2(s));
  const sx = (b: number) => L + ((Math.log2(b) - Math.min(...xs)) / Math.max(1e-9, Math.max(...xs) - Math.min(...xs))) * (W - L - R);
  const sy = (v: number) => T + (1 - v) * (H - T - B);
  const colors: Record<string, string> = { siglip: '#1f77b4', clip: '#d62728' };
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>`;
  s += `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">zero-shot top-1 (solid) and i→t R@1 (dashed) vs batch size, ${samples} samples</text>`;
  for (let k = 0; k <= 5; k++) s += `<line x1="${L}" x2="${W - R}" y1="${sy(k / 5)}" y2="${sy(k / 5)}" stroke="#eee"/><text x="${L - 6}" y="${sy(k / 5) + 4}" text-anchor="end">${(k * 20).toFixed(0)}%</text>`;
  for (const b of sizes) s += `<text x="${sx(b)}" y="${H - B + 18}" text-anchor="middle">${b}</text>`;
  s += `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">batch size</text>`;
  families.forEach((f, i) => {
    for (const [key, dash] of [['zeroshot_top1', ''], ['i2t_r1', '5,4']] as const) {
      const pts = data.filter((r) => r['family'] === f && typeof r[key] === 'number').map((r) => [sx(r['batch'] as number), sy(r[key] as number)]);
      if (!pts.length) continue;
      s += `<path d="${pts.map((p, j) => `${j ? 'L' : 'M'}${p[0]!.toFixed(1)},${p[1]!.toFixed(1)}`).join('')}" fill="none" stroke="${colors[f]}" stroke-width="2" stroke-dasharray="${dash}"/>`;
      s += pts.map((p) => `<circle cx="${p[0]}" cy="${p[1]}" r="3" fill="${colors[f]}"/>`).join('');
    }
    s += `<text x="${W - R - 4}" y="${T + 16 + 16 * i}" text-anchor="end" fill="${colors[f]}">${f}</text>`;
  });
  return s + '</svg>';
}

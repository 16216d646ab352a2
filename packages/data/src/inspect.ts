// `duet data inspect`: one pass over a dataset's records (no decoding) for counts, captions and labels, plus
// header-only probes of up to `maxImages` images for size statistics. Problems are counted and listed.
import { probeImageSource } from './decode.js';
import { openDataset, type OpenDatasetOptions } from './open-dataset.js';
import { SkipLog, type SkipReport } from './skip-log.js';
import type { Dataset } from './types.js';

export interface Stats { min: number; max: number; mean: number }
export interface InspectReport {
  name: string;
  shards: number;
  records: number;
  skipped: SkipReport;
  captions: { samples: string[]; words: Stats; chars: Stats; distinct: number };
  images: { probed: number; width: Stats; height: Stats; formats: Record<string, number>; channels: Record<string, number> };
  labels?: Record<string, number>;
}
export interface InspectProgress { shard: number; shards: number; records: number }
export interface InspectOptions extends OpenDatasetOptions {
  /** Images probed for size statistics (default 1000; header reads only). */
  maxImages?: number;
  /** Captions listed in the report (default 5). */
  sampleCaptions?: number;
  onProgress?: (p: InspectProgress) => void;
}

class Acc {
  n = 0; sum = 0; min = Infinity; max = -Infinity;
  add(v: number) { this.n++; this.sum += v; if (v < this.min) this.min = v; if (v > this.max) this.max = v; }
  stats(): Stats { return this.n ? { min: this.min, max: this.max, mean: this.sum / this.n } : { min: 0, max: 0, mean: 0 }; }
}

export async function inspectDataset(source: string | Dataset, opts: InspectOptions = {}): Promise<InspectReport> {
  const ds = openDataset(source, opts);
  const skips = new SkipLog();
  const ctx = { epoch: 0, skips };
  const shards = await ds.shardCount();
  const maxImages = opts.maxImages ?? 1000;
  const nCaptions = opts.sampleCaptions ?? 5;
  const words = new Acc(); const chars = new Acc(); const w = new Acc(); const h = new Acc();
  const formats: Record<string, number> = {}; const channels: Record<string, number> = {};
  const labels: Record<string, number> = {};
  const samples: string[] = [];
  const distinct = new Set<string>();
  let records = 0;
  const every = Math.max(1, Math.floor(shards / 100));
  for (let i = 0; i < shards; i++) {
    for await (const r of ds.readShard(i, 0, ctx)) {
      let ok = true;
      if (w.n < maxImages) {
        try {
          const m = await probeImageSource(r.image);
          w.add(m.width); h.add(m.height);
          formats[m.format] = (formats[m.format] ?? 0) + 1;
          channels[String(m.channels)] = (channels[String(m.channels)] ?? 0) + 1;
        } catch (e) {
          ok = false;
          skips.add({ source: r.source, key: r.key, reason: e instanceof Error ? e.message : String(e) });
        }
      }
      if (!ok) continue;
      records++;
      words.add(r.caption.split(/\s+/).filter(Boolean).length);
      chars.add(r.caption.length);
      if (distinct.size < 1_000_000) distinct.add(r.caption);
      if (samples.length < nCaptions) samples.push(r.caption);
      if (r.label !== undefined) labels[String(r.label)] = (labels[String(r.label)] ?? 0) + 1;
    }
    if (opts.onProgress && (i % every === 0 || i === shards - 1)) opts.onProgress({ shard: i + 1, shards, records });
  }
  const names = ds.classNames;
  return {
    name: ds.name, shards, records, skipped: skips.report(),
    captions: { samples, words: words.stats(), chars: chars.stats(), distinct: distinct.size },
    images: { probed: w.n, width: w.stats(), height: h.stats(), formats, channels },
    ...(Object.keys(labels).length ? { labels: names ? Object.fromEntries(Object.entries(labels).map(([k, v]) => [`${k} ${names[Number(k)] ?? ''}`.trim(), v])) : labels } : {}),
  };
}

/** Human-readable summary of an inspect report (what `duet data inspect` prints). */
export function formatInspectReport(r: InspectReport): string {
  const f = (s: Stats, d = 0) => `min ${s.min.toFixed(d)}, mean ${s.mean.toFixed(1)}, max ${s.max.toFixed(d)}`;
  const lines = [
    `dataset   ${r.name}`,
    `shards    ${r.shards}`,
    `records   ${r.records} usable, ${r.skipped.total} skipped`,
    `captions  ${r.captions.distinct} distinct; words ${f(r.captions.words)}; chars ${f(r.captions.chars)}`,
    ...r.captions.samples.map((c) => `          "${c.length > 100 ? `${c.slice(0, 97)}...` : c}"`),
    `images    ${r.images.probed} probed; width ${f(r.images.width)}; height ${f(r.images.height)}`,
    `          formats ${Object.entries(r.images.formats).map(([k, v]) => `${k} ${v}`).join(', ') || '—'}; channels ${Object.entries(r.images.channels).map(([k, v]) => `${k}: ${v}`).join(', ') || '—'}`,
  ];
  if (r.labels) lines.push(`labels    ${Object.entries(r.labels).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  if (r.skipped.total) {
    lines.push(`skipped   ${Object.entries(r.skipped.byReason).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    for (const e of r.skipped.examples.slice(0, 10)) lines.push(`          ${e.source}: ${e.reason}`);
    if (r.skipped.total > 10) lines.push(`          ... ${r.skipped.total - 10} more`);
  }
  return lines.join('\n');
}

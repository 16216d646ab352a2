// Decoded samples in dataset order (no shuffling, no preprocessing): for evaluation sets, inspection and tests.
import { decodeImageSource } from './decode.js';
import { SkipLog } from './skip-log.js';
import type { Dataset, Sample } from './types.js';

/** Yields decoded `Sample`s in shard order; undecodable records go to `skips` (never thrown). */
export async function* readSamples(ds: Dataset, opts: { epoch?: number; skips?: SkipLog; limit?: number } = {}): AsyncGenerator<Sample> {
  const skips = opts.skips ?? new SkipLog();
  const ctx = { epoch: opts.epoch ?? 0, skips };
  const n = await ds.shardCount();
  let count = 0;
  for (let i = 0; i < n; i++) {
    for await (const r of ds.readShard(i, 0, ctx)) {
      if (count >= (opts.limit ?? Infinity)) return;
      try {
        const image = await decodeImageSource(r.image);
        count++;
        yield { key: r.key, image, caption: r.caption, ...(r.label !== undefined ? { label: r.label } : {}), ...(r.meta ? { meta: r.meta } : {}) };
      } catch (e) {
        skips.add({ source: r.source, key: r.key, reason: e instanceof Error ? e.message : String(e) });
      }
    }
  }
}

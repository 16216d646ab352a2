// `duet data`: inspect a dataset (counts, caption/image statistics, labels, skipped records) or convert it to
// WebDataset shards — both from @duet/data.
import { Command } from 'commander';
import { inspectDataset, formatInspectReport, convertToWebDataset } from '@duet/data';
import { int } from './options.js';

const SPEC = "fashion-mnist[:train|test], shapes[:seed=..,size=..], a .csv/.tsv/.jsonl table, WebDataset .tar shards or an image folder";

export function dataCommand(): Command {
  const cmd = new Command('data').description('Inspect or convert image–text data (Fashion-MNIST, shapes, CSV/JSONL, WebDataset, image folders).');
  cmd
    .command('inspect')
    .description('Report record counts, caption lengths, image sizes/formats, labels, sample captions and unreadable records.')
    .argument('<spec>', SPEC)
    .option('--max-images <n>', 'images probed for size statistics', int('--max-images'), 1000)
    .option('-n, --captions <n>', 'sample captions to list', int('--captions', 0), 5)
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
Examples:
  $ duet data inspect fashion-mnist:test
  $ duet data inspect pairs.tsv -n 10
  $ duet data inspect 'shards/data-{000000..000009}.tar'`)
    .action(async (spec: string, o: { maxImages: number; captions: number; json?: boolean }) => {
      const r = await inspectDataset(spec, { maxImages: o.maxImages, sampleCaptions: o.captions });
      process.stdout.write((o.json ? JSON.stringify(r, null, 2) : formatInspectReport(r)) + '\n');
    });
  cmd
    .command('convert')
    .description('Convert a dataset to WebDataset tar shards (image + .txt caption per sample).')
    .argument('<spec>', SPEC)
    .requiredOption('--out <dir>', 'output directory for the shards')
    .option('--shard-size <n>', 'samples per shard', int('--shard-size'), 1000)
    .option('--prefix <name>', 'shard file prefix', 'data')
    .option('--gzip', 'write .tar.gz shards')
    .addHelpText('after', `
Examples:
  $ duet data convert fashion-mnist:train --out shards/fmnist --shard-size 5000
  $ duet data convert pairs.tsv --out shards/pairs --gzip`)
    .action(async (spec: string, o: { out: string; shardSize: number; prefix: string; gzip?: boolean }) => {
      const r = await convertToWebDataset(spec, o.out, {
        shardSize: o.shardSize, prefix: o.prefix, gzip: Boolean(o.gzip),
        onProgress: (p) => process.stderr.write(`\r${p.records} records, ${p.shards} shards, ${p.skipped} skipped`),
      });
      process.stderr.write('\n');
      process.stdout.write(JSON.stringify({ pattern: r.pattern, shards: r.shards.length, records: r.records, skipped: r.skipped }, null, 2) + '\n');
    });
  return cmd;
}

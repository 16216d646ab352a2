// `duet eval`: zero-shot and retrieval metrics of a model folder on a built-in or CSV/WebDataset eval set.
import { Command, Option } from 'commander';
import { initBackend } from '@duet/runtime';
import { evaluate, openModel, writeFileAtomic } from '@duet/training';
import { int, BACKENDS } from './options.js';

export function evalCommand(): Command {
  return new Command('eval')
    .description('Evaluate a model folder: zero-shot top-1/top-5 (Fashion-MNIST) and retrieval R@1/5/10, mean/median rank.')
    .requiredOption('--model <dir>', 'model folder (or checkpoint folder)')
    .option('--data <spec>', 'fashion-mnist (test split), shapes, a .csv file or a WebDataset .tar pattern', 'fashion-mnist')
    .option('--limit <n>', 'evaluate on at most n samples (0 = all)', int('--limit', 0), 0)
    .option('--retrieval-limit <n>', 'retrieval on at most n pairs', int('--retrieval-limit'), 1000)
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices([...BACKENDS]).default('wasm'))
    .option('--out <file>', 'write the summary JSON here')
    .addHelpText('after', `
Examples:
  $ duet eval --model runs/tiny-siglip/model
  $ duet eval --model runs/tiny-siglip/model --data pairs.csv --out eval.json`)
    .action(async (o: { model: string; data: string; limit: number; retrievalLimit: number; backend: string; out?: string }) => {
      await initBackend({ backend: o.backend as never });
      const s = await openModel(o.model);
      const summary = await evaluate(s.model, s, { evalData: o.data, evalLimit: o.limit, seed: 0 }, {
        retrievalLimit: o.retrievalLimit, log: (m) => process.stderr.write(m + '\n'),
      });
      const json = JSON.stringify(summary, null, 2);
      if (o.out) writeFileAtomic(o.out, json);
      process.stdout.write(json + '\n');
    });
}

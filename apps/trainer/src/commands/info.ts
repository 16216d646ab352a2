// `duet info MODEL`: config summary, parameter counts per tower, and a format check of the folder.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { loadModelFolder, verifyFolder } from '@duet/model-format/node';
import { lossFamily } from '@duet/model-format';

export function infoCommand(): Command {
  return new Command('info')
    .description('Show a model folder: architecture, loss family, parameter counts, files, and a format check.')
    .argument('<model>', 'model folder')
    .option('--json', 'print as JSON')
    .addHelpText('after', `
Examples:
  $ duet info runs/tiny-siglip/model
  $ duet info ../shared/fixtures/hf-reference/tiny-clip --json`)
    .action(async (dir: string, o: { json?: boolean }) => {
      if (!existsSync(dir)) throw new Error(`${dir}: no such directory`);
      const folder = await loadModelFolder(dir);
      const c = folder.config as unknown as { model_type: string; text_config: Record<string, number>; vision_config: Record<string, number>; projection_dim?: number };
      const counts: Record<string, number> = {};
      let total = 0;
      for (const name of folder.tensorNames()) {
        const info = folder.tensorInfo(name)!;
        const n = info.shape.reduce((a: number, b: number) => a * b, 1);
        const group = name.split('.')[0]!;
        counts[group] = (counts[group] ?? 0) + n;
        total += n;
      }
      const files = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json', 'duet.json',
        'onnx/text_model.onnx', 'onnx/vision_model.onnx'].map((f) => ({ file: f, present: folder.hasFile(f) }));
      // Format check: config/tensor agreement and duet.json hashes (@duet/model-format's verifyFolder).
      const verify = await verifyFolder(dir);
      const problems = [...verify.errors];
      const warnings = [...verify.warnings, ...(folder.hasFile('tokenizer.json') ? [] : ['no tokenizer.json: text must be given as input_ids'])];
      const summary = {
        path: dir, modelType: c.model_type, lossFamily: lossFamily(folder.config),
        text: pick(c.text_config, ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'max_position_embeddings', 'vocab_size']),
        vision: pick(c.vision_config, ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'image_size', 'patch_size']),
        projectionDim: c.projection_dim, parameters: { total, ...counts }, files, formatOk: problems.length === 0, problems, warnings,
      };
      if (o.json) { process.stdout.write(JSON.stringify(summary, null, 2) + '\n'); return; }
      const out = [
        `${dir}: ${summary.modelType} (loss family ${summary.lossFamily})`,
        `  text:   ${JSON.stringify(summary.text)}`,
        `  vision: ${JSON.stringify(summary.vision)}`,
        `  parameters: ${total.toLocaleString('en')} (${Object.entries(counts).map(([k, v]) => `${k} ${v.toLocaleString('en')}`).join(', ')})`,
        `  files: ${files.map((f) => `${f.file} ${f.present ? '✓' : '-'}`).join('  ')}`,
        `  format: ${problems.length ? 'PROBLEMS: ' + problems.join('; ') : 'ok'}`,
        ...warnings.map((w) => `  warning: ${w}`),
      ];
      process.stdout.write(out.join('\n') + '\n');
      if (problems.length) process.exitCode = 1;
    });
}

function pick(o: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o && o[k] !== undefined).map((k) => [k, o![k]]));
}

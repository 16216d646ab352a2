// `duet export`: a clean model folder from a run/checkpoint (no trainer_state), optionally with ONNX encoders.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModelFolder, saveModelFolder } from '@duet/model-format/node';
import { resolveCheckpoint } from '@duet/training';

export function exportCommand(): Command {
  return new Command('export')
    .description('Export a model folder (from a model folder, a run directory or a checkpoint) for serving; --onnx adds ONNX encoders.')
    .requiredOption('--model <dir>', 'model folder, run directory (uses model/ or the latest checkpoint) or checkpoint folder')
    .requiredOption('--out <dir>', 'destination model folder')
    .option('--onnx', 'also write onnx/text_model.onnx and onnx/vision_model.onnx')
    .option('--fp16', 'with --onnx: also write fp16 variants')
    .option('--quantized', 'with --onnx: also write int8-weight variants')
    .addHelpText('after', `
Examples:
  $ duet export --model runs/tiny-siglip --out models/tiny-siglip
  $ duet export --model runs/tiny-siglip/checkpoints/step-00000400 --out models/s400 --onnx`)
    .action(async (o: { model: string; out: string; onnx?: boolean; fp16?: boolean; quantized?: boolean }) => {
      if (!existsSync(o.model)) throw new Error(`--model ${o.model}: no such directory`);
      const src = existsSync(join(o.model, 'config.json')) ? o.model : existsSync(join(o.model, 'model', 'config.json')) ? join(o.model, 'model') : resolveCheckpoint(o.model);
      let exportOnnx: ((dir: string, opts: object) => Promise<unknown>) | undefined;
      if (o.onnx) {
        const inf = (await import('@duet/inference/node')) as Record<string, unknown>;
        if (typeof inf['exportOnnx'] !== 'function') throw new Error('--onnx: @duet/inference has no exportOnnx in this build yet');
        exportOnnx = inf['exportOnnx'] as typeof exportOnnx;
      }
      const folder = await loadModelFolder(src);
      await saveModelFolder(o.out, {
        config: folder.config, tensors: await folder.getAllTensors(), tokenizerJson: folder.tokenizerJson, tokenizerConfig: folder.tokenizerConfig,
        preprocessorConfig: folder.preprocessorConfig, duet: folder.duet,
      } as never);
      if (exportOnnx) await exportOnnx(o.out, { fp16: o.fp16, quantized: o.quantized });
      process.stderr.write(`exported ${src} -> ${o.out}${o.onnx ? ' (+ onnx)' : ''}\n`);
    });
}

// `duet export --onnx`: writes onnx/{text,vision}_model[_fp16|_quantized].onnx built from the folder's weights, the
// golden inputs, and duet.json (sha256 of every file + golden expected embeds from the fp32 export).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fromFloat32, writeSafetensors } from '@duet/model-format';
import { loadModelFolder, updateDuetManifest, writeFileAtomic } from '@duet/model-format/node';
import type { WeightFormat } from '../export/graph-builder.js';
import { buildTextModel } from '../export/text-model.js';
import { buildVisionModel } from '../export/vision-model.js';
import { Weights } from '../export/weights.js';
import { GOLDEN_INPUTS_FILE, makeGoldenInputs, runGolden, type GoldenRecord } from '../runtime/golden.js';
import { onnxFile, type OnnxDtype } from '../runtime/ort-types.js';
import { ortNodeModule } from './ort-node.js';

export interface ExportOnnxOptions {
  /** Also write the fp16-weight variant (`_fp16`). */
  fp16?: boolean;
  /** Also write the int8-weight variant (`_quantized`). */
  quantized?: boolean;
  onProgress?: (message: string) => void;
}

export interface ExportOnnxResult {
  files: string[];
  golden: GoldenRecord;
}

const FORMAT: Record<OnnxDtype, WeightFormat> = { fp32: 'fp32', fp16: 'fp16', q8: 'int8' };

export async function exportOnnx(folderDir: string, opts: ExportOnnxOptions = {}): Promise<ExportOnnxResult> {
  const log = opts.onProgress ?? ((): void => undefined);
  const folder = await loadModelFolder(folderDir);
  const weights = new Weights(await folder.getAllTensors());
  const dtypes: OnnxDtype[] = ['fp32', ...(opts.fp16 ? ['fp16' as const] : []), ...(opts.quantized ? ['q8' as const] : [])];
  const files: string[] = [];
  await mkdir(join(folderDir, 'onnx'), { recursive: true });
  for (const dtype of dtypes) {
    for (const tower of ['text', 'vision'] as const) {
      const rel = onnxFile(tower, dtype);
      log(`building ${rel}`);
      const bytes = tower === 'text' ? buildTextModel(folder.config, weights, FORMAT[dtype]) : buildVisionModel(folder.config, weights, FORMAT[dtype]);
      await writeFileAtomic(join(folderDir, rel), bytes);
      files.push(rel);
    }
  }
  log('recording golden inputs and embeds');
  const inputs = makeGoldenInputs(folder.config);
  await writeFileAtomic(join(folderDir, GOLDEN_INPUTS_FILE), writeSafetensors(new Map([['pixel_values', fromFloat32(inputs.pixelValues, inputs.pixelShape)]])));
  const reloaded = await loadModelFolder(folderDir);
  const out = await runGolden(ortNodeModule, reloaded, inputs, 'fp32');
  const golden: GoldenRecord = {
    input_ids: inputs.inputIds,
    attention_mask: inputs.attentionMask,
    inputs_file: GOLDEN_INPUTS_FILE,
    expected: { text_embeds: out.text, image_embeds: out.image },
  };
  await updateDuetManifest(folderDir, { golden }, { rehash: true });
  log(`wrote ${files.join(', ')} and duet.json`);
  return { files, golden };
}

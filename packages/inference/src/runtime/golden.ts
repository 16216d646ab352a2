// Golden self-check: fixed inputs and the embeds the exported towers produced at export time, recorded in duet.json
// (pixel values in a small safetensors file). Serving refuses a folder whose files or outputs no longer match.
import { readSafetensors, sha256, toTypedArray, type ModelConfig, type ModelFolder } from '@duet/model-format';
import { GoldenCheckError, InferenceError } from './errors.js';
import { onnxFile, type OnnxDtype, type OrtModuleLike } from './ort-types.js';
import { openTowerSession, runText, runVision } from './tower-session.js';

export const GOLDEN_INPUTS_FILE = 'duet_golden.safetensors';

/** Max |a - b| relative to max |expected| allowed per ONNX variant. */
export const GOLDEN_RTOL: Record<OnnxDtype, number> = { fp32: 1e-3, fp16: 2e-2, q8: 1.5e-1 };

export interface GoldenInputs {
  inputIds: number[][];
  attentionMask: number[][];
  pixelValues: Float32Array;
  pixelShape: [number, number, number, number];
}

/** Deterministic inputs for a config: two token rows (one padded, one full) and two smooth synthetic images. */
export function makeGoldenInputs(config: ModelConfig): GoldenInputs {
  const t = config.text_config;
  const L = t.max_position_embeddings;
  const V = t.vocab_size;
  const eos = t.eos_token_id !== null && t.eos_token_id < V ? t.eos_token_id : V - 1;
  const bos = t.bos_token_id !== null && t.bos_token_id < V ? t.bos_token_id : undefined;
  const pad = t.pad_token_id !== null && t.pad_token_id < V ? t.pad_token_id : 0;
  const inputIds: number[][] = [];
  const attentionMask: number[][] = [];
  for (let r = 0; r < 2; r++) {
    const used = r === 0 ? Math.max(2, Math.ceil(L / 2)) : L;
    const row: number[] = [];
    for (let i = 0; i < L; i++) {
      if (i >= used) row.push(pad);
      else if (i === used - 1) row.push(eos);
      else if (i === 0 && bos !== undefined) row.push(bos);
      else {
        let id = (i * 7919 + r * 104729 + 17) % V;
        if (id === eos) id = (id + 1) % V;
        row.push(id);
      }
    }
    inputIds.push(row);
    attentionMask.push(row.map((_, i) => (i < used ? 1 : 0)));
  }
  const v = config.vision_config;
  const shape: [number, number, number, number] = [2, v.num_channels, v.image_size, v.image_size];
  const S = v.image_size;
  const px = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let k = 0;
  for (let b = 0; b < 2; b++) {
    for (let c = 0; c < shape[1]; c++) {
      for (let y = 0; y < S; y++) {
        for (let x = 0; x < S; x++) {
          px[k++] = 1.5 * Math.sin((x * (b + 1) * 0.11) + (y * 0.07) + c * 1.3) * Math.cos((x - y) * 0.05 * (c + 1) + b);
        }
      }
    }
  }
  return { inputIds, attentionMask, pixelValues: px, pixelShape: shape };
}

export interface GoldenRecord {
  input_ids: number[][];
  attention_mask: number[][];
  inputs_file: string;
  expected: { text_embeds: number[][]; image_embeds: number[][] };
}

function rows(data: Float32Array, dim: number): number[][] {
  return Array.from({ length: data.length / dim }, (_, r) => Array.from(data.subarray(r * dim, (r + 1) * dim)));
}

/** Runs the golden inputs through one ONNX variant of the folder's towers (un-normalised embeds). */
export async function runGolden(ort: OrtModuleLike, folder: ModelFolder, inputs: GoldenInputs, dtype: OnnxDtype = 'fp32'): Promise<{ text: number[][]; image: number[][] }> {
  const ts = await openTowerSession(ort, folder, 'text', dtype);
  const vs = await openTowerSession(ort, folder, 'vision', dtype);
  try {
    const B = inputs.inputIds.length;
    const L = inputs.inputIds[0]!.length;
    const t = await runText(ort, ts, { inputIds: inputs.inputIds.flat(), attentionMask: inputs.attentionMask.flat(), shape: [B, L] }, true);
    const v = await runVision(ort, vs, { pixelValues: inputs.pixelValues, shape: inputs.pixelShape });
    return { text: rows(t.data, t.dim), image: rows(v.data, v.dim) };
  } finally {
    await ts.release?.();
    await vs.release?.();
  }
}

function maxRelDiff(got: number[][], want: number[][], what: string): number {
  if (got.length !== want.length || got.some((r, i) => r.length !== want[i]!.length)) {
    throw new GoldenCheckError(`golden check: ${what}: expected shape [${want.length}, ${want[0]?.length}], got [${got.length}, ${got[0]?.length}] (model does not match the one exported)`);
  }
  let num = 0;
  let den = 0;
  want.forEach((r, i) => r.forEach((w, j) => {
    const g = got[i]![j]!;
    num = Number.isFinite(g) ? Math.max(num, Math.abs(g - w)) : Infinity;
    den = Math.max(den, Math.abs(w));
  }));
  return den > 0 ? num / den : num;
}

export interface GoldenCheckResult {
  dtype: OnnxDtype;
  textMaxRelDiff: number;
  imageMaxRelDiff: number;
  filesVerified: string[];
}

/**
 * Verifies the ONNX files against duet.json's sha256 and re-embeds the golden inputs, comparing with the values
 * recorded at export. Throws GoldenCheckError (with the measured difference) on any mismatch.
 */
export async function goldenCheckFolder(ort: OrtModuleLike, folder: ModelFolder, opts: { dtype?: OnnxDtype; rtol?: number } = {}): Promise<GoldenCheckResult> {
  const dtype = opts.dtype ?? 'fp32';
  const golden = folder.duet?.golden as Partial<GoldenRecord> | undefined;
  if (!golden?.expected?.text_embeds || !golden.expected.image_embeds || !golden.input_ids || !golden.attention_mask || !golden.inputs_file) {
    throw new GoldenCheckError(`${folder.location}: duet.json has no golden record (input_ids, attention_mask, inputs_file, expected embeds); re-run \`duet export --onnx ${folder.location}\``);
  }
  const filesVerified: string[] = [];
  for (const rel of [onnxFile('text', dtype), onnxFile('vision', dtype), golden.inputs_file]) {
    if (!folder.hasFile(rel)) {
      if (rel.startsWith('onnx/')) throw new GoldenCheckError(`${folder.location}: ${rel} not found: run \`duet export --onnx ${folder.location}\``);
      throw new GoldenCheckError(`${folder.location}: golden inputs file ${rel} not found`);
    }
    const want = folder.duet?.files[rel];
    if (want) {
      const got = await sha256(await folder.readFile(rel));
      if (got !== want) throw new GoldenCheckError(`${folder.location}: ${rel}: sha256 ${got} does not match duet.json (${want}): the file is corrupted or was replaced`);
      filesVerified.push(rel);
    }
  }
  const st = readSafetensors(await folder.readFile(golden.inputs_file));
  const pv = st.tensors.get('pixel_values');
  if (!pv || pv.shape.length !== 4) throw new InferenceError(`${golden.inputs_file}: expected a pixel_values tensor [B, C, H, W]`);
  const inputs: GoldenInputs = {
    inputIds: golden.input_ids,
    attentionMask: golden.attention_mask,
    pixelValues: toTypedArray(pv) as Float32Array,
    pixelShape: pv.shape as [number, number, number, number],
  };
  const got = await runGolden(ort, folder, inputs, dtype);
  const rtol = opts.rtol ?? GOLDEN_RTOL[dtype];
  const textMaxRelDiff = maxRelDiff(got.text, golden.expected.text_embeds, 'text_embeds');
  const imageMaxRelDiff = maxRelDiff(got.image, golden.expected.image_embeds, 'image_embeds');
  for (const [what, d] of [['text_embeds', textMaxRelDiff], ['image_embeds', imageMaxRelDiff]] as const) {
    if (!(d <= rtol)) {
      throw new GoldenCheckError(`${folder.location}: golden check failed for ${onnxFile(what === 'text_embeds' ? 'text' : 'vision', dtype)}: ${what} differ from the values recorded at export by ${d.toExponential(3)} (relative; allowed ${rtol}): the model is corrupted or does not match this folder`);
    }
  }
  return { dtype, textMaxRelDiff, imageMaxRelDiff, filesVerified };
}

// One exported tower (text or vision) behind an onnxruntime session: feeds in the model's own input dtypes, batches.
import { ModelFolderError, type ModelFolder } from '@duet/model-format';
import { InferenceError, MissingOnnxError } from './errors.js';
import { onnxFile, type OnnxDtype, type OrtModuleLike, type OrtSessionLike, type OrtTensorLike } from './ort-types.js';

export interface TokenBatch {
  inputIds: Int32Array | BigInt64Array | number[];
  attentionMask?: Int32Array | BigInt64Array | number[];
  shape: readonly [number, number]; // [B, L]
}

export interface PixelInput {
  pixelValues: Float32Array;
  shape: readonly [number, number, number, number]; // [B, C, H, W]
}

export async function openTowerSession(ort: OrtModuleLike, folder: ModelFolder, tower: 'text' | 'vision', dtype: OnnxDtype, options?: Record<string, unknown>): Promise<OrtSessionLike> {
  const file = onnxFile(tower, dtype);
  // hasFile() is authoritative only where existence is knowable without I/O (file system, duet.json); a URL folder
  // published without duet.json (e.g. a transformers.js model) is probed by reading the file itself.
  let bytes: Uint8Array;
  try {
    bytes = await folder.readFile(file);
  } catch (e) {
    if (e instanceof ModelFolderError) throw new MissingOnnxError(folder.location, file);
    throw e;
  }
  try {
    return await ort.InferenceSession.create(bytes, options);
  } catch (e) {
    throw new InferenceError(`${folder.location}/${file}: onnxruntime could not load the model (${(e as Error).message})`);
  }
}

function inputType(session: OrtSessionLike, name: string): string {
  return session.inputMetadata?.find((m) => m.name === name)?.type ?? 'int64';
}

function toIntTensor(ort: OrtModuleLike, type: string, v: ArrayLike<number | bigint>, dims: readonly number[]): OrtTensorLike {
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.from(v as ArrayLike<number>, Number), dims);
  const out = new BigInt64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = BigInt(v[i]!);
  return new ort.Tensor('int64', out, dims);
}

/**
 * The pooled [B, E] output. Duet/transformers.js exports name it text_embeds / image_embeds; torch.onnx exports of
 * HF get_*_features (transformers >= 5 returns an output object) may put the last hidden state [B, N, D] under that
 * name and the pooled features under an auto-generated one: then the single rank-2 output is used.
 */
function pickOutput(out: Record<string, OrtTensorLike>, name: string, where: string): { data: Float32Array; dim: number } {
  let t = out[name];
  if (!t || t.dims.length !== 2) {
    const rank2 = Object.entries(out).filter(([, v]) => v.dims.length === 2);
    if (rank2.length !== 1) {
      const desc = Object.entries(out).map(([k, v]) => `${k} [${v.dims.join(', ')}]`).join(', ');
      throw new InferenceError(`${where}: expected an output "${name}" of shape [B, E], got ${desc}`);
    }
    t = rank2[0]![1];
  }
  const d = t.data;
  // fp16 I/O exports return Float16Array / uint16 bits; convert to float32.
  const data = d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
  return { data, dim: t.dims[1]! };
}

/** input_ids [B, L] (+ attention_mask when the model takes it) -> text_embeds [B, E] (rows concatenated). */
export async function runText(ort: OrtModuleLike, session: OrtSessionLike, batch: TokenBatch, feedMask: boolean): Promise<{ data: Float32Array; dim: number }> {
  const [B, L] = batch.shape;
  if (batch.inputIds.length !== B * L) throw new InferenceError(`inputIds: expected ${B}x${L} = ${B * L} values for shape [${B}, ${L}], got ${batch.inputIds.length}`);
  const feeds: Record<string, OrtTensorLike> = { input_ids: toIntTensor(ort, inputType(session, 'input_ids'), batch.inputIds, [B, L]) };
  if (session.inputNames.includes('attention_mask')) {
    let mask: ArrayLike<number | bigint> | undefined = feedMask ? batch.attentionMask : undefined;
    if (mask && mask.length !== B * L) throw new InferenceError(`attentionMask: expected ${B * L} values for shape [${B}, ${L}], got ${mask.length}`);
    mask ??= new Int32Array(B * L).fill(1);
    feeds['attention_mask'] = toIntTensor(ort, inputType(session, 'attention_mask'), mask, [B, L]);
  }
  return pickOutput(await session.run(feeds), 'text_embeds', 'text_model.onnx');
}

/** pixel_values [B, C, H, W] -> image_embeds [B, E]. */
export async function runVision(ort: OrtModuleLike, session: OrtSessionLike, input: PixelInput): Promise<{ data: Float32Array; dim: number }> {
  const n = input.shape.reduce((a, b) => a * b, 1);
  if (input.pixelValues.length !== n) throw new InferenceError(`pixelValues: expected ${n} values for shape [${input.shape.join(', ')}], got ${input.pixelValues.length}`);
  const meta = session.inputMetadata?.find((m) => m.name === 'pixel_values');
  const want = meta?.shape;
  if (want && want.length === 4) {
    for (let i = 1; i < 4; i++) {
      if (typeof want[i] === 'number' && want[i] !== input.shape[i]) {
        throw new InferenceError(`pixelValues: expected [B, ${want.slice(1).join(', ')}], got [${input.shape.join(', ')}]`);
      }
    }
  }
  return pickOutput(await session.run({ pixel_values: new ort.Tensor('float32', input.pixelValues, input.shape) }), 'image_embeds', 'vision_model.onnx');
}

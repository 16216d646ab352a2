// VQA examples from a dataset whose samples carry meta.questions (the shapes set with `questions`): every scene is
// decoded and preprocessed once, every distinct question tokenized once; examples index into both.
import { openDataset as openDataDataset, readSamples, type QuestionAnswer, type RawImage } from '@duet/data';

export interface VqaExample {
  scene: number;
  question: number;
  answer: string;
  type: string;
}

export interface VqaSet {
  name: string;
  /** Decoded images (kept for figures). */
  images: RawImage[];
  /** [S, 3, H, W] preprocessed pixels of every scene. */
  pixelValues: Float32Array;
  pixelShape: [number, number, number, number];
  /** Distinct question texts. */
  questions: string[];
  /** [Q, L] token ids and mask of the distinct questions. */
  inputIds: Int32Array;
  attentionMask: Int32Array;
  textShape: [number, number];
  examples: VqaExample[];
  /** Distinct questions longer than the text context (cut off by the tokenizer: their answers may become ambiguous). */
  truncated: number;
}

export interface ImageProcessorLike {
  process(images: RawImage[]): { pixelValues: Float32Array; shape: readonly number[] };
}
export interface TokenizerLike {
  encode(texts: string[], opts?: { maxLength?: number; padding?: boolean | 'max_length' | 'longest' }): { inputIds: Int32Array; attentionMask: Int32Array; shape: readonly number[] };
  /** Token ids with special tokens, untruncated (to count questions that do not fit). */
  encodeIds?(text: string): number[];
}

export async function loadVqaSet(spec: string, p: { imageProcessor: ImageProcessorLike; tokenizer: TokenizerLike; maxLength: number; onProgress?: (done: number) => void }): Promise<VqaSet> {
  const ds = openDataDataset(spec);
  const images: RawImage[] = [];
  const qIndex = new Map<string, number>();
  const examples: VqaExample[] = [];
  for await (const s of readSamples(ds)) {
    const qs = s.meta?.['questions'] as QuestionAnswer[] | undefined;
    if (!Array.isArray(qs)) throw new Error(`data ${spec}: sample ${s.key} has no meta.questions; VQA needs question–answer pairs (for the shapes set add ",questions", e.g. shapes:seed=0,size=4000,imageSize=48,questions)`);
    const scene = images.length;
    images.push(s.image);
    for (const q of qs) {
      let qi = qIndex.get(q.question);
      if (qi === undefined) qIndex.set(q.question, (qi = qIndex.size));
      examples.push({ scene, question: qi, answer: q.answer, type: q.type });
    }
    if (images.length % 500 === 0) p.onProgress?.(images.length);
  }
  if (!images.length) throw new Error(`data ${spec}: no samples`);
  // Preprocess in chunks (bounded temporary memory).
  const chunks: Float32Array[] = [];
  let shape: readonly number[] = [];
  for (let i = 0; i < images.length; i += 256) {
    const out = p.imageProcessor.process(images.slice(i, i + 256));
    chunks.push(out.pixelValues);
    shape = out.shape;
  }
  const per = shape[1]! * shape[2]! * shape[3]!;
  const pixelValues = new Float32Array(images.length * per);
  let o = 0;
  for (const c of chunks) {
    pixelValues.set(c, o);
    o += c.length;
  }
  const questions = [...qIndex.keys()];
  // Pad every question to the tower's context length: the text tower sees the same layout as in contrastive training.
  const enc = p.tokenizer.encode(questions, { maxLength: p.maxLength, padding: 'max_length' });
  const truncated = p.tokenizer.encodeIds ? questions.filter((q) => p.tokenizer.encodeIds!(q).length > p.maxLength).length : 0;
  return {
    name: spec, images, pixelValues, pixelShape: [images.length, shape[1]!, shape[2]!, shape[3]!],
    questions, inputIds: enc.inputIds, attentionMask: enc.attentionMask, textShape: [questions.length, enc.shape[1]!], examples, truncated,
  };
}

/** Accuracy per question type and overall. */
export interface VqaAccuracy {
  overall: number;
  count: number;
  byType: Record<string, { accuracy: number; count: number }>;
}

export function vqaAccuracy(examples: VqaExample[], predicted: string[]): VqaAccuracy {
  const by: Record<string, { right: number; n: number }> = {};
  let right = 0;
  examples.forEach((e, i) => {
    const ok = predicted[i] === e.answer ? 1 : 0;
    right += ok;
    const t = (by[e.type] ??= { right: 0, n: 0 });
    t.right += ok;
    t.n++;
  });
  const byType: VqaAccuracy['byType'] = {};
  for (const [k, v] of Object.entries(by).sort(([a], [b]) => (a < b ? -1 : 1))) byType[k] = { accuracy: v.right / v.n, count: v.n };
  return { overall: examples.length ? right / examples.length : 0, count: examples.length, byType };
}

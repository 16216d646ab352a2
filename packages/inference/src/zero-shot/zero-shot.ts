// Zero-shot classification (open_clip / CLIP_benchmark convention): class names x templates -> normalised text
// embeds, averaged per class and renormalised (prompt ensembling); logits = exp(logitScale) * cos (+ logitBias).
// Probabilities follow the loss family the model was trained with: softmax over classes (CLIP InfoNCE) or an
// independent sigmoid per class (SigLIP pairwise sigmoid).
import type { LossFamily } from '@duet/model-format';
import type { RawImage } from '@duet/preprocess';
import type { EmbedOptions, Embeddings } from '../runtime/embedder.js';
import { InferenceError } from '../runtime/errors.js';
import { l2NormalizeRows } from '../runtime/normalize.js';

export type Template = string | ((label: string) => string);

export const DEFAULT_TEMPLATES: Template[] = ['a photo of a {}.'];

/** How each loss family turns one image's logits over classes into probabilities. */
export const PROBABILITIES: Record<LossFamily, (logits: Float32Array) => Float32Array> = {
  clip: (logits) => {
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    const out = logits.map((v) => Math.exp(v - max));
    const sum = out.reduce((a, b) => a + b, 0);
    return out.map((v) => v / sum);
  },
  siglip: (logits) => logits.map((v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)))),
};

export function applyTemplate(t: Template, label: string): string {
  return typeof t === 'function' ? t(label) : t.includes('{}') ? t.replaceAll('{}', label) : `${t}${label}`;
}

/** The slice of Embedder the classifier needs. */
export interface ZeroShotEmbedder {
  readonly lossFamily: LossFamily;
  readonly dim: number;
  embedTexts(texts: string[], opts?: EmbedOptions): Promise<Embeddings>;
  embedImages?(images: RawImage[], opts?: EmbedOptions): Promise<Embeddings>;
  logitParams(): Promise<{ logitScale: number; logitBias?: number }>;
}

export interface Classification {
  /** Labels sorted by probability, best first. */
  ranked: { label: string; index: number; probability: number; logit: number }[];
  probabilities: Float32Array;
  logits: Float32Array;
}

export class ZeroShotClassifier {
  private constructor(
    readonly labels: string[],
    /** Class embeddings [C, E] (prompt-ensembled, normalised). */
    readonly classEmbeds: Float32Array,
    readonly dim: number,
    readonly family: LossFamily,
    /** log of the logit scale (as stored in model.safetensors). */
    readonly logitScale: number,
    readonly logitBias: number,
    private readonly embedder?: ZeroShotEmbedder,
  ) {}

  /** Builds class embeddings from labels x templates with the model's text tower; scale/bias from the folder. */
  static async create(embedder: ZeroShotEmbedder, labels: string[], opts: { templates?: Template[] } = {}): Promise<ZeroShotClassifier> {
    if (!Array.isArray(labels) || labels.length === 0) throw new InferenceError('labels: expected a non-empty array of class names');
    if (labels.some((l) => typeof l !== 'string' || l.trim() === '')) throw new InferenceError('labels: every label must be a non-empty string');
    const templates = opts.templates ?? DEFAULT_TEMPLATES;
    if (templates.length === 0) throw new InferenceError('templates: expected at least one template');
    const texts = labels.flatMap((l) => templates.map((t) => applyTemplate(t, l)));
    const { data } = await embedder.embedTexts(texts, { normalize: true }); // [C * T, E]
    const E = embedder.dim;
    const T = templates.length;
    const classEmbeds = new Float32Array(labels.length * E);
    for (let c = 0; c < labels.length; c++) {
      for (let t = 0; t < T; t++) {
        const src = (c * T + t) * E;
        for (let j = 0; j < E; j++) classEmbeds[c * E + j]! += data[src + j]! / T;
      }
    }
    l2NormalizeRows(classEmbeds, E);
    const { logitScale, logitBias } = await embedder.logitParams();
    return new ZeroShotClassifier(labels, classEmbeds, E, embedder.lossFamily, logitScale, logitBias ?? 0, embedder);
  }

  /** From precomputed (normalised) class embeddings [C, E]. */
  static fromClassEmbeds(labels: string[], classEmbeds: Float32Array, params: { family: LossFamily; logitScale: number; logitBias?: number }): ZeroShotClassifier {
    if (labels.length === 0) throw new InferenceError('labels: expected a non-empty array of class names');
    const E = classEmbeds.length / labels.length;
    if (!Number.isInteger(E) || E === 0) throw new InferenceError(`classEmbeds: expected ${labels.length} rows (one per label), got ${classEmbeds.length} values`);
    return new ZeroShotClassifier(labels, l2NormalizeRows(Float32Array.from(classEmbeds), E), E, params.family, params.logitScale, params.logitBias ?? 0);
  }

  /** Logits and probabilities for image embeds [B, E] (normalised here). */
  classifyEmbeds(imageEmbeds: Float32Array): Classification[] {
    const E = this.dim;
    const B = imageEmbeds.length / E;
    if (!Number.isInteger(B) || B === 0) throw new InferenceError(`imageEmbeds: expected a non-empty multiple of ${E} values, got ${imageEmbeds.length}`);
    const img = l2NormalizeRows(Float32Array.from(imageEmbeds), E);
    const C = this.labels.length;
    const scale = Math.exp(this.logitScale);
    const toProbs = PROBABILITIES[this.family];
    const out: Classification[] = [];
    for (let b = 0; b < B; b++) {
      const logits = new Float32Array(C);
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let j = 0; j < E; j++) s += img[b * E + j]! * this.classEmbeds[c * E + j]!;
        logits[c] = scale * s + this.logitBias;
      }
      const probabilities = toProbs(logits);
      const ranked = this.labels
        .map((label, index) => ({ label, index, probability: probabilities[index]!, logit: logits[index]! }))
        .sort((a, b2) => b2.logit - a.logit || a.index - b2.index);
      out.push({ ranked, probabilities, logits });
    }
    return out;
  }

  async classifyImages(images: RawImage[]): Promise<Classification[]> {
    if (!this.embedder?.embedImages) throw new InferenceError('classifyImages: this classifier has no image embedder (built from class embeds); use classifyEmbeds');
    if (!Array.isArray(images) || images.length === 0) throw new InferenceError('images: expected a non-empty array of RawImage');
    const { data } = await this.embedder.embedImages(images, { normalize: true });
    return this.classifyEmbeds(data);
  }
}

// Embedder: the model's own preprocessing (@duet/preprocess) + its exported ONNX towers on any onnxruntime
// (onnxruntime-node in Node, onnxruntime-web in browsers), batched, optionally L2-normalised.
import { embedDim, isSiglipConfig, lossFamily, toTypedArray, type LossFamily, type ModelConfig, type ModelFolder } from '@duet/model-format';
import { ImageProcessor, TextTokenizer, type RawImage, type TokenizerConfig } from '@duet/preprocess';
import { InferenceError } from './errors.js';
import { l2NormalizeRows } from './normalize.js';
import type { OnnxDtype, OrtModuleLike, OrtSessionLike } from './ort-types.js';
import { openTowerSession, runText, runVision, type PixelInput, type TokenBatch } from './tower-session.js';

/** Embeddings as one row-major [B, E] matrix. */
export interface Embeddings {
  data: Float32Array;
  shape: [number, number];
}

export interface EmbedOptions {
  /** L2-normalise each row (default true; false gives HF get_*_features). */
  normalize?: boolean;
}

export interface EmbedderOptions {
  /** ONNX variant: fp32 (default), fp16 (`_fp16`) or int8-weight (`_quantized`). */
  dtype?: OnnxDtype;
  /** Rows per onnxruntime call (default 32). */
  batchSize?: number;
  /** Which towers to load (default both). */
  towers?: ('text' | 'vision')[];
  /** onnxruntime session options (threads, execution providers). */
  sessionOptions?: Record<string, unknown>;
}

export interface Embedder {
  readonly config: ModelConfig;
  readonly lossFamily: LossFamily;
  readonly dim: number;
  readonly folder: ModelFolder;
  embedTexts(texts: string[], opts?: EmbedOptions): Promise<Embeddings>;
  embedImages(images: RawImage[], opts?: EmbedOptions): Promise<Embeddings>;
  embedTokens(batch: TokenBatch, opts?: EmbedOptions): Promise<Embeddings>;
  embedPixels(input: PixelInput, opts?: EmbedOptions): Promise<Embeddings>;
  /** logit_scale (log of the scale) and logit_bias (SigLIP) from model.safetensors. */
  logitParams(): Promise<{ logitScale: number; logitBias?: number }>;
  dispose(): Promise<void>;
}

/**
 * Whether the text tower should see the tokenizer's attention mask: tokenizer_config's model_input_names decides
 * when present (HF SiglipTokenizer lists only input_ids); otherwise SigLIP-architecture text towers, which pool the
 * last position of max_length-padded inputs, are run without a mask as in HF.
 */
export function textUsesAttentionMask(config: ModelConfig, tokenizerConfig?: Record<string, unknown>): boolean {
  const names = tokenizerConfig?.['model_input_names'];
  if (Array.isArray(names)) return names.includes('attention_mask');
  return !isSiglipConfig(config);
}

class OnnxEmbedder implements Embedder {
  readonly lossFamily: LossFamily;
  readonly dim: number;
  private tokenizer?: TextTokenizer;
  private processor?: ImageProcessor;
  private readonly feedMask: boolean;

  constructor(
    private readonly ort: OrtModuleLike,
    readonly folder: ModelFolder,
    private readonly text: OrtSessionLike | undefined,
    private readonly vision: OrtSessionLike | undefined,
    private readonly batchSize: number,
  ) {
    this.lossFamily = folder.duet?.loss_family ?? lossFamily(folder.config);
    this.dim = embedDim(folder.config);
    this.feedMask = textUsesAttentionMask(folder.config, folder.tokenizerConfig);
  }

  get config(): ModelConfig {
    return this.folder.config;
  }

  private textSession(): OrtSessionLike {
    if (!this.text) throw new InferenceError(`${this.folder.location}: the text tower was not loaded (towers option)`);
    return this.text;
  }

  private visionSession(): OrtSessionLike {
    if (!this.vision) throw new InferenceError(`${this.folder.location}: the vision tower was not loaded (towers option)`);
    return this.vision;
  }

  private getTokenizer(): TextTokenizer {
    if (!this.tokenizer) {
      if (!this.folder.tokenizerJson) throw new InferenceError(`${this.folder.location}: tokenizer.json not found: embedTexts needs the model's tokenizer (use embedTokens for pre-tokenised input)`);
      this.tokenizer = TextTokenizer.fromJSON(this.folder.tokenizerJson, (this.folder.tokenizerConfig ?? {}) as TokenizerConfig, { modelConfig: this.folder.config as never });
    }
    return this.tokenizer;
  }

  private getProcessor(): ImageProcessor {
    if (!this.processor) {
      if (!this.folder.preprocessorConfig) throw new InferenceError(`${this.folder.location}: preprocessor_config.json not found: embedImages needs the model's image processor (use embedPixels for pre-processed input)`);
      this.processor = ImageProcessor.fromConfig(this.folder.preprocessorConfig as never);
    }
    return this.processor;
  }

  async embedTexts(texts: string[], opts: EmbedOptions = {}): Promise<Embeddings> {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) throw new InferenceError('texts: expected an array of strings');
    const tok = this.getTokenizer();
    const out = new Float32Array(texts.length * this.dim);
    for (let s = 0; s < texts.length; s += this.batchSize) {
      const enc = tok.encode(texts.slice(s, s + this.batchSize));
      const r = await this.embedTokens(enc, { normalize: false });
      out.set(r.data, s * this.dim);
    }
    return this.finish(out, texts.length, opts);
  }

  async embedImages(images: RawImage[], opts: EmbedOptions = {}): Promise<Embeddings> {
    if (!Array.isArray(images)) throw new InferenceError('images: expected an array of RawImage');
    const proc = this.getProcessor();
    const out = new Float32Array(images.length * this.dim);
    for (let s = 0; s < images.length; s += this.batchSize) {
      const px = proc.process(images.slice(s, s + this.batchSize));
      const r = await this.embedPixels(px, { normalize: false });
      out.set(r.data, s * this.dim);
    }
    return this.finish(out, images.length, opts);
  }

  async embedTokens(batch: TokenBatch, opts: EmbedOptions = {}): Promise<Embeddings> {
    const [B, L] = batch.shape;
    const maxL = this.config.text_config.max_position_embeddings;
    if (!Number.isInteger(B) || !Number.isInteger(L) || B <= 0 || L <= 0) throw new InferenceError(`inputIds: expected shape [B, L] with B, L >= 1, got [${batch.shape.join(', ')}]`);
    if (L > maxL) throw new InferenceError(`inputIds: sequence length ${L} exceeds the model's max_position_embeddings ${maxL}`);
    const out = new Float32Array(B * this.dim);
    for (let s = 0; s < B; s += this.batchSize) {
      const n = Math.min(this.batchSize, B - s);
      const slice = <T extends { slice(a: number, b: number): T }>(a: T): T => a.slice(s * L, (s + n) * L);
      const sub: TokenBatch = {
        inputIds: slice(batch.inputIds as Int32Array),
        attentionMask: batch.attentionMask ? slice(batch.attentionMask as Int32Array) : undefined,
        shape: [n, L],
      };
      const r = await runText(this.ort, this.textSession(), sub, this.feedMask);
      this.checkDim(r.dim, 'text_embeds');
      out.set(r.data, s * this.dim);
    }
    return this.finish(out, B, opts);
  }

  async embedPixels(input: PixelInput, opts: EmbedOptions = {}): Promise<Embeddings> {
    const [B, C, H, W] = input.shape;
    const v = this.config.vision_config;
    if (input.shape.length !== 4 || C !== v.num_channels || H !== v.image_size || W !== v.image_size) {
      throw new InferenceError(`pixelValues: expected [B, ${v.num_channels}, ${v.image_size}, ${v.image_size}], got [${input.shape.join(', ')}]`);
    }
    const per = C * H * W;
    const out = new Float32Array(B * this.dim);
    for (let s = 0; s < B; s += this.batchSize) {
      const n = Math.min(this.batchSize, B - s);
      const r = await runVision(this.ort, this.visionSession(), { pixelValues: input.pixelValues.subarray(s * per, (s + n) * per), shape: [n, C, H, W] });
      this.checkDim(r.dim, 'image_embeds');
      out.set(r.data, s * this.dim);
    }
    return this.finish(out, B, opts);
  }

  async logitParams(): Promise<{ logitScale: number; logitBias?: number }> {
    const read = async (name: string): Promise<number | undefined> => {
      if (!this.folder.hasTensor(name)) return undefined;
      const v = toTypedArray(await this.folder.getTensor(name)) as ArrayLike<number>;
      return Number(v[0]);
    };
    const logitScale = await read('logit_scale');
    if (logitScale === undefined) throw new InferenceError(`${this.folder.location}: model.safetensors has no logit_scale tensor`);
    const logitBias = await read('logit_bias');
    return logitBias === undefined ? { logitScale } : { logitScale, logitBias };
  }

  async dispose(): Promise<void> {
    await this.text?.release?.();
    await this.vision?.release?.();
  }

  private checkDim(dim: number, name: string): void {
    if (dim !== this.dim) throw new InferenceError(`${name}: the ONNX model outputs width ${dim}, but config.json implies ${this.dim}`);
  }

  private finish(data: Float32Array, rows: number, opts: EmbedOptions): Embeddings {
    if (opts.normalize !== false) l2NormalizeRows(data, this.dim);
    return { data, shape: [rows, this.dim] };
  }
}

/** Builds an Embedder over a loaded folder and an onnxruntime module (onnxruntime-node or onnxruntime-web). */
export async function createEmbedderFromFolder(ort: OrtModuleLike, folder: ModelFolder, opts: EmbedderOptions = {}): Promise<Embedder> {
  const dtype = opts.dtype ?? 'fp32';
  const towers = opts.towers ?? ['text', 'vision'];
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new InferenceError(`batchSize: expected a positive integer, got ${batchSize}`);
  const text = towers.includes('text') ? await openTowerSession(ort, folder, 'text', dtype, opts.sessionOptions) : undefined;
  const vision = towers.includes('vision') ? await openTowerSession(ort, folder, 'vision', dtype, opts.sessionOptions) : undefined;
  return new OnnxEmbedder(ort, folder, text, vision, batchSize);
}

// The served model: the embedder over onnxruntime-node, its golden check, and micro-batched embed calls.
import { createEmbedder, goldenCheck, type Embedder } from '@duet/inference/node';
import type { RawImage } from '@duet/preprocess';
import { ApiError } from './errors.js';
import { MicroBatcher, QueueFullError } from './batcher.js';

function overloaded(e: unknown): never {
  if (e instanceof QueueFullError) throw new ApiError(503, 'overloaded', `the model is busy (${e.message}); retry later`);
  throw e;
}

export interface ModelInfo {
  name: string;
  lossFamily: string;
  dim: number;
  imageSize: number;
  maxTextTokens: number;
}

export class ModelService {
  embedder?: Embedder;
  info?: ModelInfo;
  golden: 'pending' | 'passed' | 'skipped' | 'failed' = 'pending';
  loadError?: string;
  readonly loaded: Promise<void>;
  private textBatcher?: MicroBatcher<string, Float32Array>;
  private imageBatcher?: MicroBatcher<RawImage, Float32Array>;

  constructor(
    readonly modelDir: string,
    private readonly opts: { verify: boolean; waitMs: number; maxBatch: number; maxQueue?: number; onBatch: (tower: 'text' | 'vision', rows: number, requests: number) => void },
  ) {
    this.loaded = this.load().catch((e: Error) => {
      this.loadError = e.message;
      if (this.golden === 'pending') this.golden = 'failed';
    });
  }

  private async load(): Promise<void> {
    if (this.opts.verify) {
      await goldenCheck(this.modelDir);
      this.golden = 'passed';
    } else {
      this.golden = 'skipped';
    }
    const emb = await createEmbedder(this.modelDir, { batchSize: this.opts.maxBatch });
    const c = emb.config;
    const name = (c as { _name_or_path?: string })._name_or_path || this.modelDir.split(/[\\/]/).filter(Boolean).pop() || 'model';
    this.info = { name, lossFamily: emb.lossFamily, dim: emb.dim, imageSize: c.vision_config.image_size, maxTextTokens: c.text_config.max_position_embeddings };
    const split = (data: Float32Array, n: number): Float32Array[] => Array.from({ length: n }, (_, i) => data.slice(i * emb.dim, (i + 1) * emb.dim));
    // At most maxQueue rows wait per tower (default 16 full batches); beyond that requests get 503 overloaded.
    const batch = { waitMs: this.opts.waitMs, maxBatch: this.opts.maxBatch, maxQueue: this.opts.maxQueue ?? 16 * Math.max(this.opts.maxBatch, 4) };
    this.textBatcher = new MicroBatcher(async (texts) => split((await emb.embedTexts(texts)).data, texts.length), {
      ...batch, onBatch: (r, q) => this.opts.onBatch('text', r, q),
    });
    this.imageBatcher = new MicroBatcher(async (imgs) => split((await emb.embedImages(imgs)).data, imgs.length), {
      ...batch, onBatch: (r, q) => this.opts.onBatch('vision', r, q),
    });
    this.embedder = emb;
  }

  get ready(): boolean {
    return this.embedder !== undefined;
  }

  /** Waits for the model; 503 when it failed to load. */
  async require(): Promise<Embedder> {
    await this.loaded;
    if (!this.embedder) throw new ApiError(503, 'model_unavailable', `model ${this.modelDir} is not loaded: ${this.loadError ?? 'loading'}`);
    return this.embedder;
  }

  /** L2-normalised text embeddings, one per text (micro-batched with concurrent requests). */
  async embedTexts(texts: string[]): Promise<Float32Array[]> {
    await this.require();
    return this.textBatcher!.submit(texts).catch(overloaded);
  }

  async embedImages(images: RawImage[]): Promise<Float32Array[]> {
    await this.require();
    return this.imageBatcher!.submit(images).catch(overloaded);
  }

  async dispose(): Promise<void> {
    await this.loaded;
    await this.embedder?.dispose();
  }
}

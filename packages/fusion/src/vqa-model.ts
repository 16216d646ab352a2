// VqaModel: a DualEncoder plus a FusionHead, saved together in one model folder (config.json `duet_fusion`,
// tensors `fusion.*` beside the towers' HF names). The contrastive part stays a plain CLIP/SigLIP folder for every
// other reader; the towers are frozen (default) or fine-tuned with the head.
import { tf } from '@duet/runtime';
import { DualEncoder, modelSettings, resolveConfig, type EncodeOptions } from '@duet/encoders';
import { isSiglipConfig, type ModelConfig, type ModelFolder, type RawTensor } from '@duet/model-format';
import { FUSION_CONFIG_KEY, FUSION_PREFIX, parseFusionConfig, type FusionConfig, type FusionConfigInput } from './config.js';
import { FusionHead, type FusionOutput } from './fusion-head.js';
import { vqaLoss } from './loss.js';
import type { TowerDims } from './params.js';

export interface VqaInputs {
  /** [B, C, H, W] NCHW float32, as the model's image processor makes them. */
  pixelValues: tf.Tensor4D;
  /** [B, L] int32 question token ids. */
  inputIds: tf.Tensor2D;
  /** [B, L] 1 = token, 0 = padding: always masks padding keys in the fusion; given to the text tower only when it uses masks. */
  attentionMask: tf.Tensor2D;
}

/** What the head consumes: token sequences (cross_attention) or pooled tower features (late_fusion). */
export interface TowerFeatures {
  /** [B, Nv, Dv] vision tokens, or [B, E] image features. */
  image: tf.Tensor;
  /** [B, Nt, Dt] text tokens, or [B, E] text features. */
  text: tf.Tensor;
  /** [B, Nt] the question's padding mask. */
  attentionMask: tf.Tensor2D;
}

/** Which towers stay fixed while the head trains: both (default), only the text tower, only the vision tower, or none. */
export type FreezeTowers = 'towers' | 'text' | 'vision' | 'none';
export const FREEZE_TOWERS = ['towers', 'text', 'vision', 'none'] as const;

export interface VqaModelOptions {
  /** Towers kept frozen (default 'towers': only the head trains); the others are fine-tuned with the head. */
  freeze?: FreezeTowers;
  /**
   * Whether the text tower itself sees the attention mask (default: CLIP yes, SigLIP no — HF's convention, the
   * same rule the trainer and @duet/inference apply). The fusion always masks padding keys.
   */
  textTowerMask?: boolean;
  seed?: number;
}

export interface VqaPrediction {
  /** Best answer per question. */
  answers: string[];
  /** [B][A] softmax probabilities in answer_vocab order. */
  probabilities: Float32Array[];
}

/** Widths the head connects to: ViT hidden size or the ResNet's final feature map channels; the embedding dim. */
export function towerDims(config: ModelConfig): TowerDims {
  const s = modelSettings(config);
  const vision = s.vision ? s.vision.hiddenSize : s.resnet!.width * 32;
  // ViT: one token per patch, plus CLIP's class token (SigLIP has none); ResNet: the final map, stride 32.
  const visionGrid = s.vision ? Math.floor(s.vision.imageSize / s.vision.patchSize) : s.resnet!.imageSize / 32;
  const visionTokens = visionGrid ** 2 + (s.vision && s.family === 'clip' ? 1 : 0);
  return { vision, text: s.text.hiddenSize, embed: s.embedDim, visionTokens, visionGrid, textTokens: s.text.maxPositions };
}

export class VqaModel {
  readonly textTowerMask: boolean;
  private frozenTowers: FreezeTowers = 'none';

  private constructor(readonly encoder: DualEncoder, readonly head: FusionHead, opts: VqaModelOptions) {
    this.textTowerMask = opts.textTowerMask ?? !isSiglipConfig(encoder.config);
    this.setFrozen(opts.freeze ?? 'towers');
  }

  /** A fresh head on a (trained) dual encoder; the model takes ownership of the encoder. */
  static create(encoder: DualEncoder, fusion: FusionConfigInput, opts: VqaModelOptions = {}): VqaModel {
    return new VqaModel(encoder, FusionHead.create(fusion, towerDims(encoder.config), { seed: opts.seed ?? 0 }), opts);
  }

  /** From a config with `duet_fusion` and the tensors of one model.safetensors (split by the `fusion.` prefix). */
  static fromTensors(config: unknown, tensors: Map<string, RawTensor>, opts: VqaModelOptions = {}): VqaModel {
    const raw = config as Record<string, unknown>;
    if (raw?.[FUSION_CONFIG_KEY] === undefined) throw new Error(`this model has no fusion head (config.json has no "${FUSION_CONFIG_KEY}" key); train one with \`duet train --task vqa\``);
    const fusion = parseFusionConfig(raw[FUSION_CONFIG_KEY]);
    const encoder = DualEncoder.fromTensors(config, tensors, opts.seed === undefined ? {} : { seed: opts.seed });
    try {
      return new VqaModel(encoder, FusionHead.fromTensors(fusion, towerDims(encoder.config), tensors), opts);
    } catch (e) {
      encoder.dispose();
      throw e;
    }
  }

  get fusionConfig(): FusionConfig {
    return this.head.config;
  }

  get answerVocab(): string[] {
    return this.head.config.answer_vocab;
  }

  /** config.json of the combined folder: the encoder's config plus `duet_fusion`. */
  get config(): ModelConfig {
    return resolveConfig({ ...this.encoder.config, [FUSION_CONFIG_KEY]: this.head.config });
  }

  get frozen(): FreezeTowers {
    return this.frozenTowers;
  }

  /** Whether a tower (with its projection) is frozen. */
  isFrozen(tower: 'vision' | 'text'): boolean {
    return this.frozenTowers === 'towers' || this.frozenTowers === tower;
  }

  /** Sets which towers are frozen (the rest are fine-tuned with the head). */
  setFrozen(which: FreezeTowers): void {
    if (!FREEZE_TOWERS.includes(which)) throw new Error(`freeze: expected one of ${FREEZE_TOWERS.join(', ')}, got ${JSON.stringify(which)}`);
    this.frozenTowers = which;
    for (const part of ['vision', 'text'] as const) {
      if (this.isFrozen(part)) this.encoder.freeze(part);
      else this.encoder.unfreeze(part);
    }
  }

  /** Image side of the head's input: vision tokens [B, Nv, Dv] (cross_attention) or image features [B, E] (late_fusion). */
  imageFeatures(pixelValues: tf.Tensor4D, opts: EncodeOptions = {}): tf.Tensor {
    return this.head.config.type === 'late_fusion' ? this.encoder.encodeImage(pixelValues, opts) : this.encoder.visionTokens(pixelValues, opts);
  }

  /** Text side: text tokens [B, Nt, Dt] or text features [B, E]. */
  textFeatures(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, opts: EncodeOptions = {}): tf.Tensor {
    const mask = this.textTowerMask ? attentionMask : undefined;
    return this.head.config.type === 'late_fusion' ? this.encoder.encodeText(inputIds, mask, opts) : this.encoder.textTokens(inputIds, mask, opts);
  }

  /** The head on precomputed tower outputs (lets a frozen-tower trainer cache them). */
  fuse(f: TowerFeatures, opts: { outputAttentions?: boolean } = {}): FusionOutput {
    if (this.head.config.type === 'late_fusion') return this.head.forwardPooled({ imageFeatures: f.image as tf.Tensor2D, textFeatures: f.text as tf.Tensor2D });
    return this.head.forward({ visionTokens: f.image as tf.Tensor3D, textTokens: f.text as tf.Tensor3D, attentionMask: f.attentionMask }, opts);
  }

  /** Towers then head. `training` puts a tower in train mode only when it is being fine-tuned. */
  forward(inputs: VqaInputs, opts: { training?: boolean; outputAttentions?: boolean } = {}): FusionOutput {
    const mode = (tower: 'vision' | 'text') => ({ training: !!opts.training && !this.isFrozen(tower) });
    const run = () => this.fuse({
      image: this.imageFeatures(inputs.pixelValues, mode('vision')),
      text: this.textFeatures(inputs.inputIds, inputs.attentionMask, mode('text')),
      attentionMask: inputs.attentionMask,
    }, opts);
    return tf.tidy(run as unknown as () => tf.TensorContainer) as unknown as FusionOutput;
  }

  /** Cross-entropy of the forward pass against answer indices [B]. */
  loss(inputs: VqaInputs, labels: tf.Tensor1D, opts: { training?: boolean } = {}): tf.Scalar {
    return tf.tidy(() => vqaLoss(this.forward(inputs, opts).logits, labels));
  }

  /** Answers and softmax probabilities (eval mode). */
  predict(inputs: VqaInputs): VqaPrediction {
    const probs = tf.tidy(() => tf.softmax(this.forward(inputs).logits, -1));
    const [b, a] = probs.shape as [number, number];
    const data = probs.dataSync() as Float32Array;
    probs.dispose();
    const probabilities = Array.from({ length: b }, (_, i) => data.slice(i * a, (i + 1) * a));
    const vocab = this.answerVocab;
    return { answers: probabilities.map((p) => vocab[p.indexOf(Math.max(...p))]!), probabilities };
  }

  /** Variables to optimise: the head, plus the towers that are not frozen (never the contrastive logit scale/bias). */
  trainableVariables(): tf.Variable[] {
    const towers = [...this.encoder.namedVariables()].filter(([n, v]) => v.trainable && !n.startsWith('logit_')).map(([, v]) => v);
    return [...this.head.trainableVariables(), ...towers];
  }

  /** Every variable by tensor name (towers' HF names and `fusion.*`). */
  namedVariables(): Map<string, tf.Variable> {
    return new Map([...this.encoder.namedVariables(), ...this.head.namedVariables()]);
  }

  /** All tensors of the combined model.safetensors. */
  toTensors(): Map<string, RawTensor> {
    const out = this.encoder.toTensors();
    for (const [k, v] of this.head.toTensors()) out.set(k, v);
    return out;
  }

  dispose(): void {
    this.encoder.dispose();
    this.head.dispose();
  }
}

/** Loads a model folder that carries a fusion head (a clear error when it has none). */
export async function loadVqaModel(folder: ModelFolder, opts: VqaModelOptions = {}): Promise<VqaModel> {
  const names = folder.tensorNames();
  if ((folder.config as Record<string, unknown>)[FUSION_CONFIG_KEY] === undefined) {
    throw new Error(`this model has no fusion head (config.json has no "${FUSION_CONFIG_KEY}" key); train one with \`duet train --task vqa\``);
  }
  if (!names.some((n) => n.startsWith(FUSION_PREFIX))) throw new Error(`config.json declares "${FUSION_CONFIG_KEY}" but model.safetensors has no "${FUSION_PREFIX}*" tensors`);
  return VqaModel.fromTensors(folder.config, await folder.getAllTensors(), opts);
}

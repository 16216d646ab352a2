// DualEncoder: the image and text towers plus logit parameters, holding tf.Variables keyed by HF tensor names.
import { createRng, tf, type Rng } from '@duet/runtime';
import { fromFloat32, lossFamily, toTypedArray, type LossFamily, type ModelConfig, type ModelFolder, type RawTensor } from '@duet/model-format';
import { l2Normalize } from './ops.js';
import { numel, type ParamSpec } from './params.js';
import { resnetForward } from './resnet-tower.js';
import { isTextParam, isVisionParam, modelSettings, parameterSpecs, resolveConfig, type ModelSettings } from './settings.js';
import { textForward, type TowerOutput } from './text-tower.js';
import type { ForwardContext } from './transformer.js';
import { checkAttentionMask, checkInputIds, checkPixelValues } from './validate.js';
import { visionForward } from './vision-tower.js';

export interface EncodeOptions {
  /** Train mode: dropout active (attention_dropout), BatchNorm uses and updates batch statistics. */
  training?: boolean;
  /** Check ids against vocab_size (one tiny device read-back). Default true. */
  checkIds?: boolean;
}

export interface DualEncoderInputs {
  inputIds: tf.Tensor2D;
  attentionMask?: tf.Tensor2D;
  pixelValues: tf.Tensor4D;
}

export type DualEncoderOutput = {
  /** [Bi, E] L2-normalised. */
  imageEmbeds: tf.Tensor2D;
  /** [Bt, E] L2-normalised. */
  textEmbeds: tf.Tensor2D;
  /** [Bi, Bt] = exp(logitScale) * imageEmbeds @ textEmbeds^T (+ logitBias for SigLIP). */
  logitsPerImage: tf.Tensor2D;
  /** [Bt, Bi] transpose of logitsPerImage. */
  logitsPerText: tf.Tensor2D;
  /** Present with { outputHiddenStates: true }: HF last_hidden_state of each tower and the un-normalised features. */
  textLastHiddenState?: tf.Tensor3D;
  visionLastHiddenState?: tf.Tensor3D;
  textFeatures?: tf.Tensor2D;
  imageFeatures?: tf.Tensor2D;
};

/** Tensor names a checkpoint may carry that the model does not use (HF/torch buffers). */
const IGNORED = [/\.position_ids$/, /\.num_batches_tracked$/];

const shapeStr = (s: readonly number[]) => `[${s.join(', ')}]`;

export class WeightsMismatchError extends Error {
  override name = 'WeightsMismatchError';
  constructor(readonly problems: string[]) {
    const shown = problems.slice(0, 12).join('; ');
    super(`config does not match the weights (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${shown}${problems.length > 12 ? '; ...' : ''}`);
  }
}

function sameShape(spec: ParamSpec, shape: readonly number[]): boolean {
  if (spec.name.startsWith('logit_')) return shape.reduce((a, b) => a * b, 1) === 1; // HF accepts [] or [1]
  return shape.length === spec.shape.length && shape.every((d, i) => d === spec.shape[i]);
}

export class DualEncoder {
  readonly config: ModelConfig;
  readonly lossFamily: LossFamily;
  readonly settings: ModelSettings;
  readonly logitScale: tf.Variable;
  readonly logitBias?: tf.Variable;
  private readonly vars = new Map<string, tf.Variable>();
  private readonly specs: ParamSpec[];
  private readonly frozen = new Set<string>();
  private readonly rng: Rng;
  private disposed = false;

  private constructor(config: ModelConfig, values: (spec: ParamSpec) => { data: Float32Array; shape: number[] }, seed: number) {
    this.config = config;
    this.lossFamily = lossFamily(config);
    this.settings = modelSettings(config);
    this.specs = parameterSpecs(config, this.settings);
    this.rng = createRng(seed).fork('dropout');
    for (const spec of this.specs) {
      const { data, shape } = values(spec);
      const t = tf.tensor(data, shape, 'float32');
      this.vars.set(spec.name, tf.variable(t, spec.trainable));
      t.dispose();
    }
    this.logitScale = this.vars.get('logit_scale')!;
    const bias = this.vars.get('logit_bias');
    if (bias) this.logitBias = bias;
  }

  /** A fresh model with the reference initialisation (HF CLIP/SigLIP _init_weights, open_clip ModifiedResNet), seeded. */
  static create(config: unknown, opts: { seed?: number } = {}): DualEncoder {
    const cfg = resolveConfig(config);
    const seed = opts.seed ?? 0;
    const root = createRng(seed).fork('init');
    return new DualEncoder(cfg, (spec) => ({ data: spec.init(spec.shape.reduce((a, b) => a * b, 1), root.fork(spec.name)), shape: spec.shape }), seed);
  }

  /** Strict load from HF-named tensors: every missing, unexpected or mis-shaped tensor is reported at once. */
  static fromTensors(config: unknown, tensors: Map<string, RawTensor>, opts: { seed?: number } = {}): DualEncoder {
    const cfg = resolveConfig(config);
    const specs = parameterSpecs(cfg);
    const problems: string[] = [];
    const known = new Set(specs.map((s) => s.name));
    for (const spec of specs) {
      const t = tensors.get(spec.name);
      if (!t) {
        if (!spec.initIfMissing) problems.push(`missing tensor "${spec.name}" (expected ${shapeStr(spec.shape)})`);
      }
      else if (!sameShape(spec, t.shape)) problems.push(`tensor "${spec.name}": expected shape ${shapeStr(spec.shape)}, got ${shapeStr(t.shape)}`);
      else if (!['F32', 'F16', 'BF16', 'F64'].includes(t.dtype)) problems.push(`tensor "${spec.name}": expected a float dtype, got ${t.dtype}`);
    }
    // A fusion head (config duet_fusion) keeps its own tensors under `fusion.` in the same file; @duet/fusion loads them.
    const fusion = (cfg as { duet_fusion?: unknown }).duet_fusion !== undefined;
    for (const name of tensors.keys()) {
      if (fusion && name.startsWith('fusion.')) continue;
      if (!known.has(name) && !IGNORED.some((r) => r.test(name))) problems.push(`unexpected tensor "${name}" (not implied by the config)`);
    }
    if (problems.length) throw new WeightsMismatchError(problems);
    return new DualEncoder(
      cfg,
      (spec) => {
        const raw = tensors.get(spec.name);
        if (!raw) return { data: spec.init(numel(spec.shape), createRng(opts.seed ?? 0)), shape: spec.shape }; // initIfMissing
        const arr = toTypedArray(raw);
        const data = arr instanceof Float32Array ? arr : Float32Array.from(arr as ArrayLike<number>);
        return { data, shape: spec.name.startsWith('logit_') ? [...raw.shape] : spec.shape };
      },
      opts.seed ?? 0,
    );
  }

  private param = (name: string): tf.Tensor => {
    if (this.disposed) throw new Error('DualEncoder: used after dispose()');
    const v = this.vars.get(name);
    if (!v) throw new Error(`DualEncoder: no parameter "${name}"`);
    return v;
  };

  private context(training: boolean): ForwardContext {
    return {
      training,
      seed: () => this.rng.int(2 ** 31 - 1),
      updateBuffer: (name, value) => this.vars.get(name)!.assign(value),
      frozenBatchNorm: this.specs.some((s) => isVisionParam(s.name) && s.trainable && this.frozen.has(s.name)),
    };
  }

  private runVision(pixelValues: tf.Tensor4D, training: boolean, withFeatures: boolean): TowerOutput {
    const s = this.settings;
    checkPixelValues(pixelValues, s.channels, s.imageSize);
    const ctx = this.context(training);
    return s.resnet ? resnetForward(this.param, s.resnet, pixelValues, ctx, withFeatures) : visionForward(this.param, s.vision!, pixelValues, ctx, withFeatures);
  }

  private runText(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D | undefined, opts: EncodeOptions, withFeatures: boolean): TowerOutput {
    const t = this.settings.text;
    checkInputIds(inputIds, t.vocabSize, t.maxPositions, opts.checkIds !== false);
    checkAttentionMask(attentionMask, inputIds);
    return textForward(this.param, t, inputIds, attentionMask ?? undefined, this.context(opts.training ?? false), withFeatures);
  }

  private features(out: TowerOutput, what: string): tf.Tensor2D {
    if (!out.features) throw new Error(`${what}: this config has no pooling head (vision_config.vision_use_head is false); use visionTokens()`);
    return out.features as tf.Tensor2D;
  }

  /** [B, E] un-normalised image features (HF get_image_features). pixelValues NCHW [B, C, H, W] float32. */
  encodeImage(pixelValues: tf.Tensor4D, opts: EncodeOptions = {}): tf.Tensor2D {
    return tf.tidy(() => this.features(this.runVision(pixelValues, opts.training ?? false, true), 'encodeImage'));
  }

  /** [B, E] un-normalised text features (HF get_text_features). inputIds int32 [B, L]; attentionMask 1 = token, 0 = padding. */
  encodeText(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D, opts: EncodeOptions = {}): tf.Tensor2D {
    return tf.tidy(() => this.features(this.runText(inputIds, attentionMask, opts, true), 'encodeText'));
  }

  /** Last hidden state of the image tower [B, N, D] (ViT: HF last_hidden_state; ResNet: final feature map as tokens). */
  visionTokens(pixelValues: tf.Tensor4D, opts: EncodeOptions = {}): tf.Tensor3D {
    return tf.tidy(() => this.runVision(pixelValues, opts.training ?? false, false).lastHiddenState as tf.Tensor3D);
  }

  /** Last hidden state of the text tower [B, L, D] (after final_layer_norm, as HF). */
  textTokens(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D, opts: EncodeOptions = {}): tf.Tensor3D {
    return tf.tidy(() => this.runText(inputIds, attentionMask, opts, false).lastHiddenState as tf.Tensor3D);
  }

  /** Logits from normalised embeds (HF semantics; no clamping of the scale). */
  logits(imageEmbeds: tf.Tensor2D, textEmbeds: tf.Tensor2D): { logitsPerImage: tf.Tensor2D; logitsPerText: tf.Tensor2D } {
    return tf.tidy(() => {
      let perText = tf.mul(tf.matMul(textEmbeds, imageEmbeds, false, true), tf.exp(this.logitScale.reshape([]))); // [Bt, Bi]
      if (this.logitBias) perText = tf.add(perText, this.logitBias.reshape([]));
      return { logitsPerText: perText as tf.Tensor2D, logitsPerImage: perText.transpose() as tf.Tensor2D };
    });
  }

  /** Both towers, normalised embeds and logits (HF CLIPModel / SiglipModel forward). */
  forward(inputs: DualEncoderInputs, opts: EncodeOptions & { outputHiddenStates?: boolean } = {}): DualEncoderOutput {
    const run = (): DualEncoderOutput => {
      const training = opts.training ?? false;
      const vis = this.runVision(inputs.pixelValues, training, true);
      const txt = this.runText(inputs.inputIds, inputs.attentionMask, opts, true);
      const imageFeatures = this.features(vis, 'forward');
      const textFeatures = this.features(txt, 'forward');
      const imageEmbeds = l2Normalize(imageFeatures) as tf.Tensor2D;
      const textEmbeds = l2Normalize(textFeatures) as tf.Tensor2D;
      const out: DualEncoderOutput = { imageEmbeds, textEmbeds, ...this.logits(imageEmbeds, textEmbeds) };
      if (opts.outputHiddenStates) {
        Object.assign(out, { textLastHiddenState: txt.lastHiddenState, visionLastHiddenState: vis.lastHiddenState, textFeatures, imageFeatures });
      }
      return out;
    };
    return tf.tidy(run as unknown as () => tf.TensorContainer) as unknown as DualEncoderOutput;
  }

  /** Every tensor (parameters and buffers) by HF name. */
  namedVariables(): Map<string, tf.Variable> {
    return new Map(this.vars);
  }

  /** Trainable parameters not frozen (BatchNorm running statistics are never included). */
  trainableVariables(): tf.Variable[] {
    return this.specs.filter((s) => s.trainable && !this.frozen.has(s.name)).map((s) => this.vars.get(s.name)!);
  }

  /** Freezes 'vision' (image tower + visual projection), 'text' (text tower + projection) or every name with a prefix. Returns the count. */
  freeze(part: 'vision' | 'text' | (string & {})): number {
    return this.setFrozen(part, true);
  }

  unfreeze(part: 'vision' | 'text' | (string & {})): number {
    return this.setFrozen(part, false);
  }

  isFrozen(name: string): boolean {
    return this.frozen.has(name);
  }

  private setFrozen(part: string, frozen: boolean): number {
    const match = part === 'vision' ? isVisionParam : part === 'text' ? isTextParam : (n: string) => n.startsWith(part);
    let n = 0;
    for (const s of this.specs) {
      if (!s.trainable || !match(s.name)) continue;
      if (frozen) this.frozen.add(s.name);
      else this.frozen.delete(s.name);
      this.vars.get(s.name)!.trainable = !frozen;
      n++;
    }
    if (n === 0) throw new Error(`freeze: "${part}" matches no parameter; use 'vision', 'text' or an HF name prefix such as 'vision_model.encoder.layers.0.'`);
    return n;
  }

  /** HF-named float32 tensors, ready for the model format (logit_scale keeps its stored shape). */
  toTensors(): Map<string, RawTensor> {
    const out = new Map<string, RawTensor>();
    for (const s of this.specs) {
      const v = this.vars.get(s.name)!;
      out.set(s.name, fromFloat32(Float32Array.from(v.dataSync() as Float32Array), [...v.shape]));
    }
    return out;
  }

  /** Number of trainable parameters (buffers excluded). */
  parameterCount(): number {
    return this.specs.filter((s) => s.trainable).reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
  }

  dispose(): void {
    if (this.disposed) return;
    for (const v of this.vars.values()) v.dispose();
    this.disposed = true;
  }
}

export function createDualEncoder(config: unknown, opts: { seed?: number } = {}): DualEncoder {
  return DualEncoder.create(config, opts);
}

/** Loads a model folder (HF layout) from @duet/model-format. */
export async function loadDualEncoder(folder: ModelFolder, opts: { seed?: number } = {}): Promise<DualEncoder> {
  return DualEncoder.fromTensors(folder.config, await folder.getAllTensors(), opts);
}

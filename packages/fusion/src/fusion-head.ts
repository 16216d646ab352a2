// FusionHead: the trainable part on top of the two towers. 'cross_attention': pre-LN blocks in which the vision
// tokens query the text tokens (Q = vision, K = V = text; padding keys masked), optionally the reverse direction
// and a vision self-attention, then an MLP, all with residuals; the vision stream is pooled (mean or a learned
// query token) and classified over the answer vocabulary. 'late_fusion': an MLP on the concatenated pooled embeddings.
import { createRng, tf } from '@duet/runtime';
import { activation, l2Normalize, layerNorm, linear } from '@duet/encoders';
import { fromFloat32, toTypedArray, type RawTensor } from '@duet/model-format';
import { additiveKeyMask, multiHeadAttention } from './attention.js';
import { FUSION_PREFIX, parseFusionConfig, type FusionConfig, type FusionConfigInput } from './config.js';
import { fusionParamSpecs, type FusionParamSpec, type TowerDims } from './params.js';

/** Attention probabilities of one fusion block. */
export interface BlockAttention {
  /** [B, H, Nq, Nt]: how much each vision query (row 0 = the learned query when pooled = 'cls') attends to each text token. */
  visionToText: tf.Tensor4D;
  /** [B, H, Nt, Nq] (symmetric only): text tokens attending to the vision stream. */
  textToVision?: tf.Tensor4D;
}

export interface FusionOutput {
  /** [B, A] answer logits (order of answer_vocab). */
  logits: tf.Tensor2D;
  /** [B, D] the pooled fused representation fed to the classifier ([B, 2D] when symmetric, [B, 2E] for late fusion). */
  pooled: tf.Tensor2D;
  /** Per block (cross_attention with outputAttentions). */
  attentions?: BlockAttention[];
}

/** Token inputs of a cross-attention head. */
export interface TokenInputs {
  /** [B, Nv, Dv] vision tower last hidden state. */
  visionTokens: tf.Tensor3D;
  /** [B, Nt, Dt] text tower last hidden state. */
  textTokens: tf.Tensor3D;
  /** [B, Nt] 1 = token, 0 = padding (padding keys get zero attention weight). Omitted = all tokens attended. */
  attentionMask?: tf.Tensor2D;
}

/** Pooled inputs of a late-fusion head: tower features [B, E] (un-normalised, as encodeImage/encodeText). */
export interface PooledInputs {
  imageFeatures: tf.Tensor2D;
  textFeatures: tf.Tensor2D;
}

export class FusionWeightsError extends Error {
  override name = 'FusionWeightsError';
  constructor(readonly problems: string[]) {
    super(`fusion config does not match the fusion tensors (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.slice(0, 12).join('; ')}${problems.length > 12 ? '; ...' : ''}`);
  }
}

/** Std of a randomly initialised tensor: 1/√fan_in under 'fan_in' (Linear [out, in] and the cls token [1, 1, D]: the last axis; a lookup table: 1), else the configured number. */
function initStd(c: FusionConfig, spec: Pick<FusionParamSpec, 'shape' | 'init'>): number {
  if (c.initializer_range !== 'fan_in') return c.initializer_range;
  return spec.init === 'embedding' ? 1 : 1 / Math.sqrt(spec.shape[spec.shape.length - 1]!);
}

const shapeStr = (s: readonly number[]) => `[${s.join(', ')}]`;

export class FusionHead {
  readonly config: FusionConfig;
  readonly dims: TowerDims;
  private readonly vars = new Map<string, tf.Variable>();
  private readonly specs: FusionParamSpec[];
  private disposed = false;

  private constructor(config: FusionConfig, dims: TowerDims, value: (spec: FusionParamSpec) => Float32Array) {
    this.config = config;
    this.dims = dims;
    this.specs = fusionParamSpecs(config, dims);
    for (const spec of this.specs) {
      const t = tf.tensor(value(spec), spec.shape, 'float32');
      this.vars.set(spec.name, tf.variable(t, true));
      t.dispose();
    }
  }

  /** A fresh head: linear weights ~ N(0, std) (std = 1/√fan_in, or initializer_range), biases 0, LayerNorm 1/0; each tensor from rng.fork(name). */
  static create(config: FusionConfigInput | FusionConfig, dims: TowerDims, opts: { seed?: number } = {}): FusionHead {
    const cfg = parseFusionConfig(config);
    const root = createRng(opts.seed ?? 0).fork('fusion-init');
    return new FusionHead(cfg, dims, (s) => {
      const n = s.shape.reduce((a, b) => a * b, 1);
      const out = new Float32Array(n);
      if (s.init === 'ones') out.fill(1);
      else if (s.init === 'normal' || s.init === 'embedding') {
        const r = root.fork(s.name);
        const std = initStd(cfg, s);
        for (let i = 0; i < n; i++) out[i] = r.normal(0, std);
      }
      return out;
    });
  }

  /** Strict load: every missing, unexpected (under `fusion.`) or mis-shaped tensor is reported at once. Other names are ignored. */
  static fromTensors(config: FusionConfigInput | FusionConfig, dims: TowerDims, tensors: Map<string, RawTensor>): FusionHead {
    const cfg = parseFusionConfig(config);
    const specs = fusionParamSpecs(cfg, dims);
    const known = new Set(specs.map((s) => s.name));
    const problems: string[] = [];
    for (const s of specs) {
      const t = tensors.get(s.name);
      if (!t) problems.push(`missing tensor "${s.name}" (expected ${shapeStr(s.shape)})`);
      else if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) problems.push(`tensor "${s.name}": expected shape ${shapeStr(s.shape)}, got ${shapeStr(t.shape)}`);
      else if (!['F32', 'F16', 'BF16', 'F64'].includes(t.dtype)) problems.push(`tensor "${s.name}": expected a float dtype, got ${t.dtype}`);
    }
    for (const name of tensors.keys()) if (name.startsWith(FUSION_PREFIX) && !known.has(name)) problems.push(`unexpected tensor "${name}" (not implied by duet_fusion)`);
    if (problems.length) throw new FusionWeightsError(problems);
    return new FusionHead(cfg, dims, (s) => {
      const arr = toTypedArray(tensors.get(s.name)!);
      return arr instanceof Float32Array ? arr : Float32Array.from(arr as ArrayLike<number>);
    });
  }

  private param = (name: string): tf.Tensor => {
    if (this.disposed) throw new Error('FusionHead: used after dispose()');
    const v = this.vars.get(name);
    if (!v) throw new Error(`FusionHead: no parameter "${name}"`);
    return v;
  };

  private ln(x: tf.Tensor, name: string): tf.Tensor {
    return layerNorm(x, this.param(`${name}.weight`), this.param(`${name}.bias`), this.config.layer_norm_eps);
  }

  private lin(x: tf.Tensor, name: string): tf.Tensor {
    return linear(x, this.param(`${name}.weight`), this.param(`${name}.bias`));
  }

  private mlp(x: tf.Tensor, name: string): tf.Tensor {
    return this.lin(activation(this.config.hidden_act, 'duet_fusion.hidden_act')(this.lin(x, `${name}.fc1`)), `${name}.fc2`);
  }

  /** [Nv, D]: prefix tokens' own rows, then row_embedding[r] + col_embedding[c] for patch (r, c), row-major. */
  private visionPositions(): tf.Tensor {
    const g = this.dims.visionGrid!;
    const grid = tf.add(this.param('fusion.vision_row_embedding').expandDims(1), this.param('fusion.vision_col_embedding').expandDims(0)).reshape([g * g, this.config.hidden_size]); // [g, 1, D] + [1, g, D] -> [g², D]
    return this.dims.visionTokens! > g * g ? tf.concat([this.param('fusion.vision_prefix_embedding'), grid], 0) : grid;
  }

  private classify(pooled: tf.Tensor): tf.Tensor2D {
    const act = activation(this.config.hidden_act, 'duet_fusion.hidden_act');
    return this.lin(act(this.lin(pooled, 'fusion.head.dense')), 'fusion.head.out_proj') as tf.Tensor2D;
  }

  /** Cross-attention fusion over token sequences. */
  forward(inputs: TokenInputs, opts: { outputAttentions?: boolean } = {}): FusionOutput {
    if (this.config.type !== 'cross_attention') throw new Error(`FusionHead.forward: this head is "${this.config.type}"; use forwardPooled(imageFeatures, textFeatures)`);
    checkTokens(inputs, this.dims, this.config.position_embeddings);
    const c = this.config;
    const run = () => {
      const [b] = inputs.visionTokens.shape;
      let v = this.lin(inputs.visionTokens, 'fusion.vision_proj'); // [B, Nv, D]
      let t = this.lin(inputs.textTokens, 'fusion.text_proj'); // [B, Nt, D]
      if (c.position_embeddings) {
        v = tf.add(v, this.visionPositions()); // [B, Nv, D] + [Nv, D]
        t = tf.add(t, this.param('fusion.text_position_embedding').slice([0, 0], [t.shape[1]!, -1])); // [B, Nt, D] + [Nt, D]
      }
      if (c.pooled === 'cls') v = tf.concat([tf.tile(this.param('fusion.cls_token'), [b, 1, 1]), v], 1); // [B, 1+Nv, D]
      const textMask = inputs.attentionMask ? additiveKeyMask(inputs.attentionMask) : undefined; // [B, 1, 1, Nt]
      const attentions: BlockAttention[] = [];
      for (let i = 0; i < c.num_blocks; i++) {
        const p = `fusion.blocks.${i}.`;
        // Both directions read the block's inputs (co-attention), so their order does not matter.
        const va = multiHeadAttention(this.param, `${p}cross_attn`, this.ln(v, `${p}cross_attn_layer_norm_q`), this.ln(t, `${p}cross_attn_layer_norm_kv`), c.num_heads, textMask);
        const rec: BlockAttention = { visionToText: va.probs };
        if (c.symmetric) {
          const ta = multiHeadAttention(this.param, `${p}text_cross_attn`, this.ln(t, `${p}text_cross_attn_layer_norm_q`), this.ln(v, `${p}text_cross_attn_layer_norm_kv`), c.num_heads);
          rec.textToVision = ta.probs;
          t = tf.add(t, ta.out);
          t = tf.add(t, this.mlp(this.ln(t, `${p}text_mlp_layer_norm`), `${p}text_mlp`));
        }
        v = tf.add(v, va.out);
        if (c.self_attention) {
          const x = this.ln(v, `${p}self_attn_layer_norm`);
          v = tf.add(v, multiHeadAttention(this.param, `${p}self_attn`, x, x, c.num_heads).out);
        }
        v = tf.add(v, this.mlp(this.ln(v, `${p}mlp_layer_norm`), `${p}mlp`));
        attentions.push(rec);
      }
      v = this.ln(v, 'fusion.post_layernorm');
      let pooled = (c.pooled === 'cls' ? v.slice([0, 0, 0], [-1, 1, -1]).reshape([b, c.hidden_size]) : tf.mean(v, 1)) as tf.Tensor2D; // [B, D]
      if (c.symmetric) {
        // The text stream's masked mean joins the pool, so the text→vision direction reaches the answer.
        t = this.ln(t, 'fusion.text_post_layernorm');
        const m = inputs.attentionMask ? tf.cast(inputs.attentionMask, 'float32').expandDims(-1) : tf.onesLike(t.slice([0, 0, 0], [-1, -1, 1])); // [B, Nt, 1]
        const textPool = tf.div(tf.sum(tf.mul(t, m), 1), tf.maximum(tf.sum(m, 1), 1)); // [B, D]
        pooled = tf.concat([pooled, textPool], 1) as tf.Tensor2D; // [B, 2D]
      }
      const out: FusionOutput = { logits: this.classify(pooled), pooled };
      if (opts.outputAttentions) out.attentions = attentions;
      return out;
    };
    return tf.tidy(run as unknown as () => tf.TensorContainer) as unknown as FusionOutput;
  }

  /** Late fusion: MLP on [imageEmbeds; textEmbeds] (L2-normalised when config.normalize). */
  forwardPooled(inputs: PooledInputs): FusionOutput {
    if (this.config.type !== 'late_fusion') throw new Error(`FusionHead.forwardPooled: this head is "${this.config.type}"; use forward({ visionTokens, textTokens, attentionMask })`);
    const { imageFeatures: img, textFeatures: txt } = inputs;
    const e = this.dims.embed;
    if (img.rank !== 2 || img.shape[1] !== e) throw new Error(`imageFeatures: expected [B, ${e}], got ${shapeStr(img.shape)}`);
    if (txt.rank !== 2 || txt.shape[1] !== e || txt.shape[0] !== img.shape[0]) throw new Error(`textFeatures: expected [${img.shape[0]}, ${e}], got ${shapeStr(txt.shape)}`);
    return tf.tidy(() => {
      const norm = (x: tf.Tensor) => (this.config.normalize ? l2Normalize(x) : x);
      const pooled = tf.concat([norm(img), norm(txt)], 1) as tf.Tensor2D; // [B, 2E]
      return { logits: this.classify(pooled), pooled };
    }) as unknown as FusionOutput;
  }

  /** Every fusion tensor by name (`fusion.*`). */
  namedVariables(): Map<string, tf.Variable> {
    return new Map(this.vars);
  }

  trainableVariables(): tf.Variable[] {
    return [...this.vars.values()];
  }

  parameterCount(): number {
    return this.specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
  }

  /** Float32 tensors for model.safetensors. */
  toTensors(): Map<string, RawTensor> {
    const out = new Map<string, RawTensor>();
    for (const s of this.specs) out.set(s.name, fromFloat32(Float32Array.from(this.vars.get(s.name)!.dataSync() as Float32Array), [...s.shape]));
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    for (const v of this.vars.values()) v.dispose();
    this.disposed = true;
  }
}

function checkTokens(i: TokenInputs, dims: TowerDims, positions: boolean): void {
  const { visionTokens: v, textTokens: t, attentionMask: m } = i;
  if (v.rank !== 3 || v.shape[2] !== dims.vision) throw new Error(`visionTokens: expected [B, Nv, ${dims.vision}], got ${shapeStr(v.shape)}`);
  if (t.rank !== 3 || t.shape[2] !== dims.text || t.shape[0] !== v.shape[0]) throw new Error(`textTokens: expected [${v.shape[0]}, Nt, ${dims.text}], got ${shapeStr(t.shape)}`);
  if (m && (m.rank !== 2 || m.shape[0] !== t.shape[0] || m.shape[1] !== t.shape[1])) throw new Error(`attentionMask: expected [${t.shape[0]}, ${t.shape[1]}], got ${shapeStr(m.shape)}`);
  if (!positions) return;
  // The position tables are indexed by token position: another image size would silently shift every location.
  if (v.shape[1] !== dims.visionTokens) throw new Error(`visionTokens: this head's position embeddings cover ${dims.visionTokens} vision tokens, got ${v.shape[1]} (another image or patch size than the towers' config?)`);
  if (t.shape[1]! > dims.textTokens!) throw new Error(`textTokens: this head's position embeddings cover at most ${dims.textTokens} text tokens, got ${t.shape[1]}`);
}

// Parameter names and shapes of a fusion head, derived from its config and the tower widths. Names mirror HF
// conventions (Linear weight [out, in], LayerNorm weight/bias) under the `fusion.` prefix.
import type { FusionConfig } from './config.js';

export interface TowerDims {
  /** Width of the vision tower's last hidden state (tokens). */
  vision: number;
  /** Width of the text tower's last hidden state (tokens). */
  text: number;
  /** Embedding dim of the pooled features (late fusion). */
  embed: number;
  /** Tokens of the vision tower's last hidden state (ViT: class token if any, then patches; ResNet: final map cells). */
  visionTokens?: number;
  /** Side of the square patch grid (the last visionGrid² vision tokens, row-major); the tokens before it are prefix tokens. */
  visionGrid?: number;
  /** The text tower's context length (its max_position_embeddings). */
  textTokens?: number;
}

export interface FusionParamSpec {
  name: string;
  shape: number[];
  /** 'normal': linear weight (std from fan-in); 'embedding': a lookup table (N(0, 1) under fan-in init, as torch's nn.Embedding). */
  init: 'normal' | 'embedding' | 'zeros' | 'ones';
}

const linear = (name: string, out: number, inp: number): FusionParamSpec[] => [
  { name: `${name}.weight`, shape: [out, inp], init: 'normal' },
  { name: `${name}.bias`, shape: [out], init: 'zeros' },
];
const norm = (name: string, d: number): FusionParamSpec[] => [
  { name: `${name}.weight`, shape: [d], init: 'ones' },
  { name: `${name}.bias`, shape: [d], init: 'zeros' },
];
const attention = (name: string, d: number): FusionParamSpec[] => ['q_proj', 'k_proj', 'v_proj', 'out_proj'].flatMap((p) => linear(`${name}.${p}`, d, d));

export const mlpWidth = (c: FusionConfig): number => Math.round(c.hidden_size * c.mlp_ratio);

/** Every fusion tensor (all trainable), in a stable order. */
export function fusionParamSpecs(c: FusionConfig, dims: TowerDims): FusionParamSpec[] {
  const d = c.hidden_size;
  const headIn = c.type === 'late_fusion' ? 2 * dims.embed : c.symmetric ? 2 * d : d;
  const head = [...linear('fusion.head.dense', d, headIn), ...linear('fusion.head.out_proj', c.answer_vocab.length, d)];
  if (c.type === 'late_fusion') return head;
  const m = mlpWidth(c);
  const specs: FusionParamSpec[] = [...linear('fusion.vision_proj', d, dims.vision), ...linear('fusion.text_proj', d, dims.text)];
  if (c.position_embeddings) {
    const { visionTokens: nv, visionGrid: g, textTokens: nt } = dims;
    if (!nv || !g || !nt) throw new Error('duet_fusion.position_embeddings: the tower token counts (TowerDims.visionTokens / visionGrid / textTokens) are needed to size the tables');
    if (nv < g * g) throw new Error(`duet_fusion.position_embeddings: ${nv} vision tokens cannot hold a ${g}×${g} patch grid`);
    // Row + column tables (factorised 2D): "left of" compares columns, which a table per cell would have to learn apart.
    specs.push({ name: 'fusion.vision_row_embedding', shape: [g, d], init: 'embedding' }, { name: 'fusion.vision_col_embedding', shape: [g, d], init: 'embedding' });
    if (nv > g * g) specs.push({ name: 'fusion.vision_prefix_embedding', shape: [nv - g * g, d], init: 'embedding' });
    specs.push({ name: 'fusion.text_position_embedding', shape: [nt, d], init: 'embedding' });
  }
  if (c.pooled === 'cls') specs.push({ name: 'fusion.cls_token', shape: [1, 1, d], init: 'normal' });
  for (let i = 0; i < c.num_blocks; i++) {
    const p = `fusion.blocks.${i}.`;
    specs.push(...norm(`${p}cross_attn_layer_norm_q`, d), ...norm(`${p}cross_attn_layer_norm_kv`, d), ...attention(`${p}cross_attn`, d));
    if (c.symmetric) specs.push(...norm(`${p}text_cross_attn_layer_norm_q`, d), ...norm(`${p}text_cross_attn_layer_norm_kv`, d), ...attention(`${p}text_cross_attn`, d));
    if (c.self_attention) specs.push(...norm(`${p}self_attn_layer_norm`, d), ...attention(`${p}self_attn`, d));
    specs.push(...norm(`${p}mlp_layer_norm`, d), ...linear(`${p}mlp.fc1`, m, d), ...linear(`${p}mlp.fc2`, d, m));
    if (c.symmetric) specs.push(...norm(`${p}text_mlp_layer_norm`, d), ...linear(`${p}text_mlp.fc1`, m, d), ...linear(`${p}text_mlp.fc2`, d, m));
  }
  specs.push(...norm('fusion.post_layernorm', d));
  if (c.symmetric) specs.push(...norm('fusion.text_post_layernorm', d));
  specs.push(...head);
  return specs;
}

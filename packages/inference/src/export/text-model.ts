// Text tower graph (HF CLIPTextModelWithProjection / SiglipTextModel): input_ids, attention_mask -> text_embeds
// (un-normalised, = get_text_features). Dynamic batch and sequence length (<= max_position_embeddings).
import { isSiglipConfig, type ModelConfig } from '@duet/model-format';
import { GraphBuilder, type WeightFormat } from './graph-builder.js';
import { MASK_MIN, encoder, layerNorm, linear } from './layers.js';
import type { Weights } from './weights.js';

export function buildTextModel(config: ModelConfig, w: Weights, format: WeightFormat = 'fp32'): Uint8Array {
  const g = new GraphBuilder(format, 'text_model');
  const t = config.text_config;
  const siglip = isSiglipConfig(config);
  const D = t.hidden_size;
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', 'int64', ['batch_size', 'sequence_length']);

  const tok = w.get('text_model.embeddings.token_embedding.weight', [t.vocab_size, D]);
  const pos = w.get('text_model.embeddings.position_embedding.weight', [t.max_position_embeddings, D]);
  const seqLen = g.op('Slice', [g.op('Shape', [ids]), g.constI64([1]), g.constI64([2])]); // [1] = L
  const posL = g.op('Slice', [g.weight('pos_emb', pos.data, pos.shape, 0), g.constI64([0]), seqLen, g.constI64([0])]); // [L, D]
  let x = g.op('Add', [g.op('Gather', [g.weight('tok_emb', tok.data, tok.shape, 0), ids], { axis: 0 }), posL]); // [B, L, D]

  // Keys allowed: attention_mask (padding) and, for CLIP, causal (j <= i). Combined as booleans, then one additive mask.
  let allowed = g.op('Unsqueeze', [g.op('Cast', [mask], { to: 9 }), g.constI64([1, 2])]); // [B, 1, 1, L]
  if (!siglip) {
    const r = g.op('Range', [g.constI64([0], []), g.op('Squeeze', [seqLen, g.constI64([0])]), g.constI64([1], [])]); // [L]
    const causal = g.op('LessOrEqual', [g.op('Unsqueeze', [r, g.constI64([0])]), g.op('Unsqueeze', [r, g.constI64([1])])]); // [L, L] j <= i
    allowed = g.op('And', [allowed, causal]); // [B, 1, L, L]
  }
  const additive = g.op('Where', [allowed, g.constF([0], []), g.constF([MASK_MIN], [])]);
  const dims = { hidden: D, heads: t.num_attention_heads, act: t.hidden_act, eps: t.layer_norm_eps };
  x = encoder(g, w, x, 'text_model', t.num_hidden_layers, dims, additive);
  x = layerNorm(g, w, x, 'text_model.final_layer_norm', t.layer_norm_eps); // [B, L, D]

  let pooled: string;
  if (siglip) {
    // SigLIP pools the last position (inputs are padded to max_length), then the head Linear.
    const last = g.op('Gather', [x, g.constI64([-1], [])], { axis: 1 }); // [B, D]
    pooled = linear(g, w, last, 'text_model.head');
  } else {
    // CLIP pools the (first) EOS token; legacy configs with eos_token_id == 2 use the max token id (HF behaviour).
    const eos = t.eos_token_id;
    const key = eos === 2 || eos === null ? g.op('Cast', [ids], { to: 6 }) : g.op('Cast', [g.op('Equal', [ids, g.constI64([eos], [])])], { to: 6 });
    const idx = g.op('ArgMax', [key], { axis: 1, keepdims: 1, select_last_index: 0 }); // [B, 1]
    const row = g.op('GatherND', [x, idx], { batch_dims: 1 }); // [B, D]
    const p = config.projection_dim;
    pooled = linear(g, w, row, 'text_projection', { bias: false });
    void p;
  }
  g.output(pooled, 'text_embeds', 'float32', ['batch_size', embedWidth(config)]);
  return g.toBytes(`duet text tower (${config.model_type})`);
}

function embedWidth(config: ModelConfig): number {
  return isSiglipConfig(config) ? config.text_config.projection_size : config.projection_dim;
}

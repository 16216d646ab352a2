// The HF parameter names and shapes a config implies (CLIPModel / SiglipModel state dicts), used to check that a
// folder's config matches its weights. ResNet towers and fusion heads are Duet extensions: only their presence is checked.
import { isSiglipConfig, visionTower, type ModelConfig } from './config.js';

type Shapes = Map<string, number[]>;

function encoderLayers(out: Shapes, prefix: string, layers: number, d: number, ff: number): void {
  for (let i = 0; i < layers; i++) {
    const p = `${prefix}.encoder.layers.${i}`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      out.set(`${p}.self_attn.${proj}.weight`, [d, d]);
      out.set(`${p}.self_attn.${proj}.bias`, [d]);
    }
    for (const ln of ['layer_norm1', 'layer_norm2']) {
      out.set(`${p}.${ln}.weight`, [d]);
      out.set(`${p}.${ln}.bias`, [d]);
    }
    out.set(`${p}.mlp.fc1.weight`, [ff, d]);
    out.set(`${p}.mlp.fc1.bias`, [ff]);
    out.set(`${p}.mlp.fc2.weight`, [d, ff]);
    out.set(`${p}.mlp.fc2.bias`, [d]);
  }
}

function layerNorm(out: Shapes, name: string, d: number): void {
  out.set(`${name}.weight`, [d]);
  out.set(`${name}.bias`, [d]);
}

/** Expected tensor shapes for the parts of the model HF defines (text tower, ViT tower, projections, logit params). */
export function expectedTensors(config: ModelConfig): Shapes {
  const out: Shapes = new Map();
  const t = config.text_config;
  out.set('text_model.embeddings.token_embedding.weight', [t.vocab_size, t.hidden_size]);
  out.set('text_model.embeddings.position_embedding.weight', [t.max_position_embeddings, t.hidden_size]);
  encoderLayers(out, 'text_model', t.num_hidden_layers, t.hidden_size, t.intermediate_size);
  layerNorm(out, 'text_model.final_layer_norm', t.hidden_size);
  const v = config.vision_config;
  const vit = visionTower(config) === 'vit';
  const grid = Math.floor(v.image_size / v.patch_size);
  if (isSiglipConfig(config)) {
    const st = config.text_config;
    out.set('text_model.head.weight', [st.projection_size, st.hidden_size]);
    out.set('text_model.head.bias', [st.projection_size]);
    out.set('logit_scale', [1]);
    out.set('logit_bias', [1]);
    if (vit) {
      const sv = config.vision_config;
      out.set('vision_model.embeddings.patch_embedding.weight', [sv.hidden_size, sv.num_channels, sv.patch_size, sv.patch_size]);
      out.set('vision_model.embeddings.patch_embedding.bias', [sv.hidden_size]);
      out.set('vision_model.embeddings.position_embedding.weight', [grid * grid, sv.hidden_size]);
      encoderLayers(out, 'vision_model', sv.num_hidden_layers, sv.hidden_size, sv.intermediate_size);
      layerNorm(out, 'vision_model.post_layernorm', sv.hidden_size);
      if (sv.vision_use_head !== false) {
        const d = sv.hidden_size;
        out.set('vision_model.head.probe', [1, 1, d]);
        out.set('vision_model.head.attention.in_proj_weight', [3 * d, d]);
        out.set('vision_model.head.attention.in_proj_bias', [3 * d]);
        out.set('vision_model.head.attention.out_proj.weight', [d, d]);
        out.set('vision_model.head.attention.out_proj.bias', [d]);
        layerNorm(out, 'vision_model.head.layernorm', d);
        out.set('vision_model.head.mlp.fc1.weight', [sv.intermediate_size, d]);
        out.set('vision_model.head.mlp.fc1.bias', [sv.intermediate_size]);
        out.set('vision_model.head.mlp.fc2.weight', [d, sv.intermediate_size]);
        out.set('vision_model.head.mlp.fc2.bias', [d]);
      }
    }
  } else {
    const p = config.projection_dim;
    out.set('text_projection.weight', [p, t.hidden_size]);
    out.set('logit_scale', []);
    if (vit) {
      const cv = config.vision_config;
      out.set('visual_projection.weight', [p, cv.hidden_size]);
      out.set('vision_model.embeddings.class_embedding', [cv.hidden_size]);
      out.set('vision_model.embeddings.patch_embedding.weight', [cv.hidden_size, cv.num_channels, cv.patch_size, cv.patch_size]);
      out.set('vision_model.embeddings.position_embedding.weight', [grid * grid + 1, cv.hidden_size]);
      layerNorm(out, 'vision_model.pre_layrnorm', cv.hidden_size);
      encoderLayers(out, 'vision_model', cv.num_hidden_layers, cv.hidden_size, cv.intermediate_size);
      layerNorm(out, 'vision_model.post_layernorm', cv.hidden_size);
    }
  }
  return out;
}

export interface TensorCheck {
  errors: string[];
  warnings: string[];
}

/** Compares a folder's tensors (name -> shape) with what its config implies. */
export function checkTensorsAgainstConfig(config: ModelConfig, shapes: Map<string, readonly number[]>): TensorCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  const expected = expectedTensors(config);
  for (const [name, shape] of expected) {
    const got = shapes.get(name);
    // HF accepts logit_scale stored as [] or [1] alike.
    const same = got && (got.length === shape.length && got.every((d, i) => d === shape[i])
      || (name.startsWith('logit_') && got.reduce((a, d) => a * d, 1) === 1));
    if (!got) errors.push(`missing tensor "${name}" (config implies shape ${JSON.stringify(shape)})`);
    else if (!same) errors.push(`tensor "${name}": config implies shape ${JSON.stringify(shape)}, file has ${JSON.stringify(got)}`);
  }
  const vit = visionTower(config) === 'vit';
  if (!vit && ![...shapes.keys()].some((n) => n.startsWith('vision_model.') || n.startsWith('visual.'))) {
    errors.push(`vision_config.duet_tower is 'resnet' but the file has no vision tensors`);
  }
  for (const name of shapes.keys()) {
    if (expected.has(name)) continue;
    const isTowerExt = !vit && (name.startsWith('vision_model.') || name === 'visual_projection.weight' || name === 'visual_projection.bias');
    if (isTowerExt) continue;
    if (config.duet_fusion !== undefined && name.startsWith('fusion.')) continue;
    warnings.push(`tensor "${name}" is not implied by the config`);
  }
  return { errors, warnings };
}

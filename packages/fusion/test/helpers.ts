// Test helpers: the wasm backend and a very small dual encoder (16×16 images, patch 4, width 32, one layer).
import { createRng, initBackend, registerFallbackKernels, tf } from '@duet/runtime';
import { DualEncoder, getPreset } from '@duet/encoders';

export async function useBackend(backend: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  try {
    await initBackend({ backend });
  } catch (e) {
    if (!(await tf.setBackend(backend))) throw e;
    await tf.ready();
  }
  registerFallbackKernels(backend);
}

export function tinyConfig(family: 'siglip' | 'clip' = 'siglip'): Record<string, unknown> {
  const preset = getPreset(family === 'siglip' ? 'tiny-siglip' : 'tiny-clip') as Record<string, Record<string, unknown>>;
  const tower = { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2 };
  return {
    ...preset,
    ...(family === 'clip' ? { projection_dim: 24 } : {}),
    vision_config: { ...preset['vision_config'], ...tower, image_size: 16, patch_size: 4 },
    text_config: { ...preset['text_config'], ...tower, max_position_embeddings: 12, ...(family === 'siglip' ? { projection_size: 24 } : {}) },
  };
}

export function tinyEncoder(family: 'siglip' | 'clip' = 'siglip', seed = 0): DualEncoder {
  return DualEncoder.create(tinyConfig(family), { seed });
}

export function randomPixels(b: number, size = 16, seed = 1): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: b * 3 * size * size }, () => rng.normal()), [b, 3, size, size]);
}

export function randomIds(b: number, l: number, vocab: number, seed = 2): tf.Tensor2D {
  const rng = createRng(seed);
  return tf.tensor2d(Int32Array.from({ length: b * l }, () => 2 + rng.int(vocab - 2)), [b, l], 'int32');
}

/** A 0/1 mask [B, L] whose row i keeps lengths[i] leading tokens. */
export function lengthMask(lengths: number[], l: number): tf.Tensor2D {
  return tf.tensor2d(Int32Array.from(lengths.flatMap((n) => Array.from({ length: l }, (_, j) => (j < n ? 1 : 0)))), [lengths.length, l], 'int32');
}

// Bad input fails early with a message naming the input or tensor, never deep inside tfjs.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@duet/runtime';
import { fromFloat32 } from '@duet/model-format';
import { DualEncoder, EncoderInputError, WeightsMismatchError } from './index.js';
import { loadFixture, randomIds, randomPixels, useBackend } from '../test/helpers.js';

let model: DualEncoder;
let fx: ReturnType<typeof loadFixture>;

beforeAll(async () => {
  await useBackend('wasm');
  fx = loadFixture('tiny-clip');
  model = DualEncoder.fromTensors(fx.config, fx.weights);
});

describe('input validation', () => {
  it('pixelValues: wrong layout, size, rank and dtype', () => {
    const nhwc = tf.zeros([2, 32, 32, 3]) as tf.Tensor4D;
    expect(() => model.encodeImage(nhwc)).toThrow(/pixelValues: expected \[B, 3, 32, 32\] \(NCHW\), got \[2, 32, 32, 3\]/);
    const small = tf.zeros([2, 3, 28, 28]) as tf.Tensor4D;
    expect(() => model.encodeImage(small)).toThrow(/pixelValues: expected \[B, 3, 32, 32\].*got \[2, 3, 28, 28\]/);
    const r3 = tf.zeros([3, 32, 32]) as unknown as tf.Tensor4D;
    expect(() => model.encodeImage(r3)).toThrow(EncoderInputError);
    const ints = tf.zeros([1, 3, 32, 32], 'int32') as tf.Tensor4D;
    expect(() => model.encodeImage(ints)).toThrow(/pixelValues: expected dtype float32, got int32/);
    expect(() => model.encodeImage(new Float32Array(3) as unknown as tf.Tensor4D)).toThrow(/pixelValues: expected a tf.Tensor/);
    tf.dispose([nhwc, small, r3, ints]);
  });

  it('inputIds: dtype, rank, length, vocabulary range; attentionMask shape', () => {
    const f = tf.zeros([2, 5]) as tf.Tensor2D;
    expect(() => model.encodeText(f)).toThrow(/inputIds: expected dtype int32, got float32/);
    const big = tf.tensor2d([[1, 2, 512]], [1, 3], 'int32');
    expect(() => model.encodeText(big)).toThrow(/inputIds: ids must lie in \[0, 511\] \(vocab_size 512\), got values in \[1, 512\]/);
    const neg = tf.tensor2d([[-1, 2]], [1, 2], 'int32');
    expect(() => model.encodeText(neg)).toThrow(/inputIds: ids must lie in \[0, 511\]/);
    const long = randomIds(1, 17, 500);
    expect(() => model.encodeText(long)).toThrow(/inputIds: sequence length 17 exceeds max_position_embeddings 16/);
    const r1 = tf.tensor1d([1, 2], 'int32') as unknown as tf.Tensor2D;
    expect(() => model.encodeText(r1)).toThrow(/inputIds: expected \[B, L\]/);
    const ids = randomIds(2, 5, 500);
    const mask = tf.ones([2, 4], 'int32') as tf.Tensor2D;
    expect(() => model.encodeText(ids, mask)).toThrow(/attentionMask: expected the shape of inputIds \[2, 5\], got \[2, 4\]/);
    tf.dispose([f, big, neg, long, r1, ids, mask]);
  });

  it('leaves no tensors behind when it rejects input', () => {
    const before = tf.memory().numTensors;
    const big = tf.tensor2d([[1, 2, 999]], [1, 3], 'int32');
    const px = randomPixels(1, 3, 32);
    expect(() => model.forward({ inputIds: big, pixelValues: px })).toThrow(EncoderInputError);
    tf.dispose([big, px]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('config / weights mismatch', () => {
  it('reports missing, unexpected and mis-shaped tensors by name, all at once', () => {
    const w = new Map(fx.weights);
    w.delete('text_model.final_layer_norm.bias');
    w.set('vision_model.extra.weight', fromFloat32(new Float32Array(4), [4]));
    w.set('visual_projection.weight', fromFloat32(new Float32Array(64 * 31), [31, 64]));
    let err: unknown;
    try {
      DualEncoder.fromTensors(fx.config, w);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeightsMismatchError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/missing tensor "text_model.final_layer_norm.bias" \(expected \[64\]\)/);
    expect(msg).toMatch(/unexpected tensor "vision_model.extra.weight"/);
    expect(msg).toMatch(/tensor "visual_projection.weight": expected shape \[32, 64\], got \[31, 64\]/);
    expect((err as WeightsMismatchError).problems).toHaveLength(3);
  });

  it('a config that disagrees with the weights (layers, width) fails naming tensors', () => {
    const cfg = structuredClone(fx.config) as { text_config: Record<string, unknown> };
    cfg.text_config.num_hidden_layers = 3;
    expect(() => DualEncoder.fromTensors(cfg, fx.weights)).toThrow(/missing tensor "text_model.encoder.layers.2.self_attn.q_proj.weight"/);
    const cfg2 = structuredClone(fx.config) as { vision_config: Record<string, unknown> };
    cfg2.vision_config.patch_size = 4;
    expect(() => DualEncoder.fromTensors(cfg2, fx.weights)).toThrow(/"vision_model.embeddings.position_embedding.weight": expected shape \[65, 64\], got \[17, 64\]/);
  });

  it('accepts HF buffers it does not use (position_ids) and rejects integer weights', () => {
    const w = new Map(fx.weights);
    w.set('text_model.embeddings.position_ids', { dtype: 'I64', shape: [1, 16], data: new Uint8Array(128) });
    const m = DualEncoder.fromTensors(fx.config, w);
    m.dispose();
    w.set('logit_scale', { dtype: 'I32', shape: [], data: new Uint8Array(4) });
    expect(() => DualEncoder.fromTensors(fx.config, w)).toThrow(/tensor "logit_scale": expected a float dtype, got I32/);
  });

  it('unknown activation and invalid configs are named', () => {
    const cfg = structuredClone(fx.config) as { vision_config: Record<string, unknown> };
    cfg.vision_config.hidden_act = 'mish2';
    expect(() => DualEncoder.create(cfg)).toThrow(/vision_config.hidden_act: unsupported activation "mish2"/);
    expect(() => DualEncoder.create({ model_type: 'bert' })).toThrow(/model_type: expected "clip" or "siglip"/);
  });
});

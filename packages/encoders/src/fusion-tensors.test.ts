// A model folder may carry a fusion head (config duet_fusion, tensors under `fusion.`): the dual encoder loads its
// own part and leaves those to @duet/fusion, but stays strict about everything else.
import { beforeAll, describe, expect, it } from 'vitest';
import { fromFloat32 } from '@duet/model-format';
import { DualEncoder, WeightsMismatchError, getPreset } from './index.js';
import { useBackend } from '../test/helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const extra = fromFloat32(new Float32Array(4), [2, 2]);

describe('fusion tensors in the same file', () => {
  it('are ignored when the config declares duet_fusion; the towers load unchanged', () => {
    const base = DualEncoder.create(getPreset('tiny-siglip'), { seed: 1 });
    const tensors = base.toTensors();
    tensors.set('fusion.head.out_proj.weight', extra);
    const loaded = DualEncoder.fromTensors({ ...base.config, duet_fusion: { type: 'cross_attention' } }, tensors);
    expect(loaded.namedVariables().has('fusion.head.out_proj.weight')).toBe(false);
    expect(loaded.toTensors().get('logit_scale')!.data).toEqual(tensors.get('logit_scale')!.data);
    base.dispose();
    loaded.dispose();
  });

  it('are rejected without duet_fusion, and other unexpected names are rejected even with it', () => {
    const base = DualEncoder.create(getPreset('tiny-siglip'), { seed: 1 });
    const tensors = base.toTensors();
    tensors.set('fusion.head.out_proj.weight', extra);
    expect(() => DualEncoder.fromTensors(base.config, tensors)).toThrow(/unexpected tensor "fusion\.head\.out_proj\.weight"/);
    tensors.set('head.out_proj.weight', extra);
    let err: unknown;
    try {
      DualEncoder.fromTensors({ ...base.config, duet_fusion: {} }, tensors);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeightsMismatchError);
    expect((err as WeightsMismatchError).problems).toEqual(['unexpected tensor "head.out_proj.weight" (not implied by the config)']);
    base.dispose();
  });
});

// Parity with HF transformers 5.17 (../shared/fixtures/hf-reference): every output in reference_io, relative
// error = max|ours - ref| / max|ref| per tensor, must be <= 1e-4. In transformers v5 the pooler_output of
// CLIPModel/SiglipModel outputs is the projected (un-normalised) feature, i.e. get_*_features = encodeText/encodeImage.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '@duet/runtime';
import { DualEncoder } from './index.js';
import { ioFloat, ioInt, loadFixture, relError, useBackend } from '../test/helpers.js';

const TOL = 1e-4;

for (const [name, backend] of [['tiny-clip', 'wasm'], ['tiny-siglip', 'wasm'], ['tiny-clip', 'cpu'], ['tiny-siglip', 'cpu']] as const) {
  describe(`${name} parity with HF on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend);
    });

    it('matches every reference output', () => {
      const fx = loadFixture(name);
      const model = DualEncoder.fromTensors(fx.config, fx.weights);
      const inputIds = ioInt(fx.io, 'input_ids');
      // SigLIP's reference ran without a mask (as SigLIP is used); CLIP's with its padding mask.
      const attentionMask = name === 'tiny-clip' ? ioInt(fx.io, 'attention_mask') : undefined;
      const px = ioFloat(fx.io, 'pixel_values');
      const pixelValues = tf.tensor4d(px.data, px.shape as [number, number, number, number]);
      const out = model.forward({ inputIds, pixelValues, ...(attentionMask ? { attentionMask } : {}) }, { outputHiddenStates: true });
      const ours: Record<string, tf.Tensor> = {
        text_last_hidden_state: out.textLastHiddenState!,
        vision_last_hidden_state: out.visionLastHiddenState!,
        text_pooler_output: out.textFeatures!,
        vision_pooler_output: out.imageFeatures!,
        text_embeds: out.textEmbeds,
        image_embeds: out.imageEmbeds,
        logits_per_image: out.logitsPerImage,
        logits_per_text: out.logitsPerText,
      };
      const errors: Record<string, number> = {};
      for (const [key, t] of Object.entries(ours)) {
        const ref = ioFloat(fx.io, key);
        expect(t.shape, key).toEqual(ref.shape);
        errors[key] = relError(t.dataSync(), ref.data);
      }
      console.log(`${name} (${backend}) max relative error per output:`, JSON.stringify(errors));
      for (const [key, e] of Object.entries(errors)) expect(e, key).toBeLessThanOrEqual(TOL);
      // encodeText / encodeImage are HF get_text_features / get_image_features = the pooler outputs above.
      const tfeat = model.encodeText(inputIds, attentionMask);
      const ifeat = model.encodeImage(pixelValues);
      expect(relError(tfeat.dataSync(), ioFloat(fx.io, 'text_pooler_output').data)).toBeLessThanOrEqual(TOL);
      expect(relError(ifeat.dataSync(), ioFloat(fx.io, 'vision_pooler_output').data)).toBeLessThanOrEqual(TOL);
      tf.dispose([tfeat, ifeat, inputIds, pixelValues, ...(attentionMask ? [attentionMask] : []), ...Object.values(ours)]);
      model.dispose();
    });
  });
}

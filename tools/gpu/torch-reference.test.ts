// The PyTorch reference must build the same model as @duet/encoders: same HF parameter names and shapes, read
// from the same preset JSON (checked through the script's torch-free --param-shapes mode; needs python3).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getPreset, parameterCount, parameterSpecs, resolveConfig } from '@duet/encoders';
import { reportMarkdown } from './gpu-bench.ts';
import { modelConfig, syntheticBatch } from './step.ts';

const script = fileURLToPath(new URL('./torch_reference.py', import.meta.url));
const presetPath = (name: string) => fileURLToPath(new URL(`../../packages/encoders/src/presets/${name}.json`, import.meta.url));
const torchShapes = (preset: string, loss: string): Record<string, number[]> =>
  JSON.parse(execFileSync('python3', [script, '--param-shapes', '--preset', presetPath(preset), '--loss', loss], { encoding: 'utf8' })) as Record<string, number[]>;

describe('torch_reference.py builds the encoders\' architecture', () => {
  for (const preset of ['ViT-B-32', 'ViT-B-16', 'tiny-clip']) {
    it(`${preset} (CLIP loss): identical HF parameter names and shapes`, () => {
      const ours = Object.fromEntries(parameterSpecs(resolveConfig(getPreset(preset))).map((s) => [s.name, [...s.shape]]));
      expect(torchShapes(preset, 'clip')).toEqual(ours);
    });
  }

  it('ViT-B-32 with the SigLIP loss: the CLIP parameters plus a learnable logit bias; t\' has shape [1]', () => {
    const clip = Object.fromEntries(parameterSpecs(resolveConfig(getPreset('ViT-B-32'))).map((s) => [s.name, [...s.shape]]));
    const siglip = torchShapes('ViT-B-32', 'siglip');
    expect(siglip).toEqual({ ...clip, logit_scale: [1], logit_bias: [1] });
    // open_clip's docs/model_profile.csv: ViT-B-32 has 151.28M parameters.
    expect(Object.values(siglip).reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0)).toBe(parameterCount(resolveConfig(getPreset('ViT-B-32'))).total + 1);
  });

  it('rejects towers it does not implement, naming the field', () => {
    expect(() => execFileSync('python3', [script, '--param-shapes', '--preset', presetPath('tiny-siglip')], { encoding: 'utf8', stdio: 'pipe' })).toThrow(/only CLIP-type ViT\/text towers/);
  });
});

describe('tools/gpu helpers', () => {
  it('synthetic batches end every text row with EOS and use it nowhere else (pooling position = last token)', () => {
    const cfg = modelConfig('tiny-clip', 'siglip');
    const b = syntheticBatch(cfg, 3, 7);
    const eos = (cfg['text_config'] as { eos_token_id: number }).eos_token_id;
    const [n, len] = b.textShape;
    for (let r = 0; r < n; r++) {
      const row = Array.from(b.ids.subarray(r * len, (r + 1) * len));
      expect(row.indexOf(eos)).toBe(len - 1);
    }
    expect(b.pixelShape).toEqual([3, 3, 28, 28]);
  });

  it('the report states samples/s and the ratio to PyTorch eager fp32', () => {
    const md = reportMarkdown(
      { backend: 'webgpu', device: 'GPU', batch: 256, medianMs: 1000, samplesPerS: 256, params: 151_277_314, preset: 'ViT-B-32', loss: 'siglip' },
      { device_name: 'NVIDIA H100', torch: '2.11', batch: 256, modes: [{ mode: 'fp32', median_ms: 200, samples_per_s: 1280 }, { mode: 'tf32-bf16', median_ms: 100, samples_per_s: 2560 }] },
      undefined,
    );
    expect(md).toContain('| Duet (tfjs webgpu, fp32) | GPU | 1000.0 | 256.0 | 0.200 |');
    expect(md).toContain('| PyTorch 2.11 eager tf32-bf16 | NVIDIA H100 | 100.0 | 2560.0 | 2.000 |');
  });
});

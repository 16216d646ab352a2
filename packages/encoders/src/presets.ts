// Model presets as data (HF config.json shape, Duet extensions under duet_* keys); see ./presets/*.json.
import rn50 from './presets/RN50.json' with { type: 'json' };
import vitB16Siglip from './presets/ViT-B-16-SigLIP.json' with { type: 'json' };
import vitB16 from './presets/ViT-B-16.json' with { type: 'json' };
import vitB32 from './presets/ViT-B-32.json' with { type: 'json' };
import tinyClip from './presets/tiny-clip.json' with { type: 'json' };
import tinyResnet from './presets/tiny-resnet.json' with { type: 'json' };
import tinySiglip from './presets/tiny-siglip.json' with { type: 'json' };

const PRESETS: Record<string, unknown> = {
  'tiny-clip': tinyClip,
  'tiny-siglip': tinySiglip,
  'tiny-resnet': tinyResnet,
  'ViT-B-32': vitB32,
  'ViT-B-16': vitB16,
  'ViT-B-16-SigLIP': vitB16Siglip,
  RN50: rn50,
};

export function listPresets(): string[] {
  return Object.keys(PRESETS);
}

/** A fresh copy of a preset's config.json object. */
export function getPreset(name: string): Record<string, unknown> {
  const p = PRESETS[name];
  if (!p) throw new Error(`getPreset: unknown preset ${JSON.stringify(name)}; available: ${listPresets().join(', ')}`);
  return structuredClone(p) as Record<string, unknown>;
}

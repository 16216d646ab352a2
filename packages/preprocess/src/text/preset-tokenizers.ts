// Tokenizers shipped for Duet's presets (assets/<family>/), imported as JSON modules so they bundle for
// browsers and load in Node without file access.
import clipTokenizer from '../../assets/clip/tokenizer.json' with { type: 'json' };
import clipConfig from '../../assets/clip/tokenizer_config.json' with { type: 'json' };
import siglipTokenizer from '../../assets/siglip/tokenizer.json' with { type: 'json' };
import siglipConfig from '../../assets/siglip/tokenizer_config.json' with { type: 'json' };
import type { TokenizerConfig } from './conventions.js';

export interface PresetTokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: TokenizerConfig;
}

/**
 * tokenizer.json + tokenizer_config.json of a preset family: 'clip' (byte-level BPE, 1805 tokens,
 * <|startoftext|> = 0, <|endoftext|> = 1, context 77) or 'siglip' (Unigram, 1454 tokens, </s> = 1, pad
 * </s>, context 64, canonicalised text). Fresh copies: callers may mutate them.
 */
export function presetTokenizer(family: 'clip' | 'siglip'): PresetTokenizerFiles {
  const pick = family === 'clip' ? [clipTokenizer, clipConfig] : family === 'siglip' ? [siglipTokenizer, siglipConfig] : null;
  if (!pick) throw new RangeError(`presetTokenizer: family must be 'clip' or 'siglip', got ${JSON.stringify(family)}`);
  return { tokenizerJson: structuredClone(pick[0]) as Record<string, unknown>, tokenizerConfig: structuredClone(pick[1]) as TokenizerConfig };
}

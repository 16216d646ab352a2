// Tiny servable model folders for tests: the HF tiny-clip / tiny-siglip fixtures (vocab 512) + a tokenizer cut
// down from the HF clip-bpe / siglip-unigram fixtures to that vocabulary (CLIP: specials moved to the config's
// ids) + the family's image processor, exported to ONNX with @duet/inference.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPreprocessorConfig, presetTokenizer } from '@duet/preprocess';
import { exportOnnx } from '@duet/inference/node';

export const HF_REF = join(new URL('.', import.meta.url).pathname, '../../../../../shared/fixtures/hf-reference');
export const TEST_IMAGES = ['astronaut.png', 'chelsea.png'].map((f) => join(HF_REF, 'preprocess', f));

/** clip-bpe restricted to ids < vocabSize - 2, with <|startoftext|>/<|endoftext|> at vocabSize - 2 / - 1. */
function trimmedClipTokenizer(vocabSize: number): { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } {
  const tok = JSON.parse(readFileSync(join(HF_REF, 'tokenizers/clip-bpe.tokenizer.json'), 'utf8'));
  const bos = vocabSize - 2;
  const eos = vocabSize - 1;
  const remap: Record<string, number> = { '<|startoftext|>': bos, '<|endoftext|>': eos };
  const vocab: Record<string, number> = {};
  for (const [t, id] of Object.entries(tok.model.vocab as Record<string, number>)) {
    if (t in remap) vocab[t] = remap[t]!;
    else if (id < bos) vocab[t] = id;
  }
  tok.model.vocab = vocab;
  tok.model.merges = (tok.model.merges as (string | string[])[]).filter((m) => {
    const [a, b] = typeof m === 'string' ? m.split(' ') : m;
    return a! in vocab && b! in vocab && `${a}${b}` in vocab;
  });
  for (const t of tok.added_tokens) t.id = remap[t.content];
  tok.post_processor.cls = ['<|startoftext|>', bos];
  tok.post_processor.sep = ['<|endoftext|>', eos];
  const cfg = presetTokenizer('clip').tokenizerConfig as Record<string, unknown>;
  const decoder = cfg['added_tokens_decoder'] as Record<string, { content: string }>;
  cfg['added_tokens_decoder'] = Object.fromEntries(Object.values(decoder).map((d) => [String(remap[d.content]), d]));
  return { tokenizerJson: tok, tokenizerConfig: cfg };
}

/** siglip-unigram restricted to its first vocabSize pieces (Unigram ids are positions; specials are 0-2). */
function trimmedSiglipTokenizer(vocabSize: number): { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } {
  const tok = JSON.parse(readFileSync(join(HF_REF, 'tokenizers/siglip-unigram.tokenizer.json'), 'utf8'));
  tok.model.vocab = (tok.model.vocab as unknown[]).slice(0, vocabSize);
  return { tokenizerJson: tok, tokenizerConfig: presetTokenizer('siglip').tokenizerConfig as Record<string, unknown> };
}

/** Builds the folder (config, weights, tokenizer, preprocessor, ONNX + golden record) in a fresh temp dir. */
export async function makeTestModelFolder(fixture: 'tiny-clip' | 'tiny-siglip' = 'tiny-clip'): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'duet-api-')), fixture);
  const src = join(HF_REF, fixture);
  const family = fixture === 'tiny-clip' ? 'clip' : 'siglip';
  cpSync(join(src, 'config.json'), join(dir, 'config.json'));
  cpSync(join(src, 'model.safetensors'), join(dir, 'model.safetensors'));
  const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
  const vocab = config.text_config.vocab_size;
  const { tokenizerJson, tokenizerConfig } = family === 'clip' ? trimmedClipTokenizer(vocab) : trimmedSiglipTokenizer(vocab);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify(defaultPreprocessorConfig(family, config.vision_config.image_size)));
  await exportOnnx(dir);
  return dir;
}

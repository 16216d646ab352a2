// Paths to the shared HF reference fixtures (read-only ground truth, outside the repo).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const HF_REF = fileURLToPath(new URL('../../../../../shared/fixtures/hf-reference/', import.meta.url));

export function readJson<T = unknown>(rel: string): T {
  return JSON.parse(readFileSync(HF_REF + rel, 'utf8')) as T;
}

export interface EncodingRow { text: string; clip_bpe_ids: number[]; siglip_unigram_ids: number[] }
export const encodings = (): EncodingRow[] => readJson<EncodingRow[]>('tokenizers/encodings.json');
export const clipTokenizerJson = () => readJson<Record<string, unknown>>('tokenizers/clip-bpe.tokenizer.json');
export const siglipTokenizerJson = () => readJson<Record<string, unknown>>('tokenizers/siglip-unigram.tokenizer.json');

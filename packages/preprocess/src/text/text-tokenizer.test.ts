import { describe, expect, it } from 'vitest';
import { TextTokenizer } from './text-tokenizer.js';
import { presetTokenizer } from './preset-tokenizers.js';
import { clipTokenizerJson, encodings, siglipTokenizerJson } from '../test-util/fixtures.js';

const rows = encodings();
const fx = (text: string, key: 'clip_bpe_ids' | 'siglip_unigram_ids') => rows.find((r) => r.text === text)![key];
const row = (b: { inputIds: Int32Array; attentionMask: Int32Array; shape: [number, number] }, i: number) => ({
  ids: Array.from(b.inputIds.subarray(i * b.shape[1], (i + 1) * b.shape[1])),
  mask: Array.from(b.attentionMask.subarray(i * b.shape[1], (i + 1) * b.shape[1])),
});

describe('parity with the Rust tokenizers library (encodings.json)', () => {
  for (const [name, json, key] of [['clip-bpe', clipTokenizerJson(), 'clip_bpe_ids'], ['siglip-unigram', siglipTokenizerJson(), 'siglip_unigram_ids']] as const) {
    it(`${name}: every fixture text gives exactly the reference ids`, () => {
      const tok = TextTokenizer.fromJSON(json);
      expect(rows.length).toBeGreaterThanOrEqual(13);
      for (const r of rows) expect(tok.encodeIds(r.text), JSON.stringify(r.text)).toEqual(r[key]);
    });

    it(`${name}: batched encode without padding limits reproduces each row, mask all ones`, () => {
      const tok = TextTokenizer.fromJSON(json);
      for (const r of rows) {
        const b = tok.encode([r.text], { padding: 'longest', truncation: false });
        expect(b.shape).toEqual([1, r[key].length]);
        expect(row(b, 0).ids).toEqual(r[key]);
        expect(row(b, 0).mask.every((m) => m === 1)).toBe(true);
      }
    });
  }
});

describe('CLIP conventions (preset tokenizer_config: CLIPTokenizer, 77, pad <|endoftext|>)', () => {
  const { tokenizerJson, tokenizerConfig } = presetTokenizer('clip');
  const tok = TextTokenizer.fromJSON(tokenizerJson, tokenizerConfig);
  const EOT = 1;

  it('pads to the 77-token context with the pad token and masks the padding', () => {
    const text = 'a photo of a cat';
    const b = tok.encode([text, 'numbers 12345 and 3.14']);
    expect(b.shape).toEqual([2, 77]);
    expect(b.inputIds).toBeInstanceOf(Int32Array);
    const ref = fx(text, 'clip_bpe_ids');
    const r0 = row(b, 0);
    expect(r0.ids.slice(0, ref.length)).toEqual(ref);
    expect(r0.ids.slice(ref.length).every((x) => x === EOT)).toBe(true);
    expect(r0.mask).toEqual([...ref.map(() => 1), ...Array(77 - ref.length).fill(0)]);
    expect(row(b, 1).ids.slice(0, fx('numbers 12345 and 3.14', 'clip_bpe_ids').length)).toEqual(fx('numbers 12345 and 3.14', 'clip_bpe_ids'));
  });

  it('truncation keeps the start and end tokens', () => {
    const text = 'a'.repeat(60);
    const ref = fx(text, 'clip_bpe_ids');
    expect(ref.length).toBeGreaterThan(8);
    const b = tok.encode([text, 'a photo of a cat'], { maxLength: 8 });
    expect(b.shape).toEqual([2, 8]);
    expect(row(b, 0).ids).toEqual([...ref.slice(0, 7), EOT]);
    expect(row(b, 0).mask).toEqual(Array(8).fill(1));
    const ref2 = fx('supercalifragilisticexpialidocious', 'clip_bpe_ids');
    expect(row(tok.encode(['supercalifragilisticexpialidocious'], { maxLength: 5 }), 0).ids).toEqual([0, ...ref2.slice(1, 4), EOT]);
  });

  it("padding 'longest' pads to the longest row only", () => {
    const texts = ['a photo of a cat', '', 'emoji 🐱🐶 test'];
    const L = Math.max(...texts.map((t) => fx(t, 'clip_bpe_ids').length));
    const b = tok.encode(texts, { padding: 'longest' });
    expect(b.shape).toEqual([3, L]);
    expect(row(b, 1).ids).toEqual([0, 1, ...Array(L - 2).fill(EOT)]);
    expect(row(b, 1).mask).toEqual([1, 1, ...Array(L - 2).fill(0)]);
  });

  it('caps the context at the model text_config.max_position_embeddings', () => {
    const t16 = TextTokenizer.fromJSON(tokenizerJson, tokenizerConfig, { modelConfig: { text_config: { max_position_embeddings: 16 } } });
    expect(t16.conventions.maxLength).toBe(16);
    expect(t16.encode(['a photo of a cat']).shape).toEqual([1, 16]);
    expect(() => t16.encode(['x'], { maxLength: 32 })).toThrow(/exceeds the model's 16 text positions/);
  });

  it('honours padding_side / truncation_side left from tokenizer_config', () => {
    const left = TextTokenizer.fromJSON(tokenizerJson, { ...tokenizerConfig, padding_side: 'left', truncation_side: 'left' });
    const ref = fx('a photo of a cat', 'clip_bpe_ids');
    const r = row(left.encode(['a photo of a cat'], { maxLength: 10 }), 0);
    expect(r.ids).toEqual([...Array(10 - ref.length).fill(EOT), ...ref]);
    expect(r.mask).toEqual([...Array(10 - ref.length).fill(0), ...ref.map(() => 1)]);
    const long = fx('a'.repeat(60), 'clip_bpe_ids');
    expect(row(left.encode(['a'.repeat(60)], { maxLength: 6 }), 0).ids).toEqual([0, ...long.slice(long.length - 5, long.length - 1), EOT]);
  });

  it('ships a 1805-token vocabulary with <|startoftext|> = 0 and <|endoftext|> = 1', () => {
    expect(tok.vocabSize).toBe(1805);
    expect(tok.tokenToId('<|startoftext|>')).toBe(0);
    expect(tok.tokenToId('<|endoftext|>')).toBe(1);
    expect(tok.numSpecialTokens).toBe(2);
    expect(tok.decode(tok.encodeIds('a photo of a cat'))).toBe('a photo of a cat');
  });
});

describe('SigLIP conventions (preset tokenizer_config: SiglipTokenizer, 64, pad </s>, canonicalised)', () => {
  const { tokenizerJson, tokenizerConfig } = presetTokenizer('siglip');
  const tok = TextTokenizer.fromJSON(tokenizerJson, tokenizerConfig);
  const EOS = 1;

  it('pads to max_length 64 with </s>', () => {
    const ref = fx('a photo of a cat', 'siglip_unigram_ids');
    const b = tok.encode(['a photo of a cat']);
    expect(b.shape).toEqual([1, 64]);
    expect(row(b, 0).ids).toEqual([...ref, ...Array(64 - ref.length).fill(EOS)]);
    expect(row(b, 0).mask).toEqual([...ref.map(() => 1), ...Array(64 - ref.length).fill(0)]);
    expect(tok.conventions.modelInputNames).toEqual(['input_ids']);
  });

  it('canonicalises like HF SiglipTokenizer: punctuation stripped, whitespace collapsed, lowercased', () => {
    const ref = fx('a photo of a cat', 'siglip_unigram_ids');
    for (const t of ['A Photo of a Cat!!', '  a photo,   of a "cat".  ', 'a (photo) of a cat?', 'A PHOTO\tOF A CAT']) expect(tok.encodeIds(t), t).toEqual(ref);
    // HF removes '_' like any punctuation (open_clip first turns it into a space, below).
    expect(tok.encodeIds('a photo_ of a cat_')).toEqual(ref);
  });

  it('keeps </s> at the end when truncating', () => {
    const ref = fx('supercalifragilisticexpialidocious', 'siglip_unigram_ids');
    const r = row(tok.encode(['supercalifragilisticexpialidocious'], { maxLength: 4 }), 0);
    expect(r.ids).toEqual([...ref.slice(0, 3), EOS]);
  });

  it('ships a 1454-token vocabulary with </s> = 1', () => {
    expect(tok.vocabSize).toBe(1454);
    expect(tok.tokenToId('</s>')).toBe(1);
    expect(tok.numSpecialTokens).toBe(1);
  });

  it("open_clip's clean: 'canonicalize' also maps underscores to spaces", () => {
    const oc = TextTokenizer.fromJSON(tokenizerJson, { ...tokenizerConfig, clean: 'canonicalize' });
    expect(oc.encodeIds('a_photo_of_a_cat')).toEqual(fx('a photo of a cat', 'siglip_unigram_ids'));
  });
});

describe('conventions from tokenizer.json and configs', () => {
  it('reads padding/truncation sections of tokenizer.json when the config has none', () => {
    const json = { ...siglipTokenizerJson(), padding: { strategy: { Fixed: 12 }, direction: 'Left', pad_id: 0, pad_type_id: 0, pad_token: '<pad>', pad_to_multiple_of: null }, truncation: { max_length: 12, strategy: 'LongestFirst', stride: 0, direction: 'Right' } };
    const tok = TextTokenizer.fromJSON(json);
    const ref = fx('a photo of a cat', 'siglip_unigram_ids');
    const r = row(tok.encode(['a photo of a cat']), 0);
    expect(r.ids).toEqual([...Array(12 - ref.length).fill(0), ...ref]);
  });

  it('falls back to the model pad_token_id, and rejects unknown pad tokens', () => {
    const t = TextTokenizer.fromJSON(clipTokenizerJson(), { model_max_length: 10 }, { modelConfig: { text_config: { pad_token_id: 7 } } });
    expect(row(t.encode(['']), 0).ids).toEqual([0, 1, 7, 7, 7, 7, 7, 7, 7, 7]);
    expect(() => TextTokenizer.fromJSON(clipTokenizerJson(), { pad_token: '<nope>' })).toThrow(/pad_token "<nope>" is not in the vocabulary/);
  });

  it('rejects bad inputs with clear messages', () => {
    const tok = TextTokenizer.fromJSON(clipTokenizerJson(), { model_max_length: 8 });
    expect(() => tok.encode('a cat' as unknown as string[])).toThrow(/texts: expected an array/);
    expect(() => tok.encode([42 as unknown as string])).toThrow(/texts\[0\]: expected a string, got number/);
    expect(() => tok.encode(['a'], { maxLength: 1 })).toThrow(/no room for the 2 special tokens/);
    expect(() => tok.encode(['a', 'a photo of a cat'], { padding: false })).toThrow(/different lengths/);
    expect(() => TextTokenizer.fromJSON({ foo: 1 })).toThrow(/no "model" section/);
    expect(() => TextTokenizer.fromJSON('{not json')).toThrow(/not valid JSON/);
    expect(tok.encode([]).shape).toEqual([0, 8]);
    expect(() => tok.encode(['a photo of a cat'], { maxLength: 4, truncation: false })).toThrow(/texts\[0\] has 7 tokens, more than maxLength 4/);
  });
});

// TextTokenizer: tokenizer.json (via @huggingface/tokenizers) + the model's conventions (context length,
// truncation that keeps the special tokens, padding, text cleaning) -> int32 inputIds / attentionMask [B, L].
import { Tokenizer } from '@huggingface/tokenizers';
import { resolveTextConventions, tokenContent, type PaddingStrategy, type TextConventions, type TextModelConfigLike, type TokenizerConfig } from './conventions.js';
import { cleanText } from './text-clean.js';

export interface EncodeOptions {
  /** Context length; defaults to the tokenizer's (model_max_length, capped by the model's positions). */
  maxLength?: number;
  /** 'max_length' pads every row to maxLength, 'longest' to the longest row, false / 'do_not_pad' not at all. */
  padding?: PaddingStrategy | boolean;
  /** Truncate rows longer than maxLength (default true); special tokens are kept. */
  truncation?: boolean;
}

export interface TokenizedBatch {
  inputIds: Int32Array;
  attentionMask: Int32Array;
  shape: [number, number]; // [B, L]
}

export class TextTokenizer {
  readonly conventions: TextConventions;
  readonly tokenizerConfig: TokenizerConfig;
  private readonly tok: Tokenizer;
  private readonly unkId: number;
  private readonly specialTokens: string[];
  /** Number of tokens the post-processor adds around a single sequence (CLIP 2, SigLIP 1). */
  readonly numSpecialTokens: number;

  private constructor(tok: Tokenizer, config: TokenizerConfig, modelConfig: TextModelConfigLike | undefined, json: Record<string, unknown>) {
    this.tok = tok;
    this.tokenizerConfig = config;
    this.conventions = resolveTextConventions(json, config, modelConfig, (t) => tok.token_to_id(t));
    const model = json['model'] as { unk_token?: string; unk_id?: number };
    const unkName = tokenContent(config.unk_token) ?? (typeof model.unk_token === 'string' ? model.unk_token : null);
    this.unkId = (unkName !== null ? tok.token_to_id(unkName) : undefined) ?? (typeof model.unk_id === 'number' ? model.unk_id : 0);
    this.specialTokens = ((json['added_tokens'] ?? []) as { content: string; special?: boolean }[]).filter((t) => t.special).map((t) => t.content);
    this.numSpecialTokens = this.tok.post_processor ? this.tok.post_processor([], null, true).tokens.length : 0;
  }

  /**
   * Builds a tokenizer from tokenizer.json (object or JSON text), tokenizer_config.json, and optionally the
   * model config.json (its text max_position_embeddings caps the context length; pad_token_id is a fallback).
   */
  static fromJSON(tokenizerJson: unknown, tokenizerConfig: TokenizerConfig | string = {}, opts: { modelConfig?: TextModelConfigLike } = {}): TextTokenizer {
    const json = parseObject(tokenizerJson, 'tokenizerJson');
    const config = parseObject(tokenizerConfig ?? {}, 'tokenizerConfig') as TokenizerConfig;
    if (!json['model'] || typeof json['model'] !== 'object') throw new TypeError('tokenizerJson: not a tokenizer.json (no "model" section)');
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, config);
    } catch (e) {
      throw new TypeError(`tokenizerJson: cannot build the tokenizer (${(e as Error).message})`);
    }
    return new TextTokenizer(tok, config, opts.modelConfig, json);
  }

  get vocabSize(): number {
    return this.tok.get_vocab(true).size;
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  /** Applies the tokenizer's text cleaning (and lowercasing) to non-special parts of the text. */
  clean(text: string): string {
    const { clean, lowercase } = this.conventions;
    if (clean === 'none' && !lowercase) return text;
    const apply = (s: string) => {
      const c = cleanText(s, clean);
      return lowercase ? c.toLowerCase() : c;
    };
    if (!this.specialTokens.length) return apply(text);
    // Special tokens written in the text stay intact (HF splits them out before cleaning).
    const pattern = new RegExp(`(${this.specialTokens.map(escapeRegExp).join('|')})`);
    return text.split(pattern).map((part, i) => (i % 2 === 1 ? part : apply(part))).join('');
  }

  /** Token strings of the cleaned text, without special tokens. */
  tokenize(text: string): string[] {
    return this.tok.tokenize(this.clean(text), { add_special_tokens: false });
  }

  /** Ids of one text, special tokens added, no truncation or padding (the Rust `Tokenizer.encode`). */
  encodeIds(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    const tokens = this.tokenize(checkText(text, 'text'));
    return this.toIds(opts.addSpecialTokens === false ? tokens : this.withSpecials(tokens));
  }

  /** Encodes a batch to rectangular int32 [B, L] inputIds and attentionMask (1 = real token, 0 = padding). */
  encode(texts: string[], opts: EncodeOptions = {}): TokenizedBatch {
    if (!Array.isArray(texts)) throw new TypeError(`texts: expected an array of strings, got ${typeof texts}`);
    const c = this.conventions;
    const padding: PaddingStrategy = opts.padding === undefined ? c.padding : opts.padding === true ? 'longest' : opts.padding === false ? 'do_not_pad' : opts.padding;
    if (!['max_length', 'longest', 'do_not_pad'].includes(padding)) throw new RangeError(`padding: expected 'max_length', 'longest', 'do_not_pad' or a boolean, got ${JSON.stringify(opts.padding)}`);
    const maxLength = opts.maxLength ?? c.maxLength;
    if (maxLength !== null) {
      if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`maxLength: expected a positive integer, got ${maxLength}`);
      if (c.maxPositions !== null && maxLength > c.maxPositions) throw new RangeError(`maxLength ${maxLength} exceeds the model's ${c.maxPositions} text positions`);
      if (maxLength < this.numSpecialTokens) throw new RangeError(`maxLength ${maxLength} leaves no room for the ${this.numSpecialTokens} special tokens`);
    }
    if (padding === 'max_length' && maxLength === null) throw new RangeError("padding 'max_length' needs a maxLength (the tokenizer defines none)");
    const truncate = opts.truncation ?? true;

    const rows = texts.map((t, i) => {
      let tokens = this.tokenize(checkText(t, `texts[${i}]`));
      if (truncate && maxLength !== null) {
        const room = maxLength - this.numSpecialTokens;
        if (tokens.length > room) tokens = c.truncationSide === 'left' ? tokens.slice(tokens.length - room) : tokens.slice(0, room);
      }
      return this.toIds(this.withSpecials(tokens));
    });

    const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
    if (padding === 'max_length' && longest > maxLength!) {
      throw new RangeError(`texts[${rows.findIndex((r) => r.length === longest)}] has ${longest} tokens, more than maxLength ${maxLength}, and truncation is off`);
    }
    let L = padding === 'max_length' ? maxLength! : longest;
    if (padding !== 'do_not_pad' && c.padToMultipleOf) L = Math.ceil(L / c.padToMultipleOf) * c.padToMultipleOf;
    if (padding === 'do_not_pad' && rows.some((r) => r.length !== longest)) {
      throw new RangeError(`texts encode to different lengths (${Math.min(...rows.map((r) => r.length))}..${longest}) and padding is off; enable padding to batch them`);
    }
    const B = rows.length;
    const inputIds = new Int32Array(B * L).fill(c.padTokenId);
    const attentionMask = new Int32Array(B * L);
    rows.forEach((ids, b) => {
      const off = b * L + (c.paddingSide === 'left' ? L - ids.length : 0);
      inputIds.set(ids, off);
      attentionMask.fill(1, off, off + ids.length);
    });
    return { inputIds, attentionMask, shape: [B, L] };
  }

  /** Decodes ids back to text (special tokens dropped by default). */
  decode(ids: ArrayLike<number>, opts: { skipSpecialTokens?: boolean } = {}): string {
    const arr = Array.from(ids);
    if (!arr.length) return '';
    return this.tok.decode(arr, { skip_special_tokens: opts.skipSpecialTokens ?? true });
  }

  private withSpecials(tokens: string[]): string[] {
    return this.tok.post_processor ? this.tok.post_processor(tokens, null, true).tokens : tokens;
  }

  private toIds(tokens: string[]): number[] {
    return tokens.map((t) => this.tok.token_to_id(t) ?? this.unkId);
  }
}

function parseObject(v: unknown, name: string): Record<string, unknown> {
  let obj = v;
  if (typeof v === 'string') {
    try {
      obj = JSON.parse(v);
    } catch (e) {
      throw new TypeError(`${name}: not valid JSON (${(e as Error).message})`);
    }
  } else if (v instanceof Uint8Array) {
    return parseObject(new TextDecoder().decode(v), name);
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new TypeError(`${name}: expected a JSON object, got ${Array.isArray(obj) ? 'an array' : obj === null ? 'null' : typeof obj}`);
  return obj as Record<string, unknown>;
}

function checkText(t: unknown, name: string): string {
  if (typeof t !== 'string') throw new TypeError(`${name}: expected a string, got ${t === null ? 'null' : typeof t}`);
  return t;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

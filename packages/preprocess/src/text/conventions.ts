// Resolves how a tokenizer pads, truncates and cleans text from its files: tokenizer_config.json (HF),
// tokenizer.json's truncation/padding sections, the model config's position count, and the defaults of
// the tokenizer class named in tokenizer_config.json (as transformers' AutoTokenizer would instantiate).
import type { TextClean } from './text-clean.js';

export type PaddingStrategy = 'max_length' | 'longest' | 'do_not_pad';

/** tokenizer_config.json fields Duet reads (others are preserved and ignored). */
export interface TokenizerConfig {
  tokenizer_class?: string;
  model_max_length?: number;
  padding_side?: 'right' | 'left';
  truncation_side?: 'right' | 'left';
  bos_token?: string | { content: string } | null;
  eos_token?: string | { content: string } | null;
  pad_token?: string | { content: string } | null;
  unk_token?: string | { content: string } | null;
  do_lower_case?: boolean;
  model_input_names?: string[];
  /** open_clip HFTokenizer `clean` option: 'canonicalize' | 'lower' | 'whitespace' (or 'none'). */
  clean?: TextClean;
  /** Duet: default padding strategy when a call does not choose one. */
  duet_padding?: PaddingStrategy;
  [key: string]: unknown;
}

/** The parts of a model config.json (HF CLIPConfig / SiglipConfig or a bare text config) that matter here. */
export interface TextModelConfigLike {
  max_position_embeddings?: number;
  pad_token_id?: number | null;
  text_config?: { max_position_embeddings?: number; pad_token_id?: number | null; [k: string]: unknown };
  [k: string]: unknown;
}

export interface TextConventions {
  /** Context length (null: unbounded). */
  maxLength: number | null;
  padding: PaddingStrategy;
  padToMultipleOf: number | null;
  truncationSide: 'right' | 'left';
  paddingSide: 'right' | 'left';
  padTokenId: number;
  clean: TextClean;
  lowercase: boolean;
  /** Inputs the model was trained with; SigLIP checkpoints list only input_ids (run without a mask). */
  modelInputNames: string[];
  /** Upper bound from the model's position embeddings, if known. */
  maxPositions: number | null;
}

interface ClassDefaults { maxLength: number | null; padding: PaddingStrategy; clean: TextClean; lowercase: boolean; padToken: string | null }

/** transformers' per-class defaults for the classes Duet ships (CLIP: open_clip's 77, SigLIP: 64 with </s>). */
function classDefaults(cls: string | undefined): ClassDefaults {
  switch (cls) {
    case 'CLIPTokenizer':
    case 'CLIPTokenizerFast':
      return { maxLength: 77, padding: 'max_length', clean: 'none', lowercase: false, padToken: '<|endoftext|>' };
    case 'SiglipTokenizer':
      return { maxLength: 64, padding: 'max_length', clean: 'siglip', lowercase: true, padToken: '</s>' };
    case 'SiglipTokenizerFast':
      return { maxLength: 64, padding: 'max_length', clean: 'none', lowercase: false, padToken: '<pad>' };
    default:
      return { maxLength: null, padding: 'max_length', clean: 'none', lowercase: false, padToken: null };
  }
}

/** HF stores "no limit" as int(1e30). */
const VERY_LARGE = 1e12;

export function tokenContent(t: unknown): string | null {
  if (typeof t === 'string') return t;
  if (t && typeof t === 'object' && typeof (t as { content?: unknown }).content === 'string') return (t as { content: string }).content;
  return null;
}

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

export function resolveTextConventions(
  tokenizerJson: Record<string, unknown>,
  config: TokenizerConfig,
  modelConfig: TextModelConfigLike | undefined,
  tokenToId: (t: string) => number | undefined,
): TextConventions {
  const d = classDefaults(config.tokenizer_class);
  const trunc = (tokenizerJson['truncation'] ?? null) as { max_length?: number; direction?: string } | null;
  const pad = (tokenizerJson['padding'] ?? null) as { strategy?: unknown; direction?: string; pad_id?: number; pad_to_multiple_of?: number | null } | null;

  const maxPositions = modelConfig?.text_config?.max_position_embeddings ?? modelConfig?.max_position_embeddings ?? null;
  let maxLength: number | null = null;
  const fixedPad = pad && typeof pad.strategy === 'object' && pad.strategy !== null ? (pad.strategy as { Fixed?: number }).Fixed : undefined;
  if (isPosInt(config.model_max_length) && config.model_max_length < VERY_LARGE) maxLength = config.model_max_length;
  else if (isPosInt(trunc?.max_length)) maxLength = trunc.max_length;
  else if (isPosInt(fixedPad)) maxLength = fixedPad;
  else if (d.maxLength !== null) maxLength = d.maxLength;
  else if (isPosInt(maxPositions)) maxLength = maxPositions;
  if (maxLength !== null && isPosInt(maxPositions) && maxLength > maxPositions) maxLength = maxPositions;

  let padding: PaddingStrategy = d.padding;
  if (config.duet_padding) {
    if (!['max_length', 'longest', 'do_not_pad'].includes(config.duet_padding)) throw new RangeError(`tokenizer_config: duet_padding must be max_length, longest or do_not_pad, got ${JSON.stringify(config.duet_padding)}`);
    padding = config.duet_padding;
  } else if (pad) padding = pad.strategy === 'BatchLongest' ? 'longest' : 'max_length';
  if (padding === 'max_length' && maxLength === null) padding = 'longest';

  const side = (v: unknown, what: string): 'left' | 'right' | undefined => {
    if (v == null) return undefined;
    const s = String(v).toLowerCase();
    if (s !== 'left' && s !== 'right') throw new RangeError(`${what} must be "left" or "right", got ${JSON.stringify(v)}`);
    return s;
  };
  const paddingSide = side(config.padding_side, 'tokenizer_config.padding_side') ?? side(pad?.direction, 'tokenizer.json padding.direction') ?? 'right';
  const truncationSide = side(config.truncation_side, 'tokenizer_config.truncation_side') ?? side(trunc?.direction, 'tokenizer.json truncation.direction') ?? 'right';

  // Pad token: tokenizer_config, tokenizer.json padding, the model config, then the class default, then 0 (open_clip).
  let padTokenId: number | undefined;
  const padName = tokenContent(config.pad_token);
  if (padName !== null) {
    padTokenId = tokenToId(padName);
    if (padTokenId === undefined) throw new RangeError(`tokenizer_config: pad_token ${JSON.stringify(padName)} is not in the vocabulary`);
  }
  padTokenId ??= isPosIntOrZero(pad?.pad_id) ? pad.pad_id : undefined;
  const mcPad = modelConfig?.text_config?.pad_token_id ?? modelConfig?.pad_token_id;
  padTokenId ??= isPosIntOrZero(mcPad) ? mcPad : undefined;
  if (padTokenId === undefined && d.padToken !== null) padTokenId = tokenToId(d.padToken);
  padTokenId ??= 0;

  let clean = d.clean;
  if (config.clean !== undefined) {
    if (!['none', 'whitespace', 'lower', 'canonicalize', 'siglip'].includes(config.clean)) throw new RangeError(`tokenizer_config: clean must be none, whitespace, lower, canonicalize or siglip, got ${JSON.stringify(config.clean)}`);
    clean = config.clean;
  }
  const lowercase = typeof config.do_lower_case === 'boolean' ? config.do_lower_case : d.lowercase;
  const modelInputNames = Array.isArray(config.model_input_names) ? config.model_input_names.map(String) : ['input_ids', 'attention_mask'];
  return {
    maxLength, padding, padToMultipleOf: isPosInt(pad?.pad_to_multiple_of) ? pad.pad_to_multiple_of : null,
    truncationSide, paddingSide, padTokenId, clean, lowercase, modelInputNames, maxPositions: isPosInt(maxPositions) ? maxPositions : null,
  };
}

const isPosIntOrZero = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

// Text cleaning applied before the tokenizer.json pipeline, as the reference tokenizers do in Python:
// HF's slow SiglipTokenizer (big_vision `canonicalize_text`) and open_clip's `clean` functions.

/** Python's `string.punctuation` (ASCII only, as in big_vision / HF / open_clip). */
export const ASCII_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const PUNCT_RE = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

export function removePunctuation(text: string): string {
  return text.replace(PUNCT_RE, '');
}

/** Collapses whitespace runs to one space and trims (open_clip `whitespace_clean`). */
export function whitespaceClean(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * HF SiglipTokenizer / big_vision `canonicalize_text`: removes ASCII punctuation, collapses whitespace,
 * trims. `keepPunctuationExactString` (e.g. '{}') survives while its characters elsewhere are removed.
 */
export function canonicalizeText(text: string, keepPunctuationExactString?: string): string {
  const stripped = keepPunctuationExactString
    ? text.split(keepPunctuationExactString).map(removePunctuation).join(keepPunctuationExactString)
    : removePunctuation(text);
  return whitespaceClean(stripped);
}

/** open_clip `canonicalize_text`: underscores become spaces, then punctuation removed, lowercased, whitespace cleaned. */
export function openClipCanonicalize(text: string, keepPunctuationExactString?: string): string {
  return canonicalizeText(text.replace(/_/g, ' '), keepPunctuationExactString).toLowerCase();
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/**
 * open_clip `basic_clean` without ftfy: HTML entities unescaped twice (numeric and the common named
 * ones), then trimmed. ftfy's mojibake repair has no JS port and is not reproduced.
 */
export function basicClean(text: string): string {
  const unescape = (s: string) =>
    s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, body: string) => {
      if (body[0] === '#') {
        const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
        return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : m;
      }
      return NAMED_ENTITIES[body.toLowerCase()] ?? m;
    });
  return unescape(unescape(text)).trim();
}

/** How raw text is cleaned before tokenization. */
export type TextClean = 'none' | 'whitespace' | 'lower' | 'canonicalize' | 'siglip';

/**
 * - 'siglip': HF SiglipTokenizer (punctuation removed, whitespace collapsed; lowercasing is separate, from do_lower_case);
 * - 'canonicalize' / 'lower' / 'whitespace': open_clip's `clean` options (each starts with basic_clean);
 * - 'none': the tokenizer.json normalizer alone.
 */
export function cleanText(text: string, clean: TextClean): string {
  switch (clean) {
    case 'none': return text;
    case 'siglip': return canonicalizeText(text);
    case 'canonicalize': return openClipCanonicalize(basicClean(text));
    case 'lower': return whitespaceClean(basicClean(text)).toLowerCase();
    case 'whitespace': return whitespaceClean(basicClean(text));
  }
}

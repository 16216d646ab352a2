import { describe, expect, it } from 'vitest';
import { ASCII_PUNCTUATION, basicClean, canonicalizeText, cleanText, openClipCanonicalize } from './text-clean.js';

describe('text cleaning', () => {
  it("removes exactly Python's string.punctuation", () => {
    expect(ASCII_PUNCTUATION).toHaveLength(32);
    expect(canonicalizeText(`a${ASCII_PUNCTUATION}b`)).toBe('ab');
    expect(canonicalizeText('déjà — vu «ok»')).toBe('déjà — vu «ok»');
  });
  it('big_vision canonicalize_text: punctuation out, whitespace collapsed and trimmed, {} kept on request', () => {
    expect(canonicalizeText('  A photo,\tof  a {}!  ')).toBe('A photo of a');
    expect(canonicalizeText('a photo of a {}.', '{}')).toBe('a photo of a {}');
  });
  it("open_clip canonicalize: underscores to spaces and lowercased", () => {
    expect(openClipCanonicalize('A_Photo_of_a_CAT!')).toBe('a photo of a cat');
  });
  it('basic_clean unescapes HTML entities twice', () => {
    expect(basicClean(' fish &amp;amp; chips &#39;n&#x27; more ')).toBe("fish & chips 'n' more");
    expect(cleanText(' A  B ', 'lower')).toBe('a b');
    expect(cleanText(' A  B ', 'whitespace')).toBe('A B');
    expect(cleanText(' A, B ', 'none')).toBe(' A, B ');
  });
});

// Shard list expansion as in webdataset / open_clip: `data-{000..099}.tar`, `{a,b}.tar`, nested braces,
// and several patterns joined by `::` (open_clip's separator) or passed as an array.

/** Expands one brace pattern into the full list, in order. */
export function expandBraces(pattern: string): string[] {
  const open = findTopLevelOpen(pattern);
  if (open < 0) return [pattern];
  const close = matchingClose(pattern, open);
  if (close < 0) throw new Error(`shard pattern "${pattern}": unbalanced "{" at position ${open}`);
  const head = pattern.slice(0, open);
  const body = pattern.slice(open + 1, close);
  const tails = expandBraces(pattern.slice(close + 1));
  const alts = expandAlternatives(body, pattern);
  const out: string[] = [];
  for (const a of alts) for (const t of tails) out.push(head + a + t);
  return out;
}

/** Expands a list or `::`-joined string of patterns. */
export function expandShardList(spec: string | readonly string[]): string[] {
  const parts = typeof spec === 'string' ? spec.split('::') : [...spec];
  return parts.map((p) => p.trim()).filter((p) => p.length > 0).flatMap(expandBraces);
}

function findTopLevelOpen(s: string): number {
  return s.indexOf('{');
}

function matchingClose(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function expandAlternatives(body: string, pattern: string): string[] {
  const range = /^(-?\d+)\.\.(-?\d+)(?:\.\.(\d+))?$/.exec(body);
  if (range) {
    const [, a, b, stepText] = range as unknown as [string, string, string, string | undefined];
    const from = Number(a);
    const to = Number(b);
    const step = stepText ? Number(stepText) : 1;
    if (step <= 0) throw new Error(`shard pattern "${pattern}": range step must be positive, got ${step}`);
    // Zero padding as in bash/webdataset: the width of the longer bound when either is written with a leading 0.
    const padded = /^-?0\d/.test(a) || /^-?0\d/.test(b);
    const width = padded ? Math.max(a.replace('-', '').length, b.replace('-', '').length) : 0;
    const out: string[] = [];
    const dir = from <= to ? 1 : -1;
    for (let v = from; dir > 0 ? v <= to : v >= to; v += dir * step) {
      const digits = String(Math.abs(v)).padStart(width, '0');
      out.push((v < 0 ? '-' : '') + digits);
    }
    return out;
  }
  const alpha = /^([a-zA-Z])\.\.([a-zA-Z])$/.exec(body);
  if (alpha) {
    const s = alpha[1]!.charCodeAt(0);
    const e = alpha[2]!.charCodeAt(0);
    const out: string[] = [];
    for (let c = s; s <= e ? c <= e : c >= e; c += s <= e ? 1 : -1) out.push(String.fromCharCode(c));
    return out;
  }
  // Comma alternatives at depth 0; each may itself contain braces.
  const alts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '{') depth++;
    else if (body[i] === '}') depth--;
    else if (body[i] === ',' && depth === 0) { alts.push(body.slice(start, i)); start = i + 1; }
  }
  alts.push(body.slice(start));
  if (alts.length === 1) return expandBraces(body).map((x) => `{${x}}`); // a literal `{x}` (bash leaves it alone)
  return alts.flatMap(expandBraces);
}

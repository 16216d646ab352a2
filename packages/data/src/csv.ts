// Delimited-text parsing (RFC 4180 quoting, any one-character separator) — what pandas.read_csv accepts for
// open_clip's caption files.

/** Parses delimited text into rows of fields. Handles quoted fields with separators, newlines and "" escapes. */
export function parseDelimited(text: string, sep: string): string[][] {
  if (sep.length !== 1) throw new Error(`csv separator: expected one character, got ${JSON.stringify(sep)}`);
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // BOM
  let quoted = false;
  let fieldStarted = false;
  const n = text.length;
  while (i < n) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false; i++; continue;
      }
      field += ch; i++; continue;
    }
    if (ch === '"' && !fieldStarted) { quoted = true; fieldStarted = true; i++; continue; }
    if (ch === sep) { row.push(field); field = ''; fieldStarted = false; i++; continue; }
    if (ch === '\r' || ch === '\n') {
      row.push(field); field = ''; fieldStarted = false;
      if (!(row.length === 1 && row[0] === '')) rows.push(row);
      row = [];
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    field += ch; fieldStarted = true; i++;
  }
  if (fieldStarted || field.length || row.length) { row.push(field); if (!(row.length === 1 && row[0] === '')) rows.push(row); }
  return rows;
}

/**
 * An answer's CSV (RFC 4180, CRLF line ends, as the API writes it) as one record per line keyed by
 * the header's names; blank lines are passed over. Written here rather than taken from the API's own CSV code, so the oracles
 * read the answers the way a spreadsheet would, not the way the code under test writes them.
 */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i += 1;
    } else cell += char;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]); // a last line without its CRLF
  const [header, ...body] = rows.filter((cells) => cells.length > 1 || cells[0] !== '');
  return body.map((cells) => Object.fromEntries(header!.map((name, index) => [name, cells[index]!])));
}

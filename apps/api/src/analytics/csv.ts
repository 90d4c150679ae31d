/** RFC 4180 CSV: a header row from the first row's keys, quoted where needed, CRLF line ends. */
export function toCsv(rows: readonly Readonly<Record<string, unknown>>[], columns?: readonly string[]): string {
  const header = columns ?? (rows[0] ? Object.keys(rows[0]) : []);
  const lines = [header.map(cell).join(',')];
  for (const row of rows) lines.push(header.map((column) => cell(row[column])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  // A leading =, +, -, @, tab or carriage return would make a spreadsheet run the cell as a formula (OWASP).
  const safe = /^[=+\-@\t\r]/.test(text) && Number.isNaN(Number(text)) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

// RFC 4180 CSV, both ways, for every part of Stagecraft that reads or writes it (the API's
// analytics answers, the CLI's export and import). The reader streams (files may hold millions of
// rows) and says on which line each record starts, so a rejected row can be pointed at. The
// writer's formula guard lives here once.

export interface CsvRecord {
  /** 1-based line where the record starts (a quoted cell may span lines). */
  readonly line: number;
  readonly cells: readonly string[];
  /**
   * Set when the record breaks RFC 4180's quoting (a quote inside a cell that does not start with
   * one, or text after a cell's closing quote): such a record is not read on, its cells are the ones
   * before the fault, and reading resumes at the next line.
   */
  readonly fault?: CsvFault;
}

export interface CsvFault {
  /** 0-based index of the cell at fault. */
  readonly cell: number;
  readonly reason: string;
}

/**
 * Reads CSV records from text chunks; quotes may hold commas, quotes ("") and line breaks.
 * A quote anywhere but at the start of a cell (after spaces at most), or text after a closing
 * quote, is a fault of that record rather than read leniently: read on, `Widget 5" screen` would
 * open a quoted cell that swallows the line break and the rows after it up to the next quote, and
 * those rows would vanish into one cell without a word.
 */
export interface CsvReadOptions {
  /**
   * Characters a record's cells may hold in all. A longer record is a fault of the cell that passes
   * the limit, and no more of it is held: read whole, one endless line (a dump gone wrong) held the
   * file in memory until the process died.
   */
  readonly maxRecordLength?: number;
}

export async function* readCsvRecords(chunks: AsyncIterable<string> | Iterable<string>, options: CsvReadOptions = {}): AsyncGenerator<CsvRecord> {
  const maxRecordLength = options.maxRecordLength ?? Infinity;
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let afterQuote = false; // just read a quote inside a quoted cell: "" or the end of the cell
  let closed = false; // the cell's quoted part has ended: only spaces may follow before its end
  let fault: CsvFault | undefined; // the record broke the quoting rules: the rest of its line is skipped
  let line = 1;
  let recordLine = 1;
  let pendingCr = false;
  let touched = false;
  let recordLength = 0;
  // The record passed maxRecordLength: read on (its quotes still say where it ends), holding nothing more.
  let overflow: CsvFault | undefined;
  const add = (text: string) => {
    if (overflow === undefined) {
      recordLength += text.length;
      if (recordLength <= maxRecordLength) {
        cell += text;
        return;
      }
      overflow = { cell: cells.length, reason: `the record is longer than ${maxRecordLength} characters` };
    }
    // Dropped, but a cell with text still tells a stray quote from an opening one.
    if (cell.trim() === '' && text.trim() !== '') cell = text;
  };

  const endCell = () => {
    cells.push(cell);
    cell = '';
    afterQuote = false;
    closed = false;
  };
  const endRecord = (): CsvRecord | undefined => {
    if (fault === undefined) endCell();
    if (fault === undefined && overflow !== undefined) {
      fault = overflow;
      cells = cells.slice(0, overflow.cell);
    }
    const record = fault !== undefined ? { line: recordLine, cells, fault } : touched ? { line: recordLine, cells } : undefined;
    cells = [];
    cell = '';
    afterQuote = false;
    closed = false;
    fault = undefined;
    overflow = undefined;
    recordLength = 0;
    touched = false;
    return record;
  };
  const breaks = (reason: string) => {
    fault = { cell: cells.length, reason };
  };

  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i += 1) {
      const char = chunk[i]!;
      if (pendingCr) {
        pendingCr = false;
        if (char === '\n') {
          if (quoted) add(char); // the \r\n of a line break inside quotes counts as one line
          continue;
        }
      }
      if (quoted) {
        if (char === '"') {
          quoted = false;
          afterQuote = true;
        } else {
          if (char === '\n' || char === '\r') line += 1;
          if (char === '\r') pendingCr = true;
          add(char);
        }
        continue;
      }
      if (char === '\n' || char === '\r') {
        if (char === '\r') pendingCr = true;
        const record = endRecord();
        line += 1;
        recordLine = line;
        if (record) yield record;
        continue;
      }
      if (fault !== undefined) continue;
      if (afterQuote) {
        afterQuote = false;
        if (char === '"') {
          add('"'); // "" inside quotes
          quoted = true;
          continue;
        }
        closed = true;
      }
      if (char === ',') {
        endCell();
        touched = true;
      } else if (char === '"') {
        if (closed) breaks('text after the closing quote of a cell: double a quote inside a quoted cell ("")');
        else if (cell.trim() !== '') breaks('a quote inside a cell that does not start with one: put the whole cell in quotes and double the quotes inside it ("5"" screen")');
        else {
          quoted = true;
          touched = true;
        }
      } else if (closed && char !== ' ' && char !== '\t') {
        breaks('text after the closing quote of a cell: double a quote inside a quoted cell ("")');
      } else {
        if (!touched) recordLine = line;
        add(char);
        touched = true;
      }
    }
  }
  if (quoted) throw new Error(`CSV: a quoted cell opened on line ${recordLine} is never closed`);
  const last = endRecord();
  if (last) yield last;
}

/** A whole CSV document: a header row (the first row's keys, or `columns`), then one line per row, CRLF line ends. */
export function toCsv(rows: readonly Readonly<Record<string, unknown>>[], columns?: readonly string[]): string {
  const header = columns ?? (rows[0] ? Object.keys(rows[0]) : []);
  const lines = [csvLine(header)];
  for (const row of rows) lines.push(csvLine(header.map((column) => row[column])));
  return `${lines.join('\r\n')}\r\n`;
}

/** One CSV line (no line end). */
export function csvLine(values: readonly unknown[]): string {
  return values.map(csvCell).join(',');
}

/**
 * One cell: objects as JSON, quoted where needed. A text a spreadsheet would run as a formula
 * (a leading =, +, -, @, tab or carriage return that is not a number: OWASP) gets a leading '.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) && Number.isNaN(Number(text)) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Undoes csvCell's formula guard. */
export function unguardCell(text: string): string {
  return /^'[=+\-@\t\r]/.test(text) ? text.slice(1) : text;
}

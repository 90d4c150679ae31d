import { Query, type ClientBase, type QueryResult } from 'pg';

// Rows no table holds yet (a batch's transitions and closings, and the opportunities, visits and
// board segments that began in it) go in by COPY … FROM STDIN, in the batch's one simple query,
// rather than as array parameters of INSERT … SELECT unnest(…) ON CONFLICT: PostgreSQL inserts
// them in pages (one WAL record per page rather than per row) with no conflict to look for, and
// the text is shorter to write here (no quotes around each element, no second escaping for the
// E'' string). Rows that may already be stored still go through the upserts. The values are the
// same text as the array elements held (numbers as JavaScript writes them, instants as
// toISOString writes them), read by the same input functions, so the rows are the same.

const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A text field of COPY's text format: \N for null; backslash, tab, newline and carriage return escaped. */
export const copyText = (value: string | null): string => (value === null ? '\\N' : SPECIAL.test(value) ? value.replace(SPECIALS, (c) => ESCAPES[c]!) : value);

/** A number field (float8, bigint, int), as JavaScript writes it (NaN and ±Infinity as float8 reads them). */
export const copyNumber = (value: number | null): string => (value === null ? '\\N' : String(value));

export const copyBool = (value: boolean): string => (value ? 't' : 'f');

/** One COPY of a batch: its statement and its rows, as COPY's text format. */
export interface CopyStatement {
  readonly sql: string;
  readonly data: Buffer;
}

/** Bytes a line of `length` UTF-16 units may take in UTF-8 (a surrogate pair's 4 bytes are 2 units), and its newline. */
const utf8Room = (length: number) => length * 3 + 1;

/**
 * COPY `table` (`columns`) of `rows`, each written as one line by `line` (its fields joined by
 * tabs) and ended by a newline: the bytes of `Buffer.from(lines.join('\n') + '\n')`, but each line
 * is encoded into one growing buffer as it is made. Joining a batch's lines first made one string
 * of megabytes (flattening every line's rope into it, in the old generation) only to copy it
 * again into bytes: a profile of a 1M-event first fold put this function's own time above the
 * fold's, and a micro-benchmark of 20,000 visit lines took ~290 ms that way against ~55 ms this way.
 */
export function copyOf<Row>(table: string, columns: string, rows: readonly Row[], line: (row: Row) => string): CopyStatement {
  let data = Buffer.allocUnsafe(rows.length === 0 ? 0 : Math.max(4096, rows.length * 256));
  let length = 0;
  for (let i = 0; i < rows.length; i++) {
    const text = line(rows[i]!);
    if (data.length - length < utf8Room(text.length)) {
      const grown = Buffer.allocUnsafe(Math.max(data.length * 2, length + utf8Room(text.length)));
      data.copy(grown, 0, 0, length);
      data = grown;
    }
    // Whole lines only: each fits (utf8Room), so write() never cuts one short.
    length += data.write(text, length, 'utf8');
    data[length++] = 0x0a;
  }
  return { sql: `COPY ${table} (${columns}) FROM STDIN`, data: data.subarray(0, length) };
}

/**
 * The driver's own Query (one simple query, one result per statement), which answers each COPY
 * … FROM STDIN of its text with the next of `copies`, in order. (node-postgres alone refuses
 * COPY FROM STDIN; pg-copy-streams does what this does, for one COPY per query.)
 */
class CopyingQuery extends Query {
  constructor(
    text: string,
    private readonly copies: Buffer[],
    callback: (error: Error | null, results: unknown) => void,
  ) {
    super({ text, callback } as never);
  }

  handleCopyInResponse(connection: { sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void; sendCopyFail(message: string): void }): void {
    const data = this.copies.shift();
    if (data === undefined) {
      connection.sendCopyFail('the batch has no rows for this COPY');
      return;
    }
    if (data.length > 0) connection.sendCopyFromChunk(data);
    connection.endCopyFrom();
  }
}

/** Runs `text` (statements separated by semicolons) as one simple query, its COPYs fed from `copies` in order; one result per statement. */
export function queryWithCopies(client: ClientBase, text: string, copies: readonly Buffer[]): Promise<QueryResult[]> {
  return new Promise((resolve, reject) => {
    const query = new CopyingQuery(text, [...copies], (error, results) => (error ? reject(error) : resolve(results as QueryResult[])));
    void client.query(query as never);
  });
}

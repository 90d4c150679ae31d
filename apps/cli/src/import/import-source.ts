import { createReadStream, statSync, type ReadStream } from 'node:fs';
import { CliError } from '../cli.errors';
import { readCsvRecords, unguardCell, type CsvFault, type CsvRecord } from '@stagecraft/csv';
import { EVENT_CSV_COLUMNS } from '../commands/export.command';
import { BACKFILL_COLUMNS, backfillHeader, backfillRowDeal, parseBackfillRow, type BackfillRow } from './backfill.row';
import { toEventRecord, type EventRecord } from './event-record';
import { readLines } from './line-reader';
import { printable, quoted } from '../io/printable';

export type ImportFormat = 'jsonl' | 'csv';

/** One line of the input: an exported event, a backfill row, or a line that could not be read. */
export type ImportItem =
  | { readonly kind: 'event'; readonly line: number; readonly record: EventRecord }
  | { readonly kind: 'row'; readonly line: number; readonly row: BackfillRow }
  | { readonly kind: 'unreadable'; readonly line: number; readonly reason: string; readonly deal?: DealNamed };

/**
 * The deal a line that cannot be read names, where the cell or field naming it can be read: the
 * line is a rejected step of that deal, so the deal's later lines are rejected too.
 */
export type DealNamed = { readonly stream: string } | { readonly opportunityId: string };

export interface ImportSource {
  /** What the file holds: the exported event log, or backfill rows. */
  readonly content: 'event-log' | 'backfill';
  readonly size: number;
  bytesRead(): number;
  items(): AsyncGenerator<ImportItem>;
  /** Lets the file go, read to its end or not (an import that cannot open its store reads none of it). */
  close(): void;
}

/**
 * Characters a line (a CSV record) of an import may hold. An export's longest lines are its process
 * version records, a definition file of at most 4 MiB with its source text escaped in JSON (and its
 * quotes doubled in CSV): well within it. A longer line is rejected unread, not held whole.
 */
export const MAX_IMPORT_LINE_LENGTH = 64 * 1024 * 1024;

export interface ImportSourceOptions {
  readonly maxLineLength?: number;
}

/** Opens an import file; the format comes from `--format` or the extension (.jsonl/.ndjson or .csv). */
export async function openImportSource(file: string, format?: ImportFormat, options: ImportSourceOptions = {}): Promise<ImportSource> {
  const maxLineLength = options.maxLineLength ?? MAX_IMPORT_LINE_LENGTH;
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new Error('not a file');
    size = stat.size;
  } catch (error) {
    throw new CliError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  const chosen = format ?? (/\.(jsonl|ndjson)$/i.test(file) ? 'jsonl' : /\.csv$/i.test(file) ? 'csv' : undefined);
  if (!chosen) throw new CliError(`Cannot tell the format of ${file} from its name: give --format jsonl or --format csv.`);
  await assertUtf8(file);
  // Opened when first read, and let go by close(): a stream made and left unread (the import
  // failed to open its store) held the file, or opened it late, gone by then (a temporary file
  // removed on that failure), with an ENOENT 'error' nobody listened to, which ended the process.
  let stream: ReadStream | undefined;
  const open = () => (stream ??= createReadStream(file, { encoding: 'utf8' }));
  const bytesRead = () => stream?.bytesRead ?? 0;
  const close = () => void stream?.destroy();

  if (chosen === 'jsonl') {
    return { content: 'event-log', size, bytesRead, items: () => jsonlItems(open() as AsyncIterable<string>, maxLineLength), close };
  }
  try {
    return await csvSource(file, open() as AsyncIterable<string>, size, bytesRead, close, maxLineLength);
  } catch (error) {
    close();
    throw error;
  }
}

async function csvSource(file: string, stream: AsyncIterable<string>, size: number, bytesRead: () => number, close: () => void, maxLineLength: number): Promise<ImportSource> {
  const records = readCsvRecords(stream, { maxRecordLength: maxLineLength });
  const first = await records.next();
  if (first.done) throw new CliError(`${file} is empty: a CSV import needs a header row.`);
  if (first.value.fault) throw new CliError(`${file}:${first.value.line} header, column ${first.value.fault.cell + 1}: ${first.value.fault.reason}. Nothing was imported.`);
  // trim() drops a byte order mark too: a file that is only one has an empty header, not a column "".
  const header = first.value.cells.map((cell) => cell.trim());
  if (header.every((name) => name === '')) {
    throw new CliError(`${file}:${first.value.line} is empty where a CSV import needs its header row (the column names, such as ${BACKFILL_COLUMNS.slice(0, 3).join(',')}). Nothing was imported.`);
  }
  if (header.includes('type') && header.includes('data')) {
    const missing = ['id', 'stream', 'revision', 'type', 'data', 'metadata'].filter((column) => !header.includes(column));
    if (missing.length > 0) throw new CliError(`${file}:${first.value.line} looks like an exported event log (${EVENT_CSV_COLUMNS.join(',')}) but lacks ${missing.join(', ')}.`);
    return { content: 'event-log', size, bytesRead, items: () => eventCsvItems(records, header), close };
  }
  const checked = backfillHeader(header);
  if (!checked.ok) throw new CliError(`${file}:${first.value.line} header: ${checked.reason}. Nothing was imported.`);
  return {
    content: 'backfill',
    size,
    bytesRead,
    close,
    items: async function* () {
      for await (const record of records) {
        // A broken quote leaves the cells before it: the deal's id among them, where it came first.
        const deal = backfillRowDeal(record.cells, checked.index);
        const named = deal === undefined ? {} : { deal: { opportunityId: deal } };
        if (record.fault) {
          yield { kind: 'unreadable', line: record.line, reason: csvFaultReason(record.fault, header), ...named };
          continue;
        }
        const parsed = parseBackfillRow(record.line, record.cells, checked.index);
        yield parsed.ok ? { kind: 'row', line: record.line, row: parsed.row } : { kind: 'unreadable', line: record.line, reason: parsed.reason, ...named };
      }
    },
  };
}

async function* jsonlItems(stream: AsyncIterable<string>, maxLineLength: number): AsyncGenerator<ImportItem> {
  let line = 0;
  for await (const next of readLines(stream, maxLineLength)) {
    line += 1;
    if (!('text' in next)) {
      yield { kind: 'unreadable', line, reason: `is longer than ${maxLineLength} characters, which no exported event is; the line is not read` };
      continue;
    }
    const read = next.text;
    // A byte order mark, as editors and tools on Windows write at the start of UTF-8 text (a CSV's
    // header loses it to trim(), which counts it as a space): not part of the first line's JSON.
    const text = line === 1 && read.startsWith('\uFEFF') ? read.slice(1) : read;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      yield { kind: 'unreadable', line, reason: `not valid JSON: ${printable((error as Error).message)}` };
      continue;
    }
    const parsed = toEventRecord(line, value);
    yield parsed.ok ? { kind: 'event', line, record: parsed.record } : { kind: 'unreadable', line, reason: parsed.reason, ...streamNamed(value) };
  }
}

/** The stream a line of an export names, when it can be read from what the line holds. */
function streamNamed(value: unknown): { deal?: DealNamed } {
  const stream = value !== null && typeof value === 'object' ? (value as { stream?: unknown }).stream : undefined;
  return typeof stream === 'string' && stream !== '' ? { deal: { stream } } : {};
}

async function* eventCsvItems(records: AsyncGenerator<CsvRecord>, header: readonly string[]): AsyncGenerator<ImportItem> {
  const at = (name: string) => header.indexOf(name);
  for await (const { line, cells, fault } of records) {
    const cell = (name: string) => unguardCell(cells[at(name)] ?? '');
    if (fault) {
      yield { kind: 'unreadable', line, reason: csvFaultReason(fault, header), ...streamNamed({ stream: cell('stream') }) };
      continue;
    }
    let data: unknown;
    let metadata: unknown;
    try {
      data = JSON.parse(cell('data'));
      metadata = JSON.parse(cell('metadata'));
    } catch (error) {
      yield { kind: 'unreadable', line, reason: `data or metadata is not valid JSON: ${printable((error as Error).message)}`, ...streamNamed({ stream: cell('stream') }) };
      continue;
    }
    // Decimal digits, as the export writes it: Number() alone reads "0x1" as 1 and " 2.0 " as 2, so a
    // hand-edited cell would land its event at a revision the file never wrote. Anything else stays
    // text, which toEventRecord refuses naming the cell.
    const revisionText = cell('revision');
    const revision = revisionText === '' ? undefined : /^\d{1,15}$/.test(revisionText) ? Number(revisionText) : revisionText;
    const parsed = toEventRecord(line, { id: cell('id'), stream: cell('stream'), revision, type: cell('type'), data, metadata });
    yield parsed.ok ? { kind: 'event', line, record: parsed.record } : { kind: 'unreadable', line, reason: parsed.reason, ...streamNamed({ stream: cell('stream') }) };
  }
}

/** A row that breaks CSV's quoting, as a rejection naming its column: the row is not read on. */
function csvFaultReason(fault: CsvFault, header: readonly string[]): string {
  const name = header[fault.cell];
  return `${name ? (/^\w{1,40}$/.test(name) ? name : `column ${fault.cell + 1} (${quoted(name)})`) : `column ${fault.cell + 1}`}: ${fault.reason}; the row is not read`;
}

/**
 * Reads the file once to check it is UTF-8 before anything is imported: decoded as it streams,
 * a Latin-1 "été" would be recorded as "\uFFFDt\uFFFD", silently and for good.
 */
async function assertUtf8(file: string): Promise<void> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  let end = 0;
  try {
    for await (const chunk of createReadStream(file)) {
      if (offset === 0) assertNotUtf16(file, chunk as Buffer);
      end = offset + (chunk as Buffer).length;
      decoder.decode(chunk as Buffer, { stream: true });
      offset = end;
    }
    decoder.decode();
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${file} is not UTF-8 text (an invalid byte between byte ${offset} and byte ${end}); save it as UTF-8 and import it again. Nothing was imported.`);
  }
}

/**
 * UTF-16 (what Excel's "Unicode text" and PowerShell's redirection write) named as such: with its
 * byte order mark it is invalid UTF-8, which the reader says without naming the cause; without one,
 * English text in UTF-16 is valid UTF-8 with a NUL after every letter, and every line was rejected
 * with NULs printed into the terminal. Neither a JSON line nor a field may hold U+0000.
 */
function assertNotUtf16(file: string, start: Buffer): void {
  const bom = start.length >= 2 && ((start[0] === 0xff && start[1] === 0xfe) || (start[0] === 0xfe && start[1] === 0xff));
  if (bom || start.subarray(0, 4).includes(0)) {
    const why = bom ? 'it starts with a UTF-16 byte order mark' : 'its first bytes hold NUL bytes, as UTF-16 text does';
    throw new CliError(`${file} is UTF-16 text, not UTF-8 (${why}); save it as UTF-8 and import it again. Nothing was imported.`);
  }
}

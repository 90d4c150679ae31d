import { UnreadableEventError } from '../event-store.errors';
import { MAX_STORED_JSON_DEPTH, nestsDeeperThan } from '../json-depth';
import type { StoredEvent } from '../event-store.port';

/** An event as the events table holds it: data and metadata as the JSON text stored. */
export interface EventRow {
  position: number;
  id: string;
  stream: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  recorded_at: string;
}

/** Each reader gets objects of its own, parsed from the stored text. */
export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    stream: row.stream,
    revision: row.revision,
    position: row.position,
    type: row.type,
    data: parsedColumn(row.data, 'data', row.stream, row.revision, row.position, row.id),
    metadata: parsedColumn(row.metadata, 'metadata', row.stream, row.revision, row.position, row.id),
    recordedAt: row.recorded_at,
  };
}

/**
 * An events row as the reads take it: the columns in `EVENT_COLUMNS` order, as an array. Rows come
 * out of better-sqlite3 faster as arrays than as objects (no keys to set per row), which a replay
 * of millions of rows feels.
 */
export type EventTuple = [position: number, id: string, stream: string, revision: number, type: string, data: string, metadata: string, recordedAt: string];

/** The columns of an EventTuple, for the SELECTs that read them. */
export const EVENT_COLUMNS = 'position, id, stream, revision, type, data, metadata, recorded_at';

/** Each reader gets objects of its own, parsed from the stored text (as toStoredEvent). */
export function fromEventTuple([position, id, stream, revision, type, data, metadata, recordedAt]: EventTuple): StoredEvent {
  // Columns an append always writes as a whole number or a text: anything else was written by hand
  // (SQLite keeps 'abc' in an INTEGER column), and read as it is it would fail far from its cause.
  if (!Number.isSafeInteger(revision) || (revision as number) < 0) throw new UnreadableEventError(String(stream), Number.NaN, position, `its revision is not a whole number (${JSON.stringify(revision)})`, textOrUndefined(id));
  if (typeof stream !== 'string' || typeof type !== 'string' || typeof id !== 'string' || typeof recordedAt !== 'string') {
    const [column, value] = typeof stream !== 'string' ? ['stream', stream] : typeof type !== 'string' ? ['type', type] : typeof id !== 'string' ? ['id', id] : ['recorded_at', recordedAt];
    throw new UnreadableEventError(String(stream), revision, position, `its ${column} is not a text (${JSON.stringify(value)})`, textOrUndefined(id));
  }
  return {
    id,
    stream,
    revision,
    position,
    type,
    data: parsedColumn(data, 'data', stream, revision, position, id),
    metadata: parsedColumn(metadata, 'metadata', stream, revision, position, id),
    recordedAt,
  };
}

/**
 * A JSON column of a stored event, parsed; text that is not a JSON object names the event it
 * belongs to. Every event this service writes holds objects there: anything else (null, an array,
 * a string) was written by hand, and read as an object it would fail later, far from its cause.
 */
function parsedColumn(text: string, column: 'data' | 'metadata', stream: string, revision: number, position: number, id: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UnreadableEventError(stream, revision, position, `its ${column} is not JSON (${(error as Error).message})`, id);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new UnreadableEventError(stream, revision, position, `its ${column} is not a JSON object (${kind})`, id);
  }
  // A number past a double's range (1e999) parses to ±Infinity, which the hash chain's JSON writes
  // as null: an edit from null to it would read differently and still verify. No append writes one
  // (JSON.stringify writes null); only a long exponent or a long run of digits can make one, so
  // most rows skip the walk.
  if (MAY_OVERFLOW.test(text) && holdsInfinity(value)) throw new UnreadableEventError(stream, revision, position, `its ${column} holds a number too large for a double (written outside Stagecraft)`, id);
  // Nesting deeper than the limit takes two characters a level: shorter text (nearly every row) is not walked.
  if (text.length > 2 * MAX_STORED_JSON_DEPTH && nestsDeeperThan(value, MAX_STORED_JSON_DEPTH)) {
    throw new UnreadableEventError(stream, revision, position, `its ${column} is nested deeper than ${MAX_STORED_JSON_DEPTH} levels (written outside Stagecraft)`, id);
  }
  return value as Record<string, unknown>;
}

/**
 * A JSON number that may overflow a double: a three-digit exponent, or 309 digits and more written
 * out. Only where JSON puts a number (after `:`, `,` or `[` and any blanks): anywhere in the text,
 * the ids' hex (`…-4e123…`) matched in about one row of three, each then walked, and the scan
 * itself cost more than the parse (~1.6 s of a 1M-event replay's CPU against ~0.5 s now).
 */
const MAY_OVERFLOW = /[:,[][ \t\n\r]*-?(?:\d{309}|\d+(?:\.\d+)?[eE][+-]?\d{3})/;

function holdsInfinity(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some(holdsInfinity);
}

function textOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

// Parameters of the writer's multi-row statements, as PostgreSQL array literals built here in one
// pass. A profile of the projector put `new Date(ms).toISOString()` and the driver's per-element
// escaping (two regular expressions and a concatenation per value) among its largest costs while
// folding a long log; the text sent is the same, so the rows written are the same.

const DAY_MS = 86_400_000;
/** 0001-01-01 and 10000-01-01: between them toISOString writes a four-digit year. */
const FIRST_MS = -62_135_596_800_000;
const AFTER_LAST_MS = 253_402_300_800_000;

/** The 'YYYY-MM-DDT' of each day met, by day number (a log spans few days compared with its events). */
const dayPrefixes = new Map<number, string>();

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const three = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/** What `new Date(ms).toISOString()` says (null for null or a time that is none), without a Date for common instants. */
export function isoOf(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms)) return null;
  if (!Number.isInteger(ms) || ms < FIRST_MS || ms >= AFTER_LAST_MS) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    if (dayPrefixes.size >= 100_000) dayPrefixes.clear();
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    dayPrefixes.set(day, prefix);
  }
  let rest = ms - day * DAY_MS;
  const milliseconds = rest % 1000;
  rest = (rest - milliseconds) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  return `${prefix}${two(hours)}:${two(minutes)}:${two(seconds)}.${three(milliseconds)}Z`;
}

// Each literal is joined from an array of its elements: one flat string, where `+=` would leave a
// rope of thousands of pieces alive until the batch is sent (garbage the collector then promotes).

/** A text[] (or date[], timestamptz[], jsonb[]) literal: every element quoted, so no value reads as NULL or splits. */
export function textArray(values: readonly (string | null)[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    parts[i] = value === null || value === undefined ? 'NULL' : `"${value.includes('\\') || value.includes('"') ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"') : value}"`;
  }
  return `{${parts.join(',')}}`;
}

/** A float8[], bigint[] or int[] literal: each number as JavaScript writes it (what the driver sends too), which PostgreSQL reads back to the same value. */
export function numberArray(values: readonly (number | null)[]): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    parts[i] = value === null || value === undefined ? 'NULL' : String(value);
  }
  return `{${parts.join(',')}}`;
}

/** A bool[] literal. */
export function boolArray(values: readonly boolean[]): string {
  return `{${values.map((value) => (value ? 't' : 'f')).join(',')}}`;
}

/** SQL giving a timestamptz column as whole milliseconds since the epoch, as the in-memory models hold instants. */
export const ms = (column: string): string => `(EXTRACT(EPOCH FROM ${column}) * 1000)::double precision`;

// Beyond what a timestamptz (and an ISO string) can say, an instant is before or after everything.
export const instantParameter = (atMs: number): string => (atMs > 253402300799999 ? 'infinity' : atMs < -62135596800000 ? '-infinity' : new Date(atMs).toISOString());

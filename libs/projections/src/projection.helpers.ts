import { OPPORTUNITY_EVENT_TYPES, OPPORTUNITY_STREAM_PREFIX, requireInstant, requireLowerBound, storedInstant, type ExitCriterionMet, type ExitCriterionRevoked, type NoChangeRecorded, type OpportunityEvent } from '@stagecraft/opportunity';
import type { AnalyticsFilter } from './projection.types';

/**
 * The opportunity id of an event that belongs to that opportunity's own stream, else undefined.
 * Other streams may reuse an event type name; only `opportunity-<id>` speaks for an opportunity.
 * Compares without building the stream name: this runs once per event of a rebuild.
 */
export function opportunityIdOf(event: { readonly stream: string; readonly data: { readonly opportunityId?: unknown } }): string | undefined {
  const id = event.data.opportunityId;
  if (typeof id !== 'string') return undefined;
  const { stream } = event;
  return stream.length === OPPORTUNITY_STREAM_PREFIX.length + id.length && stream.startsWith(OPPORTUNITY_STREAM_PREFIX) && stream.endsWith(id)
    ? id
    : undefined;
}

// The runner hands the same event to every read model in turn, so one remembered parse saves
// the others theirs: parsing dates is the largest cost of a rebuild.
let lastOccurredAt: unknown;
let lastOccurredAtMs = NaN;

/**
 * Milliseconds of an event's business time; NaN when absent or not an instant as Stagecraft writes
 * one (storedInstant): a time without a zone, from another tool, must not fold by the server's zone.
 */
export function occurredAtMs(event: { readonly data: { readonly occurredAt?: unknown } }): number {
  const at = event.data.occurredAt;
  if (at !== lastOccurredAt) {
    lastOccurredAt = at;
    lastOccurredAtMs = storedInstant(at);
  }
  return lastOccurredAtMs;
}

/**
 * An event's business time for a fold that is about to take it in; throws when it is not an
 * instant. Every read model needs the time of each event it folds (visits, closings, the board at
 * an instant), and only another tool or an edit of the log writes one that is not: folding it as
 * some time, or as none, would give figures no one can trust, so the model stops there, naming it.
 */
export function requireOccurredAtMs(event: { readonly data: { readonly occurredAt?: unknown } }): number {
  const ms = occurredAtMs(event);
  if (Number.isNaN(ms)) throw new Error(unreadableTimeReason(event.data.occurredAt));
  return ms;
}

const unreadableTimeReason = (value: unknown): string =>
  value === undefined
    ? 'it has no occurredAt (another tool or an edit of the log wrote it)'
    : `its occurredAt ${JSON.stringify(value) ?? String(value)} is not an ISO 8601 instant with a zone, as Stagecraft writes one (another tool or an edit of the log wrote it)`;

export const optionalNumber = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** An analytics filter with its instants parsed once per query. */
export interface ParsedFilter {
  readonly processId: string | undefined;
  readonly teamId: string | undefined;
  readonly ownerId: string | undefined;
  /** The first whole millisecond at or after `from` (requireLowerBound): …00.0005Z takes in …00.001Z on, not …00.000Z. */
  readonly fromMs: number;
  /** The whole millisecond `to` falls in: the instants at or before it. */
  readonly toMs: number;
  /** Whether from or to is given at all. */
  readonly bounded: boolean;
}

export function parseFilter(filter: AnalyticsFilter): ParsedFilter {
  return {
    processId: filter.processId,
    teamId: filter.teamId,
    ownerId: filter.ownerId,
    fromMs: filter.from === undefined ? -Infinity : requireLowerBound(filter.from, 'from'),
    toMs: filter.to === undefined ? Infinity : requireInstant(filter.to, 'to'),
    bounded: filter.from !== undefined || filter.to !== undefined,
  };
}


/**
 * An empty record for keys that come from outside (currencies are free text from clients): with
 * no prototype, a key such as "__proto__" is just a key.
 */
export const dictionary = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

// Opportunities that have an amount but no currency are summed under this key, apart from every
// real currency.
export const NO_CURRENCY = 'unspecified';

/**
 * The one total a figure may show beside its per-currency sums (issue 15): the sum of its only
 * currency (0 when nothing was added), and null when amounts are in several currencies (an amount
 * without a currency, NO_CURRENCY, counts as one of its own) — never EUR and USD added together.
 */
export function soleCurrencyTotal(byCurrency: Readonly<Record<string, number>>): number | null {
  let total: number | null = 0;
  let seen = 0;
  for (const key in byCurrency) {
    seen++;
    total = seen === 1 ? byCurrency[key]! : null;
  }
  return total;
}

// Growable columns of numbers: one typed array instead of an object per row. Plain data, no
// class or closure, so a model survives structured cloning (the runner's snapshots use V8's
// serializer, which drops prototypes and refuses functions).
export interface Float64Column {
  values: Float64Array;
  length: number;
}
export interface Int32Column {
  values: Int32Array;
  length: number;
}

export const float64Column = (capacity = 64): Float64Column => ({ values: new Float64Array(capacity), length: 0 });
export const int32Column = (capacity = 64): Int32Column => ({ values: new Int32Array(capacity), length: 0 });

export function pushFloat64(column: Float64Column, value: number): void {
  if (column.length === column.values.length) {
    const grown = new Float64Array(Math.max(16, column.values.length * 2));
    grown.set(column.values);
    column.values = grown;
  }
  column.values[column.length++] = value;
}

export function pushInt32(column: Int32Column, value: number): void {
  if (column.length === column.values.length) {
    const grown = new Int32Array(Math.max(16, column.values.length * 2));
    grown.set(column.values);
    column.values = grown;
  }
  column.values[column.length++] = value;
}

/** Any event with a business time. */
export interface AtInstant {
  readonly data: { readonly occurredAt: string };
}

/** The events that open, move, close, reopen, change or migrate an opportunity: all but the criteria (and a keyed command's NoChangeRecorded, which changes nothing). */
export type StageLifeEvent = Exclude<OpportunityEvent, ExitCriterionMet | ExitCriterionRevoked | NoChangeRecorded>;

/** What a read model following an opportunity through its stages reads: process versions, and every event that opens, moves, closes, reopens or changes an opportunity. */
export const STAGE_LIFE_EVENTS = [
  'ProcessVersionRecorded' as const,
  ...OPPORTUNITY_EVENT_TYPES.filter((type): type is StageLifeEvent['type'] => type !== 'ExitCriterionMet' && type !== 'ExitCriterionRevoked' && type !== 'NoChangeRecorded'),
];

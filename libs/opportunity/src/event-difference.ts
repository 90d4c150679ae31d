import { canonicalOpportunityId } from './opportunity-stream';
import type { OpportunityEvent } from './opportunity.events';
import { parseInstant } from './instant';
import { canonicalJson } from '@stagecraft/sales-process';

/** An event as a log records it: its type and data (what the chain and the store add is not part of the fact). */
export interface RecordedEventFact {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * Where decided events first differ from the events they were expected to be: the event (its index
 * among the command's), the field (`type`, or `data.<name>`), and its value on each side (undefined:
 * the field, or the event, is not there).
 */
export interface EventDifference {
  readonly index: number;
  readonly field: string;
  readonly expected: unknown;
  readonly decided: unknown;
}

/**
 * The first difference between the events a command was expected to record and those decide()
 * made, or undefined when they are the same facts: the same types, and data with the same fields
 * holding the same values (JSON equality: key order aside). Two fields are compared as what they
 * mean: the opportunity id as the deal it names (its canonical lower-case form, which the command
 * side writes), and `occurredAt` as the instant it names (decide() writes it in one form, so
 * `…T09:00:00Z` is recorded as `…T09:00:00.000Z`, the same time). Every other field is compared as
 * it stands, so a field decide() derives (a stage, a direction, an amount, the criteria kept)
 * that the expected event says otherwise is a difference, not something decided again in silence.
 */
export function firstEventDifference(expected: readonly RecordedEventFact[], decided: readonly OpportunityEvent[]): EventDifference | undefined {
  for (let index = 0; index < Math.max(expected.length, decided.length); index += 1) {
    const want = expected[index];
    const got = decided[index] as RecordedEventFact | undefined;
    if (want === undefined || got === undefined || want.type !== got.type) return { index, field: 'type', expected: want?.type, decided: got?.type };
    const fields = [...Object.keys(want.data), ...Object.keys(got.data).filter((field) => !Object.hasOwn(want.data, field))];
    for (const field of fields) {
      const a = Object.hasOwn(want.data, field) ? want.data[field] : undefined;
      const b = Object.hasOwn(got.data, field) ? got.data[field] : undefined;
      if (!sameField(field, a, b)) return { index, field: `data.${field}`, expected: a, decided: b };
    }
  }
  return undefined;
}

function sameField(field: string, a: unknown, b: unknown): boolean {
  if (field === 'opportunityId' && typeof a === 'string' && typeof b === 'string') return canonicalOpportunityId(a) === canonicalOpportunityId(b);
  if (field === 'occurredAt' && typeof a === 'string' && typeof b === 'string' && a !== b) {
    const instant = parseInstant(a);
    return instant !== undefined && instant === parseInstant(b);
  }
  // JSON equality, key order aside (a field holding undefined is not there).
  return canonicalJson(a) === canonicalJson(b);
}

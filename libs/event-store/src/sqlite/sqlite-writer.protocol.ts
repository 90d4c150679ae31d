import Database from 'better-sqlite3';
import { DuplicateEventIdError, WrongExpectedRevisionError } from '../event-store.errors';
import type { AppendResult, ExpectedRevision, StreamRevision } from '../event-store.port';
import type { SQLiteDurability } from './sqlite-database';

// What the main thread and the writer thread say to each other. Only plain data crosses
// (structured clone drops classes), so errors travel as descriptions and are rebuilt here.

/** An event with data and metadata already JSON: serialised on the caller's side, so a bad event fails its own append. */
export interface SerializedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

/** Fields per event in CommitRequest.appends: id, type, data, metadata. */
export const EVENT_FIELDS = 4;

/**
 * Appends that share one transaction, stamped with one recordedAt. Flat, so that crossing to the
 * writer thread copies strings and numbers rather than an object (and its member names) per append
 * and per event: `count` appends, each as stream, expectedRevision, its number of events n, then
 * n × EVENT_FIELDS.
 */
export interface CommitRequest {
  readonly id: number;
  readonly recordedAt: string;
  readonly count: number;
  readonly appends: readonly (string | number)[];
}

/** Flattens appends into CommitRequest.appends. */
export function flattenAppends(appends: readonly { readonly stream: string; readonly expectedRevision: ExpectedRevision; readonly events: readonly SerializedEvent[] }[]): (string | number)[] {
  const fields: (string | number)[] = [];
  for (const { stream, expectedRevision, events } of appends) {
    fields.push(stream, expectedRevision, events.length);
    for (const event of events) fields.push(event.id, event.type, event.data, event.metadata);
  }
  return fields;
}

export type ErrorDescription =
  | { readonly kind: 'wrong-revision'; readonly stream: string; readonly expected: ExpectedRevision; readonly actual: StreamRevision }
  | { readonly kind: 'duplicate-id'; readonly stream: string; readonly eventId: string }
  | { readonly kind: 'sqlite'; readonly message: string; readonly code: string }
  | { readonly kind: 'other'; readonly name: string; readonly message: string };

/** `firstPosition`: where the append's first event was written, when it wrote any (its events follow it one by one). */
export type AppendOutcome =
  | { readonly ok: true; readonly result: AppendResult; readonly wrote: boolean; readonly firstPosition?: number }
  | { readonly ok: false; readonly error: ErrorDescription };

/** Fields per append in CommitReply.outcomes: code, then nextRevision, position, firstPosition (or the error's index). */
export const OUTCOME_FIELDS = 4;

/** The first field of an outcome. Unchanged: nothing written (an empty append, or a retry of one already stored). */
export const OutcomeCode = { Wrote: 0, Unchanged: 1, Failed: 2 } as const;

/**
 * The batch committed (each append succeeded or failed alone), or nothing of it did.
 * `outcomes`: OUTCOME_FIELDS numbers per append (read them with outcomeAt); a transferable buffer.
 * `othersWrote`: the log's head moved between this writer's previous commit and this one (or
 * there was no previous one): another connection (a second process) wrote in between.
 * `headBefore`, `headAfter`: the log's head when the transaction began and when it ended; it held
 * the write lock throughout, so every event in between is one of this batch's.
 */
export type CommitReply =
  | {
      readonly id: number;
      readonly committed: true;
      readonly outcomes: Float64Array<ArrayBuffer>;
      readonly errors: readonly ErrorDescription[];
      readonly othersWrote: boolean;
      readonly headBefore: number;
      readonly headAfter: number;
    }
  | { readonly id: number; readonly committed: false; readonly error: ErrorDescription };

/** The outcome of the batch's append at `index`. */
export function outcomeAt(reply: Extract<CommitReply, { committed: true }>, index: number): AppendOutcome {
  const at = index * OUTCOME_FIELDS;
  const { outcomes } = reply;
  if (outcomes[at] === OutcomeCode.Failed) return { ok: false, error: reply.errors[outcomes[at + 1]!]! };
  const result = { nextRevision: outcomes[at + 1]!, position: outcomes[at + 2]! };
  return outcomes[at] === OutcomeCode.Wrote ? { ok: true, result, wrote: true, firstPosition: outcomes[at + 3]! } : { ok: true, result, wrote: false };
}

export interface WriterThreadData {
  readonly path: string;
  readonly durability: SQLiteDurability;
}

const { SqliteError } = Database;

export function describeError(error: unknown): ErrorDescription {
  if (error instanceof WrongExpectedRevisionError) return { kind: 'wrong-revision', stream: error.stream, expected: error.expected, actual: error.actual };
  if (error instanceof DuplicateEventIdError) return { kind: 'duplicate-id', stream: error.stream, eventId: error.eventId };
  if (error instanceof SqliteError) return { kind: 'sqlite', message: error.message, code: error.code };
  if (error instanceof Error) return { kind: 'other', name: error.name, message: error.message };
  return { kind: 'other', name: 'Error', message: String(error) };
}

export function errorOf(description: ErrorDescription): Error {
  switch (description.kind) {
    case 'wrong-revision':
      return new WrongExpectedRevisionError(description.stream, description.expected, description.actual);
    case 'duplicate-id':
      return new DuplicateEventIdError(description.stream, description.eventId);
    case 'sqlite':
      return new SqliteError(description.message, description.code);
    case 'other': {
      const error = new Error(description.message);
      error.name = description.name;
      return error;
    }
    default: {
      const _exhaustive: never = description;
      return _exhaustive;
    }
  }
}

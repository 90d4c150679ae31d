import type Database from 'better-sqlite3';
import { DuplicateEventIdError, WrongExpectedRevisionError } from '../event-store.errors';
import type { AppendResult, ExpectedRevision, StreamRevision } from '../event-store.port';
import { describeError, EVENT_FIELDS, OUTCOME_FIELDS, OutcomeCode, type AppendOutcome, type CommitReply, type CommitRequest, type ErrorDescription } from './sqlite-writer.protocol';

type EventLocation = { stream: string; revision: number; position: number };

/**
 * The write side of the SQLite store: one batch of appends in one IMMEDIATE transaction, each
 * append checked against its stream as it stands inside that transaction. Runs wherever the
 * writing connection lives (the writer thread; the caller's thread for an in-memory store).
 */
export function createBatchCommitter(db: Database.Database): (request: CommitRequest) => CommitReply {
  const insert = db.prepare<[string, string, number, string, string, string, string]>(
    'INSERT INTO events (id, stream, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const byId = db.prepare<[string], EventLocation>('SELECT stream, revision, position FROM events WHERE id = ?');
  const lastOfStream = db.prepare<[string], { revision: number; position: number }>('SELECT revision, position FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1');
  // An append's first id and its stream's last revision in one statement (one call into SQLite per
  // append instead of two): `taken` is the position holding that id, if any.
  const firstIdAndLast = db
    .prepare<[string, string], [number | null, number | null]>(
      'SELECT (SELECT position FROM events WHERE id = ?), (SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1)',
    )
    .raw();
  const headOfLog = db.prepare<[], { head: number }>('SELECT coalesce(max(position), 0) AS head FROM events');
  /** The log's head as this writer's last commit left it; unknown before the first and after a failed one. */
  let headAfterLastCommit: number | undefined;

  /**
   * One append: its events are `count` runs of EVENT_FIELDS in `fields` from `start`. Every check
   * that can refuse it alone (a wrong revision, a duplicate id) runs before its first insert, so
   * a refused append has written nothing and needs no savepoint to undo.
   */
  const writeAppend = (stream: string, expectedRevision: ExpectedRevision, fields: CommitRequest['appends'], start: number, count: number, recordedAt: string): AppendOutcome => {
    const idAt = (index: number) => fields[start + index * EVENT_FIELDS] as string;
    if (count === 0) {
      // Nothing to write: report where the stream stands. A missing stream gives nextRevision -1
      // (accepted back as expectedRevision, meaning 'no_stream') and position 0 (nothing to wait for).
      const last = lastOfStream.get(stream);
      const actual: StreamRevision = last ? last.revision : 'no_stream';
      if (!satisfies(expectedRevision, actual)) throw new WrongExpectedRevisionError(stream, expectedRevision, actual);
      return { ok: true, result: { nextRevision: last?.revision ?? -1, position: last?.position ?? 0 }, wrote: false };
    }

    const [taken, lastRevision] = firstIdAndLast.get(idAt(0), stream)!;
    if (taken !== null) return { ok: true, result: confirmRetry(stream, idAt, count, byId.get(idAt(0))!), wrote: false };
    for (let index = 1; index < count; index++) {
      if (byId.get(idAt(index))) throw new DuplicateEventIdError(stream, idAt(index));
    }
    const actual: StreamRevision = lastRevision ?? 'no_stream';
    if (!satisfies(expectedRevision, actual)) throw new WrongExpectedRevisionError(stream, expectedRevision, actual);

    let revision = lastRevision ?? -1;
    let position = 0;
    let firstPosition = 0;
    for (let index = 0, at = start; index < count; index++, at += EVENT_FIELDS) {
      revision += 1;
      position = Number(insert.run(fields[at] as string, stream, revision, fields[at + 1] as string, fields[at + 2] as string, fields[at + 3] as string, recordedAt).lastInsertRowid);
      if (index === 0) firstPosition = position;
    }
    return { ok: true, result: { nextRevision: revision, position }, wrote: true, firstPosition };
  };

  /**
   * The first id is stored: a true retry stored all ids in this stream, in order, back to back.
   * Otherwise the error names the first id, as it always names the append's first stored id.
   */
  const confirmRetry = (stream: string, idAt: (index: number) => string, count: number, first: EventLocation): AppendResult => {
    let last = first;
    for (let index = 0; index < count; index++) {
      const stored = index === 0 ? first : byId.get(idAt(index));
      if (!stored || stored.stream !== stream || stored.revision !== first.revision + index) {
        throw new DuplicateEventIdError(stream, idAt(0));
      }
      last = stored;
    }
    return { nextRevision: last.revision, position: last.position };
  };

  const commitBatch = db.transaction((request: CommitRequest) => {
    // Under the write lock, so nobody else writes between these two reads of the head.
    const headBefore = headOfLog.get()!.head;
    const fields = request.appends;
    const outcomes = new Float64Array(request.count * OUTCOME_FIELDS);
    const errors: ErrorDescription[] = [];
    for (let append = 0, at = 0; append < request.count; append++) {
      const stream = fields[at] as string;
      const expectedRevision = fields[at + 1] as ExpectedRevision;
      const count = fields[at + 2] as number;
      let outcome: AppendOutcome;
      try {
        outcome = writeAppend(stream, expectedRevision, fields, at + 3, count, request.recordedAt);
      } catch (error) {
        // Refused before writing anything: this append fails alone. Anything else (an I/O error,
        // a full disk) may have left part of it written: the whole batch is rolled back.
        if (!(error instanceof WrongExpectedRevisionError || error instanceof DuplicateEventIdError)) throw error;
        outcome = { ok: false, error: describeError(error) };
      }
      writeOutcome(outcomes, append, outcome, errors);
      at += 3 + count * EVENT_FIELDS;
    }
    return { outcomes, errors, headBefore, headAfter: headOfLog.get()!.head };
  });

  return (request) => {
    try {
      // IMMEDIATE takes the write lock up front: a deferred read-then-write could hit
      // SQLITE_BUSY_SNAPSHOT when another process writes in between.
      const { outcomes, errors, headBefore, headAfter } = commitBatch.immediate(request);
      const othersWrote = headAfterLastCommit === undefined || headBefore !== headAfterLastCommit;
      headAfterLastCommit = headAfter;
      return { id: request.id, committed: true, outcomes, errors, othersWrote, headBefore, headAfter };
    } catch (error) {
      headAfterLastCommit = undefined;
      return { id: request.id, committed: false, error: describeError(error) };
    }
  };
}

function writeOutcome(outcomes: Float64Array, index: number, outcome: AppendOutcome, errors: ErrorDescription[]): void {
  const at = index * OUTCOME_FIELDS;
  if (!outcome.ok) {
    outcomes[at] = OutcomeCode.Failed;
    outcomes[at + 1] = errors.push(outcome.error) - 1;
    return;
  }
  outcomes[at] = outcome.wrote ? OutcomeCode.Wrote : OutcomeCode.Unchanged;
  outcomes[at + 1] = outcome.result.nextRevision;
  outcomes[at + 2] = outcome.result.position;
  outcomes[at + 3] = outcome.firstPosition ?? 0;
}

function satisfies(expected: ExpectedRevision, actual: StreamRevision): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === 'no_stream';
    case 'stream_exists':
      return actual !== 'no_stream';
    default:
      // -1 is what an empty append to a missing stream returns as nextRevision.
      return expected === -1 ? actual === 'no_stream' : actual === expected;
  }
}

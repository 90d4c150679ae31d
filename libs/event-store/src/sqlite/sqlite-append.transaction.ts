import type Database from 'better-sqlite3';
import { DuplicateEventIdError, WrongExpectedRevisionError } from '../event-store.errors';
import type { AppendResult, ExpectedRevision, StreamRevision } from '../event-store.port';
import { describeError, type AppendOutcome, type AppendRequest, type CommitReply, type CommitRequest, type SerializedEvent } from './sqlite-writer.protocol';

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
  const headOfLog = db.prepare<[], { head: number }>('SELECT coalesce(max(position), 0) AS head FROM events');
  /** The log's head as this writer's last commit left it; unknown before the first and after a failed one. */
  let headAfterLastCommit: number | undefined;

  /** One append; throws the typed error that fails it alone. */
  const writeAppend = (append: AppendRequest, recordedAt: string): { result: AppendResult; wrote: boolean; firstPosition?: number } => {
    const { stream, events, expectedRevision } = append;
    if (events.length > 0) {
      const first = byId.get(events[0].id);
      if (first) return { result: confirmRetry(stream, events, first), wrote: false };
      for (const event of events.slice(1)) {
        if (byId.get(event.id)) throw new DuplicateEventIdError(stream, event.id);
      }
    }

    const last = lastOfStream.get(stream);
    const actual: StreamRevision = last ? last.revision : 'no_stream';
    if (!satisfies(expectedRevision, actual)) throw new WrongExpectedRevisionError(stream, expectedRevision, actual);

    // Nothing to write: report where the stream stands. A missing stream gives nextRevision -1
    // (accepted back as expectedRevision, meaning 'no_stream') and position 0 (nothing to wait for).
    if (events.length === 0) return { result: { nextRevision: last?.revision ?? -1, position: last?.position ?? 0 }, wrote: false };

    let revision = last ? last.revision : -1;
    let position = 0;
    let firstPosition = 0;
    for (const event of events) {
      revision += 1;
      position = Number(insert.run(event.id, stream, revision, event.type, event.data, event.metadata, recordedAt).lastInsertRowid);
      if (firstPosition === 0) firstPosition = position;
    }
    return { result: { nextRevision: revision, position }, wrote: true, firstPosition };
  };

  /**
   * The first id is stored: a true retry stored all ids in this stream, in order, back to back.
   * Otherwise the error names the first id, as it always names the append's first stored id.
   */
  const confirmRetry = (stream: string, events: readonly SerializedEvent[], first: EventLocation): AppendResult => {
    let last = first;
    for (let index = 0; index < events.length; index++) {
      const stored = index === 0 ? first : byId.get(events[index].id);
      if (!stored || stored.stream !== stream || stored.revision !== first.revision + index) {
        throw new DuplicateEventIdError(stream, events[0].id);
      }
      last = stored;
    }
    return { nextRevision: last.revision, position: last.position };
  };

  // Called inside the batch's transaction, so better-sqlite3 wraps each append in a savepoint:
  // an append that fails leaves the batch's other appends intact.
  const appendOne = db.transaction(writeAppend);
  const commitBatch = db.transaction((request: CommitRequest): { outcomes: AppendOutcome[]; headBefore: number; headAfter: number } => {
    // Under the write lock, so nobody else writes between these two reads of the head.
    const headBefore = headOfLog.get()!.head;
    const outcomes = request.appends.map((append): AppendOutcome => {
      try {
        return { ok: true, ...appendOne(append, request.recordedAt) };
      } catch (error) {
        // SQLite rolled the whole transaction back (I/O error, disk full): fail the batch.
        if (!db.inTransaction) throw error;
        return { ok: false, error: describeError(error) };
      }
    });
    return { outcomes, headBefore, headAfter: headOfLog.get()!.head };
  });

  return (request) => {
    try {
      // IMMEDIATE takes the write lock up front: a deferred read-then-write could hit
      // SQLITE_BUSY_SNAPSHOT when another process writes in between.
      const { outcomes, headBefore, headAfter } = commitBatch.immediate(request);
      const othersWrote = headAfterLastCommit === undefined || headBefore !== headAfterLastCommit;
      headAfterLastCommit = headAfter;
      return { id: request.id, committed: true, outcomes, othersWrote, headBefore, headAfter };
    } catch (error) {
      headAfterLastCommit = undefined;
      return { id: request.id, committed: false, error: describeError(error) };
    }
  };
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

import type Database from 'better-sqlite3';
import type { Worker } from 'node:worker_threads';
import { RequestThread, startWorkerBeside } from '../worker-thread';
import { createBatchCommitter } from './sqlite-append.transaction';
import type { CommitReply, CommitRequest, WriterThreadData } from './sqlite-writer.protocol';

/** Where a store's appends are committed: its writer thread, or (in-memory store) the caller's thread. */
export interface SQLiteWriter {
  /** Commits one batch. The store sends the next only after this one's reply. */
  commit(request: CommitRequest): Promise<CommitReply>;
  /** Closes the writing connection; call once nothing is in flight. */
  close(): Promise<void>;
  /** Why the writer stopped on its own, if it did: every commit then fails. */
  readonly failure: Error | undefined;
  readonly thread: Worker | undefined;
}

/** For an in-memory database, which no second connection can share: commits on this thread. */
export function inThreadWriter(db: Database.Database): SQLiteWriter {
  const commit = createBatchCommitter(db);
  return { commit: async (request) => commit(request), close: async () => undefined, failure: undefined, thread: undefined };
}

/**
 * Commits on a worker thread with a connection of its own (sqlite-writer.worker.ts), so the main
 * thread keeps parsing, deciding and answering while a COMMIT waits for its fsync. If the thread
 * dies, `onFailure` is told once and every commit fails from then on.
 */
export function startWriterThread(data: WriterThreadData, onFailure: (error: Error) => void): SQLiteWriter {
  const requests = new RequestThread<CommitRequest, CommitReply>(startWorkerBeside(__filename, 'sqlite-writer.worker', data), 'writer thread', onFailure);
  return {
    commit: (request) => requests.request(request),
    close: () => requests.close(),
    get failure() {
      return requests.failure;
    },
    thread: requests.thread,
  };
}

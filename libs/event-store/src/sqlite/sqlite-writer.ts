import type Database from 'better-sqlite3';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createBatchCommitter } from './sqlite-append.transaction';
import type { CommitReply, CommitRequest, FromWriter, ToWriter, WriterThreadData } from './sqlite-writer.protocol';

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
 * Commits on a worker thread with a connection of its own, so the main thread keeps parsing,
 * deciding and answering while a COMMIT waits for its fsync. The thread does not keep the process
 * alive while idle, but does while a commit is in flight (so a script awaiting an append gets
 * its answer). If it dies, `onFailure` is told once and every commit fails from then on.
 */
export function startWriterThread(data: WriterThreadData, onFailure: (error: Error) => void): SQLiteWriter {
  return new WriterThread(data, onFailure);
}

const WORKER_FILE = 'sqlite-writer.worker';

/**
 * Built (dist/, .js) the worker file loads as it is. From TypeScript source (Jest, or
 * `node -r @swc-node/register`) the thread needs a transpiler: a thread inherits the process's
 * `-r @swc-node/register`, and under Jest, which transpiles in its own module registry only,
 * a two-line bootstrap registers it.
 */
function spawnWorker(data: WriterThreadData): Worker {
  const extension = extname(__filename);
  const file = join(__dirname, `${WORKER_FILE}${extension}`);
  if (extension !== '.ts') return new Worker(file, { workerData: data });
  const bootstrap = [
    `if (!require.extensions['.ts']) require(require.resolve('@swc-node/register', { paths: [${JSON.stringify(__dirname)}] }));`,
    `require(${JSON.stringify(file)});`,
  ].join('\n');
  return new Worker(bootstrap, { eval: true, workerData: data });
}

class WriterThread implements SQLiteWriter {
  readonly thread: Worker;
  failure: Error | undefined;
  private readonly waiting = new Map<number, { resolve: (reply: CommitReply) => void; reject: (error: Error) => void }>();
  private closing = false;
  private readonly exited: Promise<void>;

  constructor(
    data: WriterThreadData,
    private readonly onFailure: (error: Error) => void,
  ) {
    this.thread = spawnWorker(data);
    this.thread.unref();
    this.thread.on('message', (message: FromWriter) => {
      if (message.type !== 'reply') return;
      const waiter = this.waiting.get(message.reply.id);
      this.waiting.delete(message.reply.id);
      if (this.waiting.size === 0) this.thread.unref();
      waiter?.resolve(message.reply);
    });
    this.thread.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) => {
      this.thread.once('exit', (code) => {
        if (!this.closing) this.fail(new Error(`it exited with code ${code}`));
        resolve();
      });
    });
  }

  commit(request: CommitRequest): Promise<CommitReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      this.thread.ref();
      this.thread.postMessage({ type: 'commit', request } satisfies ToWriter);
    });
  }

  async close(): Promise<void> {
    if (this.closing) return this.exited;
    this.closing = true;
    if (this.failure) return this.exited;
    this.thread.ref();
    this.thread.postMessage({ type: 'close' } satisfies ToWriter);
    return this.exited;
  }

  private fail(cause: Error): void {
    if (this.failure) return;
    this.failure = new Error(`its writer thread stopped (${cause.message})`, { cause });
    for (const waiter of this.waiting.values()) waiter.reject(this.failure);
    this.waiting.clear();
    this.thread.unref();
    this.onFailure(this.failure);
  }
}

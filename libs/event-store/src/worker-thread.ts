import { dirname, extname, join } from 'node:path';
import { Worker, type Transferable } from 'node:worker_threads';

/**
 * Starts `<name>.js` (built, dist/) or `<name>.ts` (TypeScript source) from the caller's folder as
 * a worker thread; pass the caller's `__filename`. From source the thread needs a transpiler: it
 * inherits a process's `-r @swc-node/register`, and under Jest, which transpiles inside its own
 * module registry only, a two-line bootstrap registers one. The worker file should import
 * relatively: it runs outside Jest's module mapper and the app's path aliases.
 */
export function startWorkerBeside(callerFilename: string, name: string, workerData: unknown): Worker {
  const extension = extname(callerFilename);
  const directory = dirname(callerFilename);
  const file = join(directory, `${name}${extension}`);
  if (extension !== '.ts') return new Worker(file, { workerData });
  const bootstrap = [
    `if (!require.extensions['.ts']) require(require.resolve('@swc-node/register', { paths: [${JSON.stringify(directory)}] }));`,
    `require(${JSON.stringify(file)});`,
  ].join('\n');
  return new Worker(bootstrap, { eval: true, workerData });
}

/**
 * The messages of a request thread. The worker answers each `{ id, request }` with one
 * `{ id, reply }` or `{ id, error }`, in order, and on `{ close: true }` closes what it holds,
 * answers `{ closed: true }` and lets its port go, which ends the thread.
 */
export type ToRequestThread<Request> = { readonly id: number; readonly request: Request } | { readonly close: true };
export type FromRequestThread<Reply> = { readonly id: number; readonly reply: Reply } | { readonly id: number; readonly error: string } | { readonly closed: true };

/**
 * The main thread's side of a request thread. The thread does not keep the process alive while
 * idle, but does while a request is out (so a script awaiting one gets its answer). If it dies,
 * every request out and every later one fails with `failure`, and `onFailure` is told once.
 *
 * Never end it with `terminate()` while it may be inside a better-sqlite3 call: that aborts the
 * whole process (WiseLibs/better-sqlite3#842). `close()` asks it to stop between requests.
 */
export class RequestThread<Request, Reply> {
  failure: Error | undefined;
  private readonly waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  private ids = 0;
  private closing = false;
  private readonly exited: Promise<void>;

  constructor(
    readonly thread: Worker,
    /** What the thread is, for messages: "writer thread". */
    private readonly label: string,
    private readonly onFailure: (error: Error) => void = () => undefined,
  ) {
    thread.unref();
    thread.on('message', (message: FromRequestThread<Reply>) => {
      if (!('id' in message)) return;
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (this.waiting.size === 0) thread.unref();
      if ('reply' in message) waiter?.resolve(message.reply);
      else waiter?.reject(new Error(message.error));
    });
    thread.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) => {
      thread.once('exit', (code) => {
        if (!this.closing) this.fail(new Error(`it exited with code ${code}`));
        resolve();
      });
    });
  }

  request(request: Request, transfer: readonly Transferable[] = []): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const id = ++this.ids;
      this.waiting.set(id, { resolve, reject });
      this.thread.ref();
      this.thread.postMessage({ id, request } satisfies ToRequestThread<Request>, transfer);
    });
  }

  /** Asks the thread to close once the requests before this are answered; resolves when it has ended. */
  close(): Promise<void> {
    if (this.closing || this.failure) {
      this.closing = true;
      return this.exited;
    }
    this.closing = true;
    this.thread.ref();
    this.thread.postMessage({ close: true } satisfies ToRequestThread<Request>);
    return this.exited;
  }

  private fail(cause: Error): void {
    if (this.failure) return;
    this.failure = new Error(`its ${this.label} stopped (${cause.message})`, { cause });
    for (const waiter of this.waiting.values()) waiter.reject(this.failure);
    this.waiting.clear();
    this.thread.unref();
    this.onFailure(this.failure);
  }
}

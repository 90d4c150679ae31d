import { openSQLiteFile, RequestThread, SQLiteFileError, startWorkerBeside } from '@stagecraft/event-store';
import {
  DEFAULT_CHUNK_BYTES,
  deserializeLegacyModel,
  deserializeModelInSlices,
  MODEL_FORMAT_VERSION,
  serializeModelInSlices,
  SnapshotFormatError,
} from './model-serialization';
import type { ProjectionSnapshot, ProjectionSnapshotStore, SnapshotSave } from './projection-snapshot.store';
import {
  answerSnapshotRequest,
  prepareSnapshotDatabase,
  SNAPSHOT_TABLES,
  snapshotStatements,
  snapshotWriter,
  type SnapshotPart,
  type SnapshotReply,
  type SnapshotRequest,
  type SnapshotStatements,
  type SnapshotWriter,
} from './sqlite-projection-snapshot.database';

// A save holds at most PARTS_IN_FLIGHT parts of serialised bytes handed to the writing thread,
// plus the one being filled (the 1M-event models serialise to ~115 MB in all).
const DEFAULT_PART_BYTES = 4 * 1024 * 1024;
// With one part in flight, serialising waited for each part's write, and a 1M-event save held new
// events back ~0.55 s instead of ~0.4 s; a few let the thread keep up.
const PARTS_IN_FLIGHT = 4;

export interface SQLiteProjectionSnapshotStoreOptions {
  /** Largest stored piece of a serialised model, in bytes (default 1 MiB; SQLite refuses blobs past 2^29). */
  readonly chunkBytes?: number;
  /** Bytes of chunks handed to the writing thread at a time (default 4 MiB). */
  readonly partBytes?: number;
  /** Told once if the thread that reads and writes the file dies; saves and loads then fail. */
  readonly onThreadFailure?: (error: Error) => void;
  /**
   * Told when a damaged or unreadable file was renamed aside and a new one made (every model is
   * then rebuilt from the log); default: a warning on stderr. `false` for a reader that does not
   * own the file (the API following a projector): a damaged file then stops it with one line.
   */
  readonly onSetAside?: ((message: string) => void) | false;
}

/** The file's reads and writes: on a thread of its own, or on this one for an in-memory file. */
interface SnapshotIO {
  request(request: SnapshotRequest, transfer?: readonly ArrayBuffer[]): Promise<SnapshotReply>;
  close(): Promise<void>;
}

/**
 * The snapshot file, opened. A reader that does not own it (onSetAside false) never writes it, and
 * cannot set a damaged one aside: the refusal says who can (the projector it follows).
 */
function openSnapshotFile(path: string, onSetAside: ((message: string) => void) | false) {
  try {
    return openSQLiteFile(path, {
      variable: 'READ_MODELS_PATH',
      ownTables: SNAPSHOT_TABLES,
      prepare: prepareSnapshotDatabase,
      ...(onSetAside ? { onSetAside, quickCheck: true, writable: true } : {}),
    });
  } catch (error) {
    if (onSetAside !== false || !(error instanceof SQLiteFileError)) throw error;
    throw new SQLiteFileError(error.path, error.variable, `${error.reason}; this instance only reads it (PROJECTIONS=external): start the projector, which sets a damaged file aside and rebuilds the read models, then this instance`);
  }
}

/**
 * Read models in their own SQLite file (default ./data/read-models.db), apart from the events.
 * A model is serialised in slices on this thread (model-serialization.ts) and its chunks are
 * handed, a few MB at a time as they fill, to a worker thread (sqlite-projection-snapshot.worker.ts)
 * that writes them into the save's transaction and also reads them back for a load; the chunks
 * travel between the threads without being copied.
 */
export function getSQLiteProjectionSnapshotStore(path: string, options: SQLiteProjectionSnapshotStoreOptions = {}): ProjectionSnapshotStore {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const onSetAside = options.onSetAside ?? ((message: string) => console.warn(`Read models: ${message}`));
  const db = openSnapshotFile(path, onSetAside);
  const partBytes = options.partBytes ?? DEFAULT_PART_BYTES;
  const statements = snapshotStatements(db);
  // Started by the first save or load: `status` and other header-only uses never start a thread.
  let started: SnapshotIO | undefined;
  const io = (): SnapshotIO =>
    (started ??=
      path === ':memory:'
        ? inMemoryIO(statements, snapshotWriter(db))
        : new RequestThread<SnapshotRequest, SnapshotReply>(startWorkerBeside(__filename, 'sqlite-projection-snapshot.worker', { path }), 'snapshot thread', options.onThreadFailure));
  // A save begins once the one before is committed or given up: one transaction at a time, in
  // the order asked for.
  let lastSave: Promise<unknown> = Promise.resolve();
  const unfinished = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;

  const track = <T>(promise: Promise<T>): Promise<T> => {
    unfinished.add(promise);
    const forget = () => unfinished.delete(promise);
    promise.then(forget, forget);
    return promise;
  };

  return {
    headers: () => statements.headers(),

    async load(name: string): Promise<ProjectionSnapshot | undefined> {
      const reply = await track(io().request({ type: 'read', name }));
      const read = reply.type === 'read' ? reply.read : undefined;
      if (!read) return undefined;
      switch (read.kind) {
        case 'legacy':
          return { ...read.header, model: deserializeLegacyModel(read.bytes) };
        case 'unreadable':
          throw new SnapshotFormatError(read.reason);
        case 'chunked':
          if (read.format !== MODEL_FORMAT_VERSION) throw new SnapshotFormatError(`it is in format ${read.format}, this code reads ${MODEL_FORMAT_VERSION} (saved by another version of Stagecraft)`);
          return { ...read.header, model: await deserializeModelInSlices(read.chunks) };
        default: {
          const _exhaustive: never = read;
          return _exhaustive;
        }
      }
    },

    save(snapshots: readonly ProjectionSnapshot[]): SnapshotSave {
      if (closing) {
        const closed = Promise.reject(new Error(`The read-model store at ${path} is closed`));
        return { serialized: closed, written: closed };
      }
      let allRead!: () => void;
      const read = new Promise<void>((resolve) => (allRead = resolve));
      const write = () => streamSave(io(), snapshots, { chunkBytes, partBytes }, allRead);
      const written = track(lastSave.then(write, write));
      lastSave = written;
      // A save that fails before every model is read ends the wait for them too.
      return { serialized: Promise.race([read, written]), written };
    },

    close(): Promise<void> {
      closing ??= (async () => {
        await Promise.allSettled([...unfinished]);
        await started?.close();
        db.close();
      })();
      return closing;
    },
  };
}

/**
 * Serialises the models and hands their chunks over as they fill, a part of about `partBytes` at
 * a time, then commits; `allRead` is told once every model has been read. Up to PARTS_IN_FLIGHT
 * parts wait on the writing thread while the next is serialised, and no more pile up there.
 * Anything failing aborts the save (the file keeps the one before) and rejects.
 */
async function streamSave(io: SnapshotIO, snapshots: readonly ProjectionSnapshot[], sizes: { chunkBytes: number; partBytes: number }, allRead: () => void): Promise<void> {
  const savedAt = new Date().toISOString();
  const inFlight: Promise<unknown>[] = [];
  // The chunks of written parts, handed back by the writing thread, filled again by the serialiser:
  // a save then holds about PARTS_IN_FLIGHT parts of buffers, however large its models.
  const reusable: Uint8Array[] = [];
  const send = async (part: SnapshotPart): Promise<void> => {
    while (inFlight.length >= PARTS_IN_FLIGHT) await inFlight.shift();
    const writing = io.request({ type: 'part', part }, part.chunks.map((chunk) => chunk.buffer as ArrayBuffer));
    // Its failure is met when it is awaited (a later part, or the commit), not reported as unhandled meanwhile.
    writing.then((reply) => {
      if (reply.type === 'written') reusable.push(...(reply.spent ?? []));
    }, () => undefined);
    inFlight.push(writing);
  };
  try {
    for (const { model, ...header } of snapshots) {
      let chunks: Uint8Array[] = [];
      let bytes = 0;
      for await (const filled of serializeModelInSlices(model, { chunkBytes: sizes.chunkBytes, reusable })) {
        for (const chunk of filled) {
          chunks.push(chunk);
          bytes += chunk.length;
          if (bytes < sizes.partBytes) continue;
          await send({ name: header.name, chunks });
          chunks = [];
          bytes = 0;
        }
      }
      await send({ name: header.name, chunks, last: { ...header, format: MODEL_FORMAT_VERSION, savedAt } });
    }
    allRead();
    for (const writing of inFlight.splice(0)) await writing;
    await io.request({ type: 'commit' });
  } catch (error) {
    await io.request({ type: 'abort' }).catch(() => undefined);
    throw error;
  }
}

/**
 * An in-memory file on this thread. Its one connection also answers `headers()`, which a save's
 * transaction left open between parts would show in part: the parts are kept instead (they are in
 * memory either way) and written when the save commits, in one synchronous go.
 */
function inMemoryIO(statements: SnapshotStatements, writer: SnapshotWriter): SnapshotIO {
  const parts: SnapshotRequest[] = [];
  const answer = (request: SnapshotRequest) => answerSnapshotRequest(statements, writer, request);
  return {
    async request(request) {
      if (request.type === 'part') {
        parts.push(request);
        return { type: 'written' };
      }
      if (request.type === 'abort') parts.splice(0);
      if (request.type !== 'commit') return answer(request);
      const save = [...parts.splice(0), request];
      for (const part of save) answer(part);
      return { type: 'written' };
    },
    close: async () => undefined,
  };
}

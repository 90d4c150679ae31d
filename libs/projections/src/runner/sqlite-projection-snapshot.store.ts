import { openSQLiteFile, RequestThread, startWorkerBeside } from '@stagecraft/event-store';
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
  snapshotStatements,
  type SnapshotReply,
  type SnapshotRequest,
  type SnapshotToWrite,
} from './sqlite-projection-snapshot.database';

export interface SQLiteProjectionSnapshotStoreOptions {
  /** Largest stored piece of a serialised model, in bytes (default 1 MiB; SQLite refuses blobs past 2^29). */
  readonly chunkBytes?: number;
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
 * Read models in their own SQLite file (default ./data/read-models.db), apart from the events.
 * A model is serialised in slices on this thread (model-serialization.ts) and stored in chunks by
 * a worker thread (sqlite-projection-snapshot.worker.ts), which also reads them back for a load;
 * the chunks travel between the threads without being copied.
 */
export function getSQLiteProjectionSnapshotStore(path: string, options: SQLiteProjectionSnapshotStoreOptions = {}): ProjectionSnapshotStore {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const onSetAside = options.onSetAside ?? ((message: string) => console.warn(`Read models: ${message}`));
  const db = openSQLiteFile(path, {
    variable: 'READ_MODELS_PATH',
    prepare: prepareSnapshotDatabase,
    ...(onSetAside ? { onSetAside, quickCheck: true } : {}),
  });
  const statements = snapshotStatements(db);
  // Started by the first save or load: `status` and other header-only uses never start a thread.
  let started: SnapshotIO | undefined;
  const io = (): SnapshotIO =>
    (started ??=
      path === ':memory:'
        ? { request: async (request) => answerSnapshotRequest(statements, request), close: async () => undefined }
        : new RequestThread<SnapshotRequest, SnapshotReply>(startWorkerBeside(__filename, 'sqlite-projection-snapshot.worker', { path }), 'snapshot thread', options.onThreadFailure));
  // Saves are serialised one after the other, in the order asked for, and so written in that order.
  let lastSerialized: Promise<unknown> = Promise.resolve();
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
      const serializing = lastSerialized.then(
        () => serializeAll(snapshots, chunkBytes),
        () => serializeAll(snapshots, chunkBytes),
      );
      lastSerialized = serializing;
      const written = track(
        serializing.then(async (toWrite) => {
          const transfer = toWrite.flatMap((snapshot) => snapshot.chunks.map((chunk) => chunk.buffer as ArrayBuffer));
          await io().request({ type: 'write', savedAt: new Date().toISOString(), snapshots: toWrite }, transfer);
        }),
      );
      return { serialized: serializing.then(() => undefined), written };
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

async function serializeAll(snapshots: readonly ProjectionSnapshot[], chunkBytes: number): Promise<SnapshotToWrite[]> {
  const toWrite: SnapshotToWrite[] = [];
  for (const { model, ...header } of snapshots) {
    toWrite.push({ ...header, format: MODEL_FORMAT_VERSION, chunks: await serializeModelInSlices(model, { chunkBytes }) });
  }
  return toWrite;
}

import type Database from 'better-sqlite3';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { RequestThread, startWorkerBeside } from '../worker-thread';
import type { SQLiteDurability } from './sqlite-database';

// Checkpoints off the commit path. With SQLite's automatic checkpoint, the commit that takes the
// WAL past 1,000 pages copies them all into the database file and fsyncs it before it returns,
// and every commit queued behind it waits; fewer, longer checkpoints (8,000 pages) cost less CPU
// but doubled the p99 of commands under load (bench:commands). So the writer's automatic
// checkpoint is off, and a thread of its own (sqlite-checkpointer.worker.ts) does the copying with
// PASSIVE checkpoints, which no commit waits for.
//
// The WAL only starts over from its beginning when a write transaction begins with every frame
// copied. Under steady load the checkpointer never gets there by itself (the writer commits while
// it copies), so it makes passes until what is left is small, and the writer copies that rest
// itself, between two commits; its next commit then starts the WAL over. That rest is the
// commits of the last pass's few milliseconds, not 1,000 pages. Durability does not change: a
// commit is durable when its WAL frames are fsynced, whoever copies them later, and a crash in
// the middle of a checkpoint loses nothing (SQLite redoes it from the WAL).

/** The writer asks for a checkpoint after this many events written since its last one. */
export const DEFAULT_CHECKPOINT_EVERY_EVENTS = 2_000;
/** The checkpointer stops its passes once at most this many frames are left for the writer. */
const LEAVE_FRAMES = 64;
/** SQLite's own default: the writer's until the checkpointer is ready, and again if its thread stops. */
const AUTOCHECKPOINT_PAGES = 1_000;

/** Writer → checkpointer: copy the WAL now. */
export type ToCheckpointer = { readonly checkpoint: true };
/** Checkpointer → writer, after its passes: frames in the WAL, and how many of them are copied. */
export interface CheckpointPass {
  readonly log: number;
  readonly checkpointed: number;
}
/** Checkpointer → writer: ready (once, as it starts), or the outcome of a request's passes. */
export type FromCheckpointer = { readonly ready: true } | CheckpointPass;

export interface CheckpointerThreadData {
  readonly path: string;
  readonly durability: SQLiteDurability;
  /** Its end of the channel to the writer thread. */
  readonly writer: MessagePort;
  readonly leaveFrames: number;
}

/** The checkpointer as the store's thread holds it: the writer's end of the channel, and close(). */
export interface CheckpointerThread {
  /** For the writer thread (transfer it there): it asks for checkpoints on it. */
  readonly writerPort: MessagePort;
  close(): Promise<void>;
}

/**
 * Starts the checkpointer from the store's thread, beside the writer rather than inside it: were
 * it the writer's child, a writer that died would end it wherever it stood, and ending a thread
 * inside a better-sqlite3 call aborts the process (WiseLibs/better-sqlite3#842).
 */
export function startCheckpointerThread(path: string, durability: SQLiteDurability): CheckpointerThread {
  const { port1, port2 } = new MessageChannel();
  const data: CheckpointerThreadData = { path, durability, writer: port2, leaveFrames: LEAVE_FRAMES };
  // If it fails, the writer sees its end of the channel close and checkpoints by itself again.
  const requests = new RequestThread<never, never>(startWorkerBeside(__filename, 'sqlite-checkpointer.worker', data, [port2]), 'checkpointer thread');
  return { writerPort: port1, close: () => requests.close() };
}

/**
 * The writer's side: asks the checkpointer for a checkpoint every `everyEvents` events written,
 * one at a time, and copies what its passes left. SQLite's automatic checkpoint stays on until the
 * checkpointer says it is ready, and comes back on if its thread stops (or there is none).
 */
export class BackgroundCheckpoints {
  /** Checkpoints finished off the commit path (each the checkpointer's passes, then the writer's rest). */
  finished = 0;
  private eventsSinceRequest = 0;
  private requested = false;
  private ready = false;
  private stopped = false;

  constructor(
    private readonly db: Database.Database,
    private readonly checkpointer: MessagePort | undefined,
    private readonly everyEvents: number = DEFAULT_CHECKPOINT_EVERY_EVENTS,
  ) {
    db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    if (!checkpointer) {
      this.stopped = true;
      return;
    }
    checkpointer.on('message', (message: FromCheckpointer) => {
      if ('ready' in message) this.start();
      else this.finish();
    });
    checkpointer.once('close', () => this.fallBack());
  }

  /** After each commit: how many events it wrote. */
  wrote(events: number): void {
    if (!this.ready || this.stopped) return;
    this.eventsSinceRequest += events;
    if (this.requested || this.eventsSinceRequest < this.everyEvents) return;
    this.requested = true;
    this.eventsSinceRequest = 0;
    this.checkpointer!.postMessage({ checkpoint: true } satisfies ToCheckpointer);
  }

  /** Stops asking (the writer is closing): lets the channel go so the thread can end. */
  close(): void {
    this.stopped = true;
    this.checkpointer?.close();
  }

  private start(): void {
    if (this.stopped) return;
    this.ready = true;
    this.db.pragma('wal_autocheckpoint = 0');
  }

  private finish(): void {
    this.requested = false;
    if (this.stopped) return;
    // Between two commits: copies the frames of the commits made since the passes (whatever the
    // passes reported, this thread has committed since), so that the next commit finds every
    // frame copied and starts the WAL over. Nothing to copy costs no fsync.
    this.db.pragma('wal_checkpoint(PASSIVE)');
    this.finished += 1;
  }

  private fallBack(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  }
}

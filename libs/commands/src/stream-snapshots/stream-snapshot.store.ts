import type { OpportunityState } from '@stagecraft/opportunity';

/** What a client-chosen command id produced: enough to answer a retry without deciding again. */
export interface RecordedCommand {
  readonly fingerprint: string;
  /** Which request stored it (its correlation id and server time): tells a racing retry from the original. */
  readonly attempt: string;
  readonly revision: number;
  readonly position: number;
  /** Where the opportunity stood right after the command. */
  readonly stage: string;
  readonly status: 'open' | 'won' | 'lost';
}

/**
 * An opportunity stream folded up to a revision, kept so a load need not re-read and re-fold the
 * whole stream (after a restart, past the in-memory cache, on another instance). Derived data: a
 * snapshot is only ever used after the stored event at its revision is seen to carry its head hash.
 */
export interface StreamSnapshot {
  readonly stream: string;
  readonly revision: number;
  readonly position: number;
  readonly headHash: string;
  readonly state: OpportunityState;
}

/** A snapshot as saved: with the client-keyed commands folded since the snapshot it extends. */
export interface StreamSnapshotToSave extends StreamSnapshot {
  /** The revision of the snapshot whose commands `newCommands` extend; absent when they are all of the stream's. */
  readonly basedOn?: number;
  readonly newCommands: readonly (readonly [string, RecordedCommand])[];
}

/**
 * A snapshot store found a row of the stream's that is not as it was saved while a command looked
 * up a recorded command: the snapshot must be dropped and the stream read whole.
 */
export class DamagedStreamSnapshotError extends Error {
  constructor(
    readonly stream: string,
    reason: string,
  ) {
    super(`The snapshot of ${stream} cannot be used: ${reason}`);
    this.name = 'DamagedStreamSnapshotError';
  }
}

/** Recorded commands kept in a snapshot store: looked up one id at a time (may throw DamagedStreamSnapshotError). */
export type RecordedCommandLookup = (commandId: string) => RecordedCommand | undefined;

/** A snapshot as loaded: the commands up to it are looked up in the store, one id at a time. */
export interface LoadedStreamSnapshot extends StreamSnapshot {
  readonly commandBefore: RecordedCommandLookup;
}

/**
 * Where stream snapshots are kept (SQLite by default; nothing at all when turned off). A stream's
 * recorded commands accumulate across its snapshots, so no snapshot carries them all: a snapshot
 * is only ever stored together with every command before it, and only those answer lookups.
 */
export interface StreamSnapshotStore {
  load(stream: string): LoadedStreamSnapshot | undefined;
  /** May write later, in batches: a snapshot lost in a crash only costs a longer read. */
  save(snapshot: StreamSnapshotToSave): void;
  /** Drops a snapshot (and its stream's commands) that turned out not to match its stream. */
  discard(stream: string): void;
  close(): void;
}

export const NO_STREAM_SNAPSHOTS: StreamSnapshotStore = { load: () => undefined, save: () => undefined, discard: () => undefined, close: () => undefined };

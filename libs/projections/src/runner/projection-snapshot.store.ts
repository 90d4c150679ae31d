import type { LogAnchor } from '@stagecraft/event-store';

/** A read model as saved: the model and the last log position folded into it, written together. */
export interface ProjectionSnapshot {
  readonly name: string;
  readonly position: number;
  readonly model: unknown;
  /** Id of the first event of the log it was built from: a snapshot of another log is worthless. */
  readonly logId: string;
  /** The last event folded in, checked at start: absent in a snapshot saved before anchors were. */
  readonly anchor?: LogAnchor;
  /** Why the projection stopped, when it did (so another process serving the model can say so). */
  readonly failed?: string;
}

export type SnapshotHeader = Omit<ProjectionSnapshot, 'model'>;

/** A save under way, in its two steps. */
export interface SnapshotSave {
  /** The models have been read (serialised): from now on they may change again. */
  readonly serialized: Promise<void>;
  /** The snapshots are written, all in one transaction. */
  readonly written: Promise<void>;
}

/**
 * Where projections keep their models and checkpoints. `save` writes every snapshot it is given
 * in one transaction, so after a crash each model and its checkpoint agree: nothing counted twice,
 * nothing skipped. Neither a save nor a load holds the event loop for long: models are read and
 * rebuilt in slices, and the storage work happens elsewhere.
 */
export interface ProjectionSnapshotStore {
  /**
   * The saved snapshot, its model rebuilt. Rejects with SnapshotFormatError when the saved bytes
   * are not a snapshot this code can read (another version wrote them): set it aside, never guess.
   */
  load(name: string): Promise<ProjectionSnapshot | undefined>;
  /** Every saved snapshot without its model: cheap enough to poll. */
  headers(): SnapshotHeader[];
  /**
   * Serialises the models a slice at a time and writes them, all committed together. The caller
   * must not change the models until `serialized` settles; saves are written in the order they
   * were asked for.
   */
  save(snapshots: readonly ProjectionSnapshot[]): SnapshotSave;
  /** Waits for the saves asked for, then closes. */
  close(): Promise<void>;
}

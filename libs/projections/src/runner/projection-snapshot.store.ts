/** A read model as saved: the model and the last log position folded into it, written together. */
export interface ProjectionSnapshot {
  readonly name: string;
  readonly position: number;
  readonly model: unknown;
  /** Id of the first event of the log it was built from: a snapshot of another log is worthless. */
  readonly logId: string;
  /** Why the projection stopped, when it did (so another process serving the model can say so). */
  readonly failed?: string;
}

export type SnapshotHeader = Omit<ProjectionSnapshot, 'model'>;

/**
 * Where projections keep their models and checkpoints. `save` writes every snapshot it is given
 * in one transaction, so after a crash each model and its checkpoint agree: nothing counted twice,
 * nothing skipped.
 */
export interface ProjectionSnapshotStore {
  load(name: string): ProjectionSnapshot | undefined;
  /** Every saved snapshot without its model: cheap enough to poll. */
  headers(): SnapshotHeader[];
  save(snapshots: readonly ProjectionSnapshot[]): void;
  close(): void;
}

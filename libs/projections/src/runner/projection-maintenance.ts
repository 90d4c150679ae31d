import type { Projection } from '../projection.types';
import type { ProjectionSnapshotStore } from './projection-snapshot.store';
import type { ProjectionStores } from './projection-stores';
import { ProjectionRunner } from './projection.runner';

// Offline work on saved read models, shared by the projections CLI and `stagecraft rebuild`.

export interface SavedProjectionStatus {
  readonly name: string;
  /** Undefined when the read model was never saved. */
  readonly checkpoint?: number;
  readonly lag?: number;
  readonly failed?: string;
}

/** Checkpoint and lag of each saved read model (used by `npm run projections -- status`). */
export async function savedProjectionStatus({ store, snapshots, projections }: ProjectionStores): Promise<SavedProjectionStatus[]> {
  const head = await store.headPosition();
  const saved = new Map(snapshots.headers().map((header) => [header.name, header]));
  return projections.map(({ name }) => {
    const header = saved.get(name);
    if (!header) return { name };
    return { name, checkpoint: header.position, lag: head - header.position, ...(header.failed ? { failed: header.failed } : {}) };
  });
}

/** Names that are not projections; empty when all are known. */
export function unknownProjections(projections: readonly Projection<unknown>[], names: readonly string[]): string[] {
  return names.filter((name) => !projections.some((projection) => projection.name === name));
}

/**
 * A rebuild that did not finish: a read model stopped on the way (an event of the log it cannot
 * read, a store that went away), or what was rebuilt could not be saved. Callers must not report
 * it as done.
 */
export class ProjectionRebuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectionRebuildError';
  }
}

/**
 * Rebuilds the named read models (all when none is named) from position 0 and saves them; the
 * old snapshots are replaced only at the end. Offline: nothing else may be writing the same
 * read-model file meanwhile. Answers the names rebuilt and the position they reached; rejects
 * with ProjectionRebuildError when a model stopped on the way or the rebuilt models were not saved.
 */
export async function rebuildProjections(
  { store, snapshots, projections }: ProjectionStores,
  names: readonly string[],
  onProgress?: (progress: { position: number; head: number }) => void,
): Promise<{ rebuilt: string[]; position: number; head: number }> {
  const chosen = names.length === 0 ? projections : projections.filter((projection) => names.includes(projection.name));
  // The runner reports a failed save and tries again at its next; a rebuild has no next: the last
  // save is what the file holds, and it must have been written.
  let lastWrite: Promise<unknown> | undefined;
  // Start the chosen projections from nothing; their new snapshots replace the old at the end.
  const fromScratch: ProjectionSnapshotStore = {
    load: async () => undefined,
    headers: () => [],
    save: (s) => {
      const saving = snapshots.save(s);
      lastWrite = saving.written;
      return saving;
    },
    close: async () => undefined,
  };
  const head = await store.headPosition();
  const runner = new ProjectionRunner(store, fromScratch, chosen, {
    snapshotEveryEvents: Number.MAX_SAFE_INTEGER,
    onReplayProgress: ({ position }) => onProgress?.({ position, head }),
  });
  await runner.start();
  // Stopped on the way: the runner answers as far as it got, which is not a rebuild of the log.
  // Each reason once, with the models it stopped (a log that cannot be read on stops them all alike).
  const stopped = new Map<string, string[]>();
  for (const { name } of chosen) {
    const failure = runner.failure(name);
    if (failure !== undefined) stopped.set(failure, [...(stopped.get(failure) ?? []), name]);
  }
  await runner.stop();
  if (stopped.size > 0) {
    const why = [...stopped].map(([failure, stoppedNames]) => `${stoppedNames.join(', ')}: ${failure}`).join('; ');
    throw new ProjectionRebuildError(`the rebuild did not reach the end of the log (position ${head}): ${why}`);
  }
  try {
    await lastWrite;
  } catch (error) {
    throw new ProjectionRebuildError(`the rebuilt read models were not saved (${(error as Error).message}); the file keeps the ones saved before`);
  }
  onProgress?.({ position: head, head });
  return { rebuilt: chosen.map((projection) => projection.name), position: runner.position(), head };
}

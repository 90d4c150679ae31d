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
 * Rebuilds the named read models (all when none is named) from position 0 and saves them; the
 * old snapshots are replaced only at the end. Offline: nothing else may be writing the same
 * read-model file meanwhile. Answers the names rebuilt and the position they reached.
 */
export async function rebuildProjections(
  { store, snapshots, projections }: ProjectionStores,
  names: readonly string[],
  onProgress?: (progress: { position: number; head: number }) => void,
): Promise<{ rebuilt: string[]; position: number; head: number }> {
  const chosen = names.length === 0 ? projections : projections.filter((projection) => names.includes(projection.name));
  // Start the chosen projections from nothing; their new snapshots replace the old at the end.
  const fromScratch: ProjectionSnapshotStore = { load: async () => undefined, headers: () => [], save: (s) => snapshots.save(s), close: async () => undefined };
  const head = await store.headPosition();
  const runner = new ProjectionRunner(store, fromScratch, chosen, {
    snapshotEveryEvents: Number.MAX_SAFE_INTEGER,
    onReplayProgress: ({ position }) => onProgress?.({ position, head }),
  });
  await runner.start();
  await runner.stop();
  onProgress?.({ position: head, head });
  return { rebuilt: chosen.map((projection) => projection.name), position: runner.position(), head };
}

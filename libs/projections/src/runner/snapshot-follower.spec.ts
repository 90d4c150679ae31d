import type { EventStore } from '@stagecraft/event-store';
import { pipelineProjection } from '../pipeline.projection';
import { inMemoryAnalyticsQueries } from '../queries/in-memory-analytics.queries';
import type { ProjectionSnapshot, ProjectionSnapshotStore, SnapshotHeader } from './projection-snapshot.store';
import { stoppedForGood } from './read-models.port';
import { SnapshotFollower } from './snapshot-follower';

/** A projector's snapshots as a follower polls them: none until `save` is called. */
function snapshotsSavedLater() {
  const saved = new Map<string, ProjectionSnapshot>();
  const store = {
    headers: (): SnapshotHeader[] => [...saved.values()].map(({ name, position, logId }) => ({ name, position, logId })),
    load: async (name: string) => saved.get(name),
  } as unknown as ProjectionSnapshotStore;
  return { store, save: (snapshot: ProjectionSnapshot) => saved.set(snapshot.name, snapshot) };
}

const events = { headPosition: async () => 7 } as unknown as EventStore;

describe('SnapshotFollower', () => {
  it('before the projector first saves a model (started first, or rebuilding a file it set aside): unavailable for now, waited for, never "stopped"', async () => {
    const snapshots = snapshotsSavedLater();
    const follower = new SnapshotFollower(events, snapshots.store, [pipelineProjection], 60_000);
    await follower.start();
    try {
      // Not a stop an operator must fix and rebuild (the follower cannot rebuild): the projector's
      // first save ends it. /health stays ready (no `failed`) and ?minPosition= waits for it.
      expect(follower.failure(pipelineProjection.name)).toMatch(/has not saved this read model yet: it is served from its first save \(start the projector/);
      expect(follower.status()).toEqual([{ name: pipelineProjection.name, checkpoint: 0, lag: 7, rebuilding: false }]);
      expect(stoppedForGood(follower.status(), [pipelineProjection.name])).toBeUndefined();
      await expect(inMemoryAnalyticsQueries(follower).pipeline({})).rejects.toMatchObject({
        code: 'PROJECTIONS.UNAVAILABLE',
        projection: pipelineProjection.name,
        message: expect.stringMatching(/^The pipeline read model cannot be served yet \(the projector has not saved/),
      });

      snapshots.save({ name: pipelineProjection.name, position: 7, logId: 'log', model: pipelineProjection.initial() });
      expect(await follower.waitFor(7, 1_000)).toBe(true);
      expect(follower.status()).toEqual([{ name: pipelineProjection.name, checkpoint: 7, lag: 0, rebuilding: false }]);
      await expect(inMemoryAnalyticsQueries(follower).pipeline({})).resolves.toMatchObject({ processes: [] });
    } finally {
      await follower.stop();
    }
  });

  it('a model the projector saved in another layout (a rolling upgrade, an older file) is not served into 500s: unreadable, and said why', async () => {
    const snapshots = snapshotsSavedLater();
    // What a projector of another version saves: the same name, other columns.
    snapshots.save({ name: pipelineProjection.name, position: 7, logId: 'log', model: { ...pipelineProjection.initial(), layout: -1 } });
    const follower = new SnapshotFollower(events, snapshots.store, [pipelineProjection], 60_000);
    await follower.start();
    try {
      expect(follower.failure(pipelineProjection.name)).toMatch(/could not be read \(.*another version of Stagecraft/);
      await expect(inMemoryAnalyticsQueries(follower).pipeline({})).rejects.toMatchObject({ code: 'PROJECTIONS.FAILED' });

      // The projector, upgraded, saves one of this layout: served from then on.
      snapshots.save({ name: pipelineProjection.name, position: 8, logId: 'log', model: pipelineProjection.initial() });
      expect(await follower.waitFor(8, 1_000)).toBe(true);
      expect(follower.failure(pipelineProjection.name)).toBeUndefined();
      await expect(inMemoryAnalyticsQueries(follower).pipeline({})).resolves.toMatchObject({ processes: [] });
    } finally {
      await follower.stop();
    }
  });
});

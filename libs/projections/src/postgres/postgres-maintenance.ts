import type { EventStore } from '@stagecraft/event-store';
import type { SavedProjectionStatus } from '../runner/projection-maintenance';
import { openReadSideClient } from './read-side.session';
import { projectorLockKey, READ_SIDE_NAMES, rebuildIntoShadow, type PostgresReadSideSettings } from './postgres.projector';

// Offline work on the PostgreSQL read side, for the projections CLI and `stagecraft rebuild`.

/** Checkpoint and lag of the read models in PostgreSQL (all six share the schema's checkpoint). */
export async function postgresProjectionStatus(store: EventStore, settings: PostgresReadSideSettings): Promise<SavedProjectionStatus[]> {
  const client = await openReadSideClient(settings.url, 'stagecraft-status');
  try {
    const head = await store.headPosition();
    const { rows } = await client
      .query<{ position: string; failed: string | null }>(`SELECT position, failed FROM ${settings.schema}.checkpoint`)
      .catch((error: { code?: string }) => (error.code === '42P01' ? { rows: [] } : Promise.reject(error)));
    const row = rows[0];
    return READ_SIDE_NAMES.map((name) => (row ? { name, checkpoint: Number(row.position), lag: head - Number(row.position), ...(row.failed ? { failed: row.failed } : {}) } : { name }));
  } finally {
    await client.end();
  }
}

/**
 * Rebuilds every read model from position 0 into a shadow schema, then swaps it in, in one
 * transaction; the live schema serves meanwhile. Takes the projector's lock first (a running
 * projector makes it wait: stop it, or use the HTTP rebuild of an API that projects in-process).
 */
export async function rebuildPostgresReadSide(
  store: EventStore,
  settings: PostgresReadSideSettings,
  onProgress?: (progress: { position: number; head: number }) => void,
  onWaitingForLock?: () => void,
  onWarning?: (message: string) => void,
): Promise<{ position: number; head: number }> {
  const lock = await openReadSideClient(settings.url, 'stagecraft-rebuild-lock');
  try {
    const key = projectorLockKey(settings.schema);
    const { rows } = await lock.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]);
    if (!rows[0]!.locked) {
      onWaitingForLock?.();
      await lock.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    }
    const head = await store.headPosition();
    const logId = (await store.readAll({ maxCount: 1 }))[0]?.id ?? '';
    await lock.query(`CREATE SCHEMA IF NOT EXISTS ${settings.schema}`);
    const position = await rebuildIntoShadow(store, settings, {
      target: () => head,
      onProgress: ({ position }) => onProgress?.({ position, head }),
      swap: async (swapIn) => swapIn(),
      logId: () => logId,
      onWarning,
    });
    return { position, head };
  } finally {
    await lock.end().catch(() => undefined);
  }
}

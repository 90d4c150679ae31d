import type { ProcessRegistry } from '@stagecraft/commands';
import type { Settings } from '@stagecraft/config';
import { getSQLiteEventStore, type EventStore } from '@stagecraft/event-store';
import { ALL_PROJECTIONS, inMemoryAnalyticsQueries, PostgresAnalyticsQueries, ProjectionRunner, ReadSideWriter, type AnalyticsQueries, type PipelineResult, type ProjectedEvent, type Projection, type ProjectionSnapshotStore } from '@stagecraft/projections';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log, threeStages } from '../../../../libs/projections/src/testing/log.fixtures';
import { describeWithPostgres, PostgresTestReadSide } from '../../../../libs/projections/src/testing/postgres.testing';
import type { Principal } from '../auth/principal';
import { AnalyticsController } from './analytics.controller';
import type { PipelineQueryDto } from './analytics.dto';

// X-Projection-Position says how far the log is folded into the figures of the answer: a client
// that sees position n there takes every event up to n as counted. It must never name a position
// the figures do not include — the read side moving on while the answer is made included.

const principal: Principal = { name: 'analyst', authenticatedBy: 'api-key:k', roles: ['analyst'], mayActOnBehalf: false };
const request = { headers: {} } as FastifyRequest;
const processes = { exists: async () => true, list: () => [] } as unknown as ProcessRegistry;

/** The board's open cards and the header it was sent with. */
async function board(queries: AnalyticsQueries): Promise<{ cards: string[]; header: string | undefined }> {
  const headers: Record<string, string> = {};
  const reply = { header: (name: string, value: string) => ((headers[name] = value), reply) } as unknown as FastifyReply;
  const controller = new AnalyticsController(queries, { readYourWritesTimeoutMs: 2_000 } as Settings, () => new Date('2026-03-02T00:00:00Z'), processes, { headPosition: async () => 0 } as unknown as EventStore, null);
  const result = (await controller.pipeline({ include: 'opportunities' } as PipelineQueryDto, principal, request, reply)) as PipelineResult;
  const cards = result.processes.flatMap((process) => process.stages.flatMap((stage) => (stage.opportunities ?? []).map((card) => card.id)));
  return { cards, header: headers['x-projection-position'] };
}

/** The same queries, with `meanwhile` run once the board's open columns have been read (the read side moves on before the answer is sent). */
function movingOnAfterTheBoard(queries: AnalyticsQueries, meanwhile: () => Promise<void>): AnalyticsQueries {
  const moving = Object.create(queries) as AnalyticsQueries;
  moving.pipeline = async (...args) => {
    const result = await queries.pipeline(...args);
    await meanwhile();
    return result;
  };
  return moving;
}

const first = [log.version(threeStages), log.opened('a', threeStages, 1)];
const later = [log.opened('b', threeStages, 2), log.opened('c', threeStages, 3)];

describe('X-Projection-Position of an answer from the in-memory read models', () => {
  let dir: string;
  let store: EventStore;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-position-'));
    store = getSQLiteEventStore({ path: join(dir, 'events.db'), pollIntervalMs: 10 });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const append = async (events: readonly ProjectedEvent[]) => {
    for (const event of events) await store.appendToStream(event.stream, [{ id: crypto.randomUUID(), type: event.type, data: event.data as Record<string, unknown>, metadata: {} }], { expectedRevision: 'any' });
  };

  it('is never past the position the figures were read at', async () => {
    await append(first);
    const snapshots: ProjectionSnapshotStore = { load: async () => undefined, headers: () => [], save: () => ({ serialized: Promise.resolve(), written: Promise.resolve() }), close: async () => undefined };
    const runner = new ProjectionRunner(store, snapshots, ALL_PROJECTIONS as readonly Projection<unknown>[]);
    await runner.start();
    try {
      const read = runner.position();
      const answer = await board(
        movingOnAfterTheBoard(inMemoryAnalyticsQueries(runner), async () => {
          await append(later);
          expect(await runner.waitFor(await store.headPosition(), 5_000)).toBe(true);
        }),
      );
      expect(answer.cards).toEqual(['a']);
      expect(Number(answer.header)).toBeLessThanOrEqual(read);
    } finally {
      await runner.stop();
    }
  });
});

describeWithPostgres('X-Projection-Position of an answer from the PostgreSQL read side', () => {
  const readSide = new PostgresTestReadSide();
  beforeAll(() => readSide.reset());
  afterAll(() => readSide.close());

  it('is the checkpoint of the snapshot the figures were read in, not where the read side stands when the answer is sent', async () => {
    await readSide.load(first);
    const read = first.at(-1)!.position;
    let checkpoint = read;
    const queries = new PostgresAnalyticsQueries(readSide.pool, readSide.schema, { position: () => checkpoint, waitFor: async () => true, status: () => [] });
    const answer = await board(
      movingOnAfterTheBoard(queries, async () => {
        // The projector commits the next batch, and says so, while the board is being answered.
        const client = await readSide.pool.connect();
        try {
          const writer = new ReadSideWriter(client, readSide.schema);
          await writer.load();
          await writer.apply(later, later.at(-1)!.position, 'test-log');
          checkpoint = writer.position;
        } finally {
          client.release();
        }
      }),
    );
    expect(checkpoint).toBeGreaterThan(read);
    expect(answer.cards).toEqual(['a']);
    expect(answer.header).toBe(String(read));
  });
});

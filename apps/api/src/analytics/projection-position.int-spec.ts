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
import type { ForecastQueryDto, PipelineQueryDto } from './analytics.dto';

// X-Projection-Position says how far the log is folded into the figures of the answer: a client
// that sees position n there takes every event up to n as counted. It must never name a position
// the figures do not include — the read side moving on while the answer is made included.

const principal: Principal = { name: 'analyst', authenticatedBy: 'api-key:k', roles: ['analyst'], mayActOnBehalf: false };
const request = { headers: {} } as FastifyRequest;
const processes = { exists: async () => true, list: () => [] } as unknown as ProcessRegistry;

/** The board's open cards and the header it was sent with (and the whole answer). */
async function board(queries: AnalyticsQueries): Promise<{ cards: string[]; header: string | undefined; result: PipelineResult }> {
  const headers: Record<string, string> = {};
  const reply = { header: (name: string, value: string) => ((headers[name] = value), reply) } as unknown as FastifyReply;
  const controller = new AnalyticsController(queries, { readYourWritesTimeoutMs: 2_000 } as Settings, () => new Date('2026-03-02T00:00:00Z'), processes, { headPosition: async () => 0 } as unknown as EventStore, null);
  const result = (await controller.pipeline({ include: 'opportunities' } as PipelineQueryDto, principal, request, reply)) as PipelineResult;
  const cards = result.processes.flatMap((process) => process.stages.flatMap((stage) => (stage.opportunities ?? []).map((card) => card.id)));
  return { cards, header: headers['x-projection-position'], result };
}

/**
 * The same queries, with `meanwhile` run once, as soon as the board's open columns have been read
 * (the read side moves on before the answer is sent), also within an answer of several queries.
 */
function movingOnAfterTheBoard(queries: AnalyticsQueries, meanwhile: () => Promise<void>, after: 'pipeline' | 'forecast' = 'pipeline'): AnalyticsQueries {
  let pending: (() => Promise<void>) | undefined = meanwhile;
  const moving = (under: AnalyticsQueries): AnalyticsQueries => {
    const wrapped = Object.create(under) as AnalyticsQueries;
    (wrapped as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[after] = async (...args: unknown[]) => {
      const result = await (under[after] as (...args: unknown[]) => Promise<unknown>)(...args);
      const once = pending;
      pending = undefined;
      await once?.();
      return result;
    };
    wrapped.oneSnapshot = (work) => under.oneSnapshot((pinned) => work(moving(pinned)));
    return wrapped;
  };
  return moving(queries);
}

/** Every card of the board has its learned win probability beside the configured one. */
const everyCardLearned = (result: PipelineResult) => result.processes.every((process) => process.stages.every((stage) => (stage.opportunities ?? []).every((card) => typeof (card as { winProbability?: unknown }).winProbability === 'number')));

// The learned figures of the board (its cards' learned probabilities, each stage's learned weighted
// amount) come from the same state of the read side as its columns: one deal lost and another
// opened between the two reads gave a card without its learned probability, and a stage's learned
// amount counting a deal its column did not list.
const openedTwo = [log.version(threeStages), log.opened('x', threeStages, 1, { amount: 100, currency: 'EUR' }), log.opened('y', threeStages, 2, { amount: 40, currency: 'EUR' })];
const lostAndOpened = [log.lost('x', 'a', 'price', 3), log.opened('z', threeStages, 4, { amount: 70, currency: 'EUR' })];

const first = [log.version(threeStages), log.opened('a', threeStages, 1)];
const later = [log.opened('b', threeStages, 2), log.opened('c', threeStages, 3)];

/**
 * Runs `work` with in-memory read models following a SQLite store of its own that holds `events`:
 * `moveOn` appends more and waits until the models have folded them.
 */
async function withInMemoryModels(events: readonly ProjectedEvent[], work: (runner: ProjectionRunner, moveOn: (more: readonly ProjectedEvent[]) => Promise<void>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-position-'));
  const store = getSQLiteEventStore({ path: join(dir, 'events.db'), pollIntervalMs: 10 });
  const append = async (more: readonly ProjectedEvent[]) => {
    for (const event of more) await store.appendToStream(event.stream, [{ id: crypto.randomUUID(), type: event.type, data: event.data as Record<string, unknown>, metadata: {} }], { expectedRevision: 'any' });
  };
  const snapshots: ProjectionSnapshotStore = { load: async () => undefined, headers: () => [], save: () => ({ serialized: Promise.resolve(), written: Promise.resolve() }), close: async () => undefined };
  try {
    await append(events);
    const runner = new ProjectionRunner(store, snapshots, ALL_PROJECTIONS as readonly Projection<unknown>[]);
    await runner.start();
    try {
      await work(runner, async (more) => {
        await append(more);
        expect(await runner.waitFor(await store.headPosition(), 5_000)).toBe(true);
      });
    } finally {
      await runner.stop();
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('X-Projection-Position of an answer from the in-memory read models', () => {
  it('is never past the position the figures were read at', () =>
    withInMemoryModels(first, async (runner, moveOn) => {
      const read = runner.position();
      const answer = await board(movingOnAfterTheBoard(inMemoryAnalyticsQueries(runner), () => moveOn(later)));
      // The models moved on under the answer, which was made again (oneSnapshot): the later cards,
      // under a header that still names no position past them.
      expect(answer.cards).toEqual(['a', 'b', 'c']);
      expect(Number(answer.header)).toBeLessThanOrEqual(read);
    }));

  it('gives the board and its learned figures of one state of the models: an answer whose models moved on between its queries is made again', () =>
    withInMemoryModels(openedTwo, async (runner, moveOn) => {
      const read = runner.position();
      const answer = await board(movingOnAfterTheBoard(inMemoryAnalyticsQueries(runner), () => moveOn(lostAndOpened)));
      expect(runner.position()).toBeGreaterThan(read);
      // Made again once the models had moved on: the later state, whole (x lost, z opened, every card learned).
      expect(answer.result).toEqual((await board(inMemoryAnalyticsQueries(runner))).result);
      expect(answer.cards).toEqual(['y', 'z']);
      expect(everyCardLearned(answer.result)).toBe(true);
      expect(Number(answer.header)).toBeLessThanOrEqual(runner.position());
    }));
});

describeWithPostgres('X-Projection-Position of an answer from the PostgreSQL read side', () => {
  const readSide = new PostgresTestReadSide();
  beforeAll(() => readSide.reset());
  afterAll(() => readSide.close());
  /** The projector commits `events` as its next batch; its checkpoint then. */
  const commit = async (events: readonly ProjectedEvent[]): Promise<number> => {
    const client = await readSide.pool.connect();
    try {
      const writer = new ReadSideWriter(client, readSide.schema);
      await writer.load();
      await writer.apply(events, events.at(-1)!.position, 'test-log');
      return writer.position;
    } finally {
      client.release();
    }
  };

  it('is the checkpoint of the snapshot the figures were read in, not where the read side stands when the answer is sent', async () => {
    await readSide.load(first);
    const read = first.at(-1)!.position;
    let checkpoint = read;
    const queries = new PostgresAnalyticsQueries(readSide.pool, readSide.schema, { position: () => checkpoint, waitFor: async () => true, status: () => [] });
    const answer = await board(
      movingOnAfterTheBoard(queries, async () => {
        // The projector commits the next batch, and says so, while the board is being answered.
        checkpoint = await commit(later);
      }),
    );
    expect(checkpoint).toBeGreaterThan(read);
    expect(answer.cards).toEqual(['a']);
    expect(answer.header).toBe(String(read));
  });

  it('reads the board and its learned figures in one snapshot when the projector commits between them', async () => {
    await readSide.load(openedTwo);
    const queries = new PostgresAnalyticsQueries(readSide.pool, readSide.schema, { position: () => 0, waitFor: async () => true, status: () => [] });
    const before = await board(queries);
    expect(before.cards).toEqual(['x', 'y']);
    expect(everyCardLearned(before.result)).toBe(true);
    const answer = await board(
      movingOnAfterTheBoard(queries, async () => void (await commit(lostAndOpened))),
    );
    // Every figure as the snapshot of the columns has it; the next answer has the commit.
    expect(answer.result).toEqual(before.result);
    expect(answer.header).toBe(String(openedTwo.at(-1)!.position));
    const after = await board(queries);
    expect(after.cards).toEqual(['y', 'z']);
    expect(after.result).not.toEqual(before.result);
  });

  it('keeps the learned counts of one answer for the next (the queries of one snapshot share them)', async () => {
    await readSide.load(openedTwo);
    const queries = new PostgresAnalyticsQueries(readSide.pool, readSide.schema, { position: () => 0, waitFor: async () => true, status: () => [] });
    const kept = () => (queries as unknown as { learnedQueries?: object }).learnedQueries;
    await board(queries);
    const first = kept();
    expect(first).toBeDefined();
    await board(queries);
    expect(kept()).toBe(first);
  });

  it('reads the forecast and its learned amounts in one snapshot when the projector commits between them', async () => {
    await readSide.load(openedTwo);
    const queries = new PostgresAnalyticsQueries(readSide.pool, readSide.schema, { position: () => 0, waitFor: async () => true, status: () => [] });
    const forecast = async (asked: AnalyticsQueries) => {
      const reply = { header: () => reply } as unknown as FastifyReply;
      const controller = new AnalyticsController(asked, { readYourWritesTimeoutMs: 2_000 } as Settings, () => new Date('2026-03-02T00:00:00Z'), processes, { headPosition: async () => 0 } as unknown as EventStore, null);
      return controller.forecast({ include: 'learned' } as ForecastQueryDto, principal, request, reply);
    };
    const before = await forecast(queries);
    const answer = await forecast(
      movingOnAfterTheBoard(queries, async () => void (await commit(lostAndOpened)), 'forecast'),
    );
    expect(answer).toEqual(before);
    expect(await forecast(queries)).not.toEqual(before);
  });
});

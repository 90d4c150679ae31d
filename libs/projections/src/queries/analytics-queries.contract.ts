import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import type { ClosedOutcome, WinLossGroupBy } from '@stagecraft/contracts';
import { ALL_PROJECTIONS } from '../all-projections';
import type { Projection, ProjectedEvent, ReadModelKey } from '../projection.types';
import type { ReadModels } from '../runner/read-models.port';
import { EPOCH, filterArbitraryFor, historyWith, instantArbitraryFor, nowArbitraryFor, SPAN_MS, type GeneratedHistory } from '../testing/history.arbitrary';
import { project } from '../testing/project';
import { cardIdsOf } from '../win-probability.queries';
import { decodeChangeKey } from '../waterfall.page';
import type { AnalyticsQueries } from './analytics-queries.port';
import { inMemoryAnalyticsQueries } from './in-memory-analytics.queries';

// The contract every AnalyticsQueries adapter keeps: for any valid log (random histories made by
// the real decider, several processes and versions, migrations, noise) and any question, it
// answers exactly what the in-memory read models answer — the same JSON text, key order and every
// float's last bit included. The in-memory models are themselves checked against brute-force
// recomputations from the raw events (../*.spec.ts), so an adapter that keeps this contract gives
// the figures those define.

/** Loads a log into the adapter under test (as its projector would) and answers its queries. */
export type LoadAdapter = (events: readonly ProjectedEvent[], batchSizes: readonly number[]) => Promise<AnalyticsQueries>;

/** The reference: the in-memory models, folded from the same events. */
export function inMemoryReference(events: readonly ProjectedEvent[]): AnalyticsQueries {
  const models = new Map((ALL_PROJECTIONS as readonly Projection<unknown>[]).map((projection) => [projection.name, project(projection, events)]));
  const readModels = {
    model: <Model>({ name }: ReadModelKey<Model>) => models.get(name) as Model,
    failure: () => undefined,
    position: () => events.at(-1)?.position ?? 0,
    waitFor: async () => true,
    status: () => [],
  } as unknown as ReadModels;
  return inMemoryAnalyticsQueries(readModels);
}

// Every instant of a question (from/to, now, asOf, the closed window) is drawn mostly on or 1 ms
// beside an event of the history, so each adapter's inclusive and exclusive bounds are met at their edge.
const questionArbitraryFor = (history: GeneratedHistory) => {
  const instant = instantArbitraryFor(history);
  return fc.record({
    filter: filterArbitraryFor(history),
    now: nowArbitraryFor(history),
    groupBy: fc.constantFrom<WinLossGroupBy | undefined>(undefined, 'team', 'owner', 'reason', 'month', 'process'),
    include: fc.boolean(),
    cap: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    asOf: instant,
    since: instant,
    byStage: fc.boolean(),
    velocityBy: fc.constantFrom<'team' | 'owner' | 'process' | undefined>(undefined, 'team', 'owner', 'process'),
    period: fc.constantFrom<'month' | 'quarter'>('month', 'quarter'),
    limit: fc.integer({ min: 1, max: 6 }),
    // Titles are "Deal o<n>" (some "Renamed o<n> <d>" later), ids "o<n>", owners ann, bob, cid: words in each, folded (case, accent, spaces), and none.
    needle: fc.constantFrom('deal', 'o1', 'ann', 'B', 'DÉAL  O2', 'zzz', 'renamed', 'RENAMED o1'),
    statuses: fc.option(fc.subarray(['open', 'won', 'lost'] as const, { minLength: 1 }), { nil: undefined }),
    closed: fc.option(
      fc.record({
        outcomes: fc.subarray<ClosedOutcome>(['won', 'lost'], { minLength: 1 }),
        from: instant,
        to: instant,
        limit: fc.integer({ min: 1, max: 5 }),
      }),
      // Asked two times in three: its window's ends are bounds to meet too.
      { nil: undefined, freq: 3 },
    ),
  });
};

type Question = ReturnType<typeof questionArbitraryFor> extends fc.Arbitrary<infer Q> ? Q : never;

/** Every query of the port for one question, as [label, answer]. */
async function answersOf(queries: AnalyticsQueries, q: Question): Promise<[string, unknown][]> {
  const { processId, teamId, ownerId } = q.filter;
  const people = { processId, teamId, ownerId };
  const cards = { includeOpportunities: q.include || q.cap !== undefined, ...(q.cap !== undefined ? { cardsPerColumn: q.cap } : {}) };
  const closed = q.closed && { ...q.closed, from: new Date(Math.min(q.closed.from, q.closed.to)).toISOString(), to: new Date(Math.max(q.closed.from, q.closed.to)).toISOString() };
  const everyCard = cardIdsOf(await queries.pipelineAsOf(Number.MAX_SAFE_INTEGER, {}, { includeOpportunities: true }));
  // The drill-down in pages of q.limit changes: the first page, and the one its cursor names.
  const window = { ...people, fromMs: Math.min(q.since, q.asOf), toMs: Math.max(q.since, q.asOf), byStage: q.byStage, includeOpportunities: true };
  const firstPage = await queries.waterfall({ ...window, page: { limit: q.limit } });
  const nextCursor = typeof firstPage.nextFromChange === 'string' ? decodeChangeKey(firstPage.nextFromChange, window) : undefined;
  // The search in pages of q.limit deals, the second page asked with the first's cursor; a cursor of another question refused alike.
  const search = { ...people, q: q.needle, limit: q.limit, ...(q.statuses ? { statuses: q.statuses } : {}) };
  const firstFound = await queries.searchOpportunities(search);
  const refused = (error: unknown) => ({ refused: (error as Error).name, message: (error as Error).message });
  const foreignCursor = await queries.searchOpportunities({ q: 'zzz', limit: 1, after: firstFound.opportunities[0]?.id ?? 'o0' }).catch(refused);
  return [
    // Cards aged at an instant on or beside an event: the rotting edge is met.
    ['pipeline', await queries.pipeline(people, { ...cards, nowMs: q.asOf, ...(closed ? { closed } : {}) })],
    ['pipeline, all', await queries.pipeline({}, { includeOpportunities: true })],
    ['pipeline as of', await queries.pipelineAsOf(q.asOf, people, cards)],
    ['pipeline after everything', await queries.pipelineAsOf(Number.MAX_SAFE_INTEGER, {}, { includeOpportunities: true })],
    ['win/loss', await queries.winLoss(q.filter, q.groupBy)],
    ['win/loss, unfiltered', await queries.winLoss({}, q.groupBy)],
    ['stage durations', await queries.stageDurations(q.filter, q.now)],
    ['stage durations, unfiltered', await queries.stageDurations({}, q.now)],
    ['funnel', await queries.funnel(q.filter)],
    ['funnel, unfiltered', await queries.funnel({})],
    ['transitions', await queries.transitions(q.filter)],
    ['transitions, unfiltered', await queries.transitions({})],
    ['forecast', await queries.forecast({ ...q.filter, period: q.period })],
    ['forecast, unfiltered', await queries.forecast({ period: q.period })],
    ['forecast as of', await queries.forecastAsOf(q.asOf, { ...q.filter, period: q.period })],
    ['forecast accuracy', await queries.forecastAccuracy({ ...q.filter, period: q.period })],
    ['forecast accuracy, unfiltered', await queries.forecastAccuracy({ period: q.period })],
    ['rotting', await queries.rotting(q.asOf + 30 * 86_400_000, { ...people, limit: q.limit })],
    ['rotting, all', await queries.rotting(EPOCH + 3 * SPAN_MS, { limit: 1000 })],
    ['rotting as of', await queries.rottingAsOf(q.asOf, { ...people, limit: q.limit })],
    ['learned win probability', await queries.learnedPipeline({ atMs: q.asOf + 20 * 86_400_000, asOf: false, filter: people, cardIds: everyCard })],
    ['learned win probability, all', await queries.learnedPipeline({ atMs: EPOCH + 3 * SPAN_MS, asOf: false, filter: {}, cardIds: everyCard })],
    ['learned win probability as of', await queries.learnedPipeline({ atMs: q.asOf, asOf: true, filter: people, cardIds: everyCard })],
    ['learned forecast', await queries.learnedForecast({ atMs: q.asOf + 20 * 86_400_000, asOf: false, forecast: { ...q.filter, period: q.period } })],
    ['learned forecast as of', await queries.learnedForecast({ atMs: q.asOf, asOf: true, forecast: { ...q.filter, period: q.period } })],
    ['win probability calibration', await queries.winProbabilityCalibration(q.filter)],
    ['win probability calibration, unfiltered', await queries.winProbabilityCalibration({})],
    ['waterfall', await queries.waterfall({ ...people, fromMs: Math.min(q.since, q.asOf), toMs: Math.max(q.since, q.asOf), byStage: q.byStage, includeOpportunities: q.include })],
    ['velocity', await queries.velocity({ ...people, fromMs: Math.min(q.since, q.asOf), toMs: Math.max(q.since, q.asOf), groupBy: q.velocityBy })],
    ['velocity, everything', await queries.velocity({ fromMs: EPOCH - 1, toMs: EPOCH + 3 * SPAN_MS, groupBy: 'team' })],
    ['cohorts', await queries.cohorts(q.filter)],
    ['cohorts, unfiltered', await queries.cohorts({})],
    ['waterfall, everything', await queries.waterfall({ fromMs: EPOCH - 1, toMs: EPOCH + 3 * SPAN_MS, byStage: true, includeOpportunities: true })],
    ['search', firstFound],
    ['search, the next page', firstFound.next === null ? null : await queries.searchOpportunities({ ...search, after: firstFound.next }).catch(refused)],
    ['search, everything', await queries.searchOpportunities({ q: 'o', limit: 10_000 })],
    ['search, a cursor of another question', foreignCursor],
    ['waterfall, a page of the drill-down', firstPage],
    ['waterfall, the next page', nextCursor && (await queries.waterfall({ ...window, page: { limit: q.limit, fromChange: nextCursor } }))],
  ];
}

/**
 * Runs the contract against one adapter: `load` gets each random log (cut into random batches) and
 * must answer every question exactly as the reference does.
 */
export function analyticsQueriesContract(load: LoadAdapter, { numRuns = 40, seed = 20261128 }: { numRuns?: number; seed?: number } = {}): void {
  it('answers every query exactly as the in-memory read models do (same JSON text), for random logs, batches and questions', async () => {
    await assertProperty(
      fc.asyncProperty(historyWith((h) => fc.array(questionArbitraryFor(h), { minLength: 2, maxLength: 6 })), fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 4 }), async ([history, questions], batchSizes) => {
        const adapter = await load(history.events, batchSizes);
        const reference = inMemoryReference(history.events);
        for (const question of questions) {
          const expected = await answersOf(reference, question);
          const actual = await answersOf(adapter, question);
          for (let i = 0; i < expected.length; i++) {
            const [label, answer] = expected[i]!;
            // Text equality: the same keys in the same order, the same digits of every number.
            if (JSON.stringify(actual[i]![1]) !== JSON.stringify(answer)) {
              // Named first: Jest's diff shows only the lines that differ, not which query it was.
              try {
                expect(actual[i]![1]).toEqual(answer);
              } catch (error) {
                throw new Error(`query "${label}" for ${JSON.stringify(question)}:\n${(error as Error).message}`);
              }
              throw new Error(`${label}: same values, other key order or number text\n${JSON.stringify(actual[i]![1])}\n${JSON.stringify(answer)}`);
            }
          }
        }
      }),
      { numRuns, seed },
    );
  }, 300_000);
}

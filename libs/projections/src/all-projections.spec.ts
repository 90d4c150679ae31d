import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { deserializeModel, serializeModel } from './runner/model-serialization';
import { ALL_PROJECTIONS } from './all-projections';
import { queryFunnel, type FunnelModel } from './funnel.projection';
import { queryPipeline, type PipelineModel } from './pipeline.projection';
import type { AnalyticsFilter, ProjectedEvent, Projection } from './projection.types';
import { queryStageDurations, type StageDurationsModel } from './stage-durations.projection';
import { queryPipelineAsOf, type StageIntervalsModel } from './stage-intervals.projection';
import { EPOCH, filterArbitraryFor, historyWith, nowArbitraryFor, SPAN_MS } from './testing/history.arbitrary';
import { log, standardV1, standardV2 } from './testing/log.fixtures';
import { project } from './testing/project';
import { queryTransitions, type TransitionsModel } from './transitions.projection';
import { queryWinLoss, type WinLossModel } from './win-loss.projection';
import { learningVisitsOf, type WinProbabilityModel } from './win-probability.projection';
import { queryWinProbabilityCalibration } from './win-probability.queries';

/** Every query of a read model, for one filter and `now`: what a restart must not change. */
const answers: Record<string, (model: unknown, filter: AnalyticsFilter, now: string) => unknown> = {
  pipeline: (model, { processId, teamId, ownerId }) => queryPipeline(model as PipelineModel, { processId, teamId, ownerId }, { includeOpportunities: true }),
  'win-loss': (model, filter) => (['team', 'owner', 'reason', 'month', 'process'] as const).map((groupBy) => queryWinLoss(model as WinLossModel, filter, groupBy)),
  'stage-durations': (model, filter, now) => queryStageDurations(model as StageDurationsModel, filter, now),
  funnel: (model, filter) => queryFunnel(model as FunnelModel, filter),
  transitions: (model, filter) => queryTransitions(model as TransitionsModel, filter),
  'stage-intervals': (model, { processId, teamId, ownerId }, now) =>
    [Date.parse(now), EPOCH + SPAN_MS / 3].map((atMs) => queryPipelineAsOf(model as StageIntervalsModel, atMs, { processId, teamId, ownerId }, { includeOpportunities: true })),
  'win-probability': (model, filter) => [learningVisitsOf(model as WinProbabilityModel), queryWinProbabilityCalibration(model as WinProbabilityModel, filter)],
};

const projections = ALL_PROJECTIONS as readonly Projection<unknown>[];

const thrownBy = (work: () => unknown): string | undefined => {
  try {
    work();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
};

describe('all read models', () => {
  it('are listed once each under distinct names, all queryable here', () => {
    expect(projections.map((p) => p.name).sort()).toEqual(Object.keys(answers).sort());
  });

  it('each takes back only a saved model of its own layout: one of another shape is rebuilt, never queried into a 500', () => {
    // A snapshot saved by another version (the single-blob format's, another set of columns)
    // passes every check of the file; only the model can tell it is not one it reads.
    for (const projection of projections) {
      const context = projection.name;
      expect({ context, accepts: typeof projection.accepts }).toEqual({ context, accepts: 'function' });
      expect({ context, own: projection.accepts!(deserializeModel(serializeModel(projection.initial()))) }).toEqual({ context, own: true });
      for (const other of [{}, null, [1, 2], { layout: 0 }, { ...(projection.initial() as object), layout: -1 }]) {
        expect({ context, other, taken: projection.accepts!(other) }).toEqual({ context, other, taken: false });
      }
    }
  });

  it('answer the same after a restart: first half, saved and loaded as the runner does, then the second half', () => {
    assertProperty(
      fc.property(historyWith((h) => fc.tuple(filterArbitraryFor(h), nowArbitraryFor(h))), fc.nat(), ([history, [filter, now]], cut) => {
        const split = history.events.length === 0 ? 0 : cut % (history.events.length + 1);
        for (const projection of projections) {
          const query = answers[projection.name]!;
          const atOnce = project(projection, history.events);
          const firstHalf = project(projection, history.events.slice(0, split));
          query(firstHalf, filter, now); // a query in between must leave nothing behind
          const restarted = project(projection, history.events.slice(split), deserializeModel(serializeModel(firstHalf)));
          expect(query(restarted, filter, now)).toEqual(query(atOnce, filter, now));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('ignore events of other streams and types, including look-alikes outside opportunity streams', () => {
    assertProperty(
      fc.property(historyWith((h) => fc.tuple(filterArbitraryFor(h), nowArbitraryFor(h))), ([history, [filter, now]]) => {
        for (const projection of projections) {
          const query = answers[projection.name]!;
          expect(query(project(projection, history.events), filter, now)).toEqual(query(project(projection, history.clean), filter, now));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('ignore malformed process records and events of opportunities never opened', () => {
    const events = [
      log.version(standardV1),
      { position: 900, stream: 'sales-process-standard', type: 'ProcessVersionRecorded', data: { processId: 'standard' } },
      log.won('never-opened', 'new', 1),
      log.opened('a', standardV1, 2),
    ];
    for (const projection of projections) {
      const query = answers[projection.name]!;
      expect(query(project(projection, events), {}, '2026-06-01T00:00:00Z')).toEqual(
        query(project(projection, [events[0]!, events[3]!]), {}, '2026-06-01T00:00:00Z'),
      );
    }
  });

  it('do not throw on a stream that breaks the rules (closed twice, reopened while open, moved while closed)', () => {
    const events = [
      log.version(standardV1),
      log.opened('a', standardV1, 0),
      log.won('a', 'new', 1),
      log.won('a', 'new', 2),
      log.lost('a', 'new', 'price', 3),
      log.moved('a', 'new', 'legacy', 4),
      log.reopened('a', 'legacy', 5),
      log.reopened('a', 'new', 6),
    ];
    for (const projection of projections) expect(() => answers[projection.name]!(project(projection, events), {}, '2026-06-01T00:00:00Z')).not.toThrow();
  });

  it('stop on a business time written outside Stagecraft without a zone, or not as an ISO instant, naming it, whatever the zone', () => {
    // Another tool appending to a KurrentDB stream may write a time without a zone, a date alone or
    // a number. Date.parse reads the first two in the server's own zone (and "5" as 2001), so two
    // servers of one cluster in different zones folded one log into different figures.
    const stray = (event: ProjectedEvent, occurredAt: unknown): ProjectedEvent => ({ ...event, data: { ...event.data, occurredAt } });
    const times = ['2026-03-01T12:00:00', '2026-03-01T12:00', '2026-03-02', '5', 'March 1, 2026 12:00 UTC', '2026-03-01 12:00:00Z', '2026-02-30T12:00:00Z', 5, undefined];
    for (const time of times) {
      for (const [strayEvent, type] of [
        [stray(log.opened('a', standardV1, 0), time), 'OpportunityOpened'],
        [stray(log.moved('a', 'new', 'legacy', 60), time), 'StageChanged'],
        [stray(log.won('a', 'new', 60), time), 'OpportunityWon'],
      ] as const) {
        const events = [log.version(standardV1), ...(type === 'OpportunityOpened' ? [] : [log.opened('a', standardV1, 0)]), strayEvent];
        for (const projection of projections.filter((p) => p.handles.has(type as never))) {
          const context = { time, type, model: projection.name };
          expect({ ...context, thrown: thrownBy(() => project(projection, events)) }).toEqual({
            ...context,
            thrown: time === undefined ? 'it has no occurredAt (another tool or an edit of the log wrote it)' : expect.stringContaining(`its occurredAt ${JSON.stringify(time)} is not an ISO 8601 instant with a zone`),
          });
        }
      }
    }
    // The control: a time with its zone, or in an extended year an old log may hold, is one.
    for (const time of ['2026-03-01T12:00:00+02:00', '+010000-01-01T00:00:00.000Z']) {
      const events = [log.version(standardV1), stray(log.opened('a', standardV1, 0), time), stray(log.moved('a', 'new', 'legacy', 60), time)];
      for (const projection of projections) expect({ time, model: projection.name, thrown: thrownBy(() => project(projection, events)) }).toEqual({ time, model: projection.name, thrown: undefined });
    }
    // A second opening, or an event of an opportunity never opened, is not folded: its time is not read.
    const ignored = [log.version(standardV1), log.opened('a', standardV1, 0), stray(log.opened('a', standardV1, 1), '5'), stray(log.moved('b', 'new', 'legacy', 2), '5')];
    for (const projection of projections) expect({ model: projection.name, thrown: thrownBy(() => project(projection, ignored)) }).toEqual({ model: projection.name, thrown: undefined });
  });

  it('keep counting an opportunity whose version was never recorded, under its process, at probability 0', () => {
    // A log that breaks the promise "versions are recorded first" loses nothing.
    const events = [log.version(standardV1), log.opened('a', standardV2, 0, { amount: 100 }), log.moved('a', 'new', 'won-over', 1)];
    const [pipeline, winLoss, durations, funnel, transitions] = projections.map((p) => project(p, events));
    expect(queryPipeline(pipeline as PipelineModel).processes[0]!.stages.find((s) => s.stageId === 'won-over')).toMatchObject({ count: 1, amount: 100, weightedAmount: 0 });
    expect(queryWinLoss(winLoss as WinLossModel).total.won).toBe(0);
    expect(queryStageDurations(durations as StageDurationsModel, {}, '2026-06-01T00:00:00Z').processes[0]!.stages[0]!.completed.count).toBe(1);
    // Listed new, legacy, won-over (v1's order); the unrecorded version has only the stages it was seen in.
    expect(queryFunnel(funnel as FunnelModel).processes[0]!.stages.map((s) => s.reached)).toEqual([1, 0, 1]);
    expect(queryTransitions(transitions as TransitionsModel).processes[0]!.matrix).toEqual({ new: { 'won-over': 1 } });
  });
});

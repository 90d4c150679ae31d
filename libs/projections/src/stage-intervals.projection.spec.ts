import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { foldOpportunity, type OpportunityEvent } from '@stagecraft/opportunity';
import { pipelineProjection, queryPipeline, type PipelineFilter } from './pipeline.projection';
import type { ProjectedEvent } from './projection.types';
import { queryPipelineAsOf, stageIntervalsProjection } from './stage-intervals.projection';
import { filterArbitraryFor, historyArbitrary, historyWith, instantArbitraryFor } from './testing/history.arbitrary';
import { agedOracle, capColumns, columnMoneyOracle, definitionOf, expectApproxEqual, processIds, readLog, stageOrder } from './testing/history.oracle';
import { at, log, standardV1 } from './testing/log.fixtures';
import { project } from './testing/project';

/**
 * Brute force: fold each opportunity's events with occurredAt ≤ t (its as-of state), keep the
 * open ones that match the filter as they were at t, and add them up per stage.
 */
function boardOracle(events: readonly ProjectedEvent[], atMs: number, filter: PipelineFilter, includeOpportunities: boolean) {
  const log = readLog(events);
  const states = log.opportunities.map((o) => foldOpportunity(o.events.filter((e) => Date.parse(String(e.data.occurredAt)) <= atMs).map((e) => ({ type: e.type, data: e.data }) as OpportunityEvent)));
  return {
    processes: processIds(log, filter.processId).map((processId) => ({
      processId,
      stages: stageOrder(log, processId).map((stageId) => {
        const latestWithStage = log.versions
          .filter((v) => v.processId === processId)
          .map((v) => v.definition.stages.find((s) => s.id === stageId))
          .filter((s) => s !== undefined)
          .at(-1)!;
        const here = states.flatMap((s) =>
          s.status === 'open' &&
          s.processId === processId &&
          s.stage === stageId &&
          (filter.teamId === undefined || s.teamId === filter.teamId) &&
          (filter.ownerId === undefined || s.ownerId === filter.ownerId)
            ? [s]
            : [],
        );
        const money = columnMoneyOracle(
          here.map((s) => ({ amount: s.amount, currency: s.currency, probability: () => definitionOf(log, s.processId, s.processVersion).stages.find((stage) => stage.id === stageId)!.probability })),
        );
        const row = {
          stageId,
          name: latestWithStage.name,
          probability: latestWithStage.probability,
          count: here.length,
          ...money,
          rotAfterDays: latestWithStage.rotAfterDays ?? null,
          rotting: here.filter((s) => agedOracle(s.stageEnteredAt, latestWithStage.rotAfterDays ?? null, atMs).rotting).length,
        };
        if (!includeOpportunities) return row;
        const listed = here
          .map((s) => ({
            id: s.id,
            title: s.title,
            ownerId: s.ownerId ?? null,
            teamId: s.teamId ?? null,
            amount: s.amount ?? null,
            currency: s.currency ?? null,
            stageEnteredAt: s.stageEnteredAt,
            expectedCloseDate: s.expectedCloseDate ?? null,
            // The past board ages its cards at the instant it describes.
            ...agedOracle(s.stageEnteredAt, latestWithStage.rotAfterDays ?? null, atMs),
          }))
          .sort((a, b) => Date.parse(a.stageEnteredAt) - Date.parse(b.stageEnteredAt) || (a.id < b.id ? -1 : 1));
        return { ...row, opportunities: listed };
      }),
    })),
  };
}

describe('the stage-intervals read model (the pipeline at a past instant)', () => {
  it('equals the per-opportunity as-of states aggregated, at random instants and filters', () => {
    assertProperty(
      fc.property(historyWith((h) => fc.array(fc.tuple(instantArbitraryFor(h), filterArbitraryFor(h), fc.boolean()), { minLength: 1, maxLength: 6 })), ([history, queries]) => {
        const model = project(stageIntervalsProjection, history.events);
        for (const [atMs, { processId, teamId, ownerId }, includeOpportunities] of queries) {
          const filter = { processId, teamId, ownerId };
          expectApproxEqual(queryPipelineAsOf(model, atMs, filter, { includeOpportunities }), boardOracle(history.clean, atMs, filter, includeOpportunities));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('caps each past column at the first N cards of the uncapped listing, keeping the whole column\'s figures', () => {
    assertProperty(
      fc.property(historyWith((h) => fc.array(fc.tuple(instantArbitraryFor(h), filterArbitraryFor(h), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 4 })), ([history, queries]) => {
        const model = project(stageIntervalsProjection, history.events);
        for (const [atMs, { processId, teamId, ownerId }, cardsPerColumn] of queries) {
          const filter = { processId, teamId, ownerId };
          expectApproxEqual(queryPipelineAsOf(model, atMs, filter, { includeOpportunities: true, cardsPerColumn }), capColumns(boardOracle(history.clean, atMs, filter, true), cardsPerColumn));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('answers a capped past board byte for byte as the uncapped one cut after N cards, ties at one instant included', () => {
    // Capped columns pick their cards as the segments go by (FirstInOrder); uncapped ones sort them.
    assertProperty(
      fc.property(historyWith((h) => fc.array(fc.tuple(instantArbitraryFor(h), filterArbitraryFor(h), fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 4 })), ([history, queries]) => {
        const model = project(stageIntervalsProjection, history.events);
        for (const [atMs, { processId, teamId, ownerId }, cardsPerColumn] of queries) {
          const filter = { processId, teamId, ownerId };
          const capped = queryPipelineAsOf(model, atMs, filter, { includeOpportunities: true, cardsPerColumn });
          expect(JSON.stringify(capped)).toBe(JSON.stringify(capColumns(queryPipelineAsOf(model, atMs, filter, { includeOpportunities: true }), cardsPerColumn)));
        }
      }),
      { numRuns: 100 },
    );
    // Most deals entered their stage at one of three instants, opened in any order of ids.
    assertProperty(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 99 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.record({ minute: fc.integer({ min: 0, max: 2 }), movedAt: fc.option(fc.integer({ min: 3, max: 4 }), { nil: undefined }) }), { minLength: 40, maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 5 }),
        (numbers, deals, cardsPerColumn, minute) => {
          const events = [log.version(standardV1)];
          numbers.forEach((number, index) => {
            const id = `deal-${String(number).padStart(2, '0')}`;
            events.push(log.opened(id, standardV1, deals[index]!.minute));
            if (deals[index]!.movedAt !== undefined) events.push(log.moved(id, 'new', 'legacy', deals[index]!.movedAt!));
          });
          const model = project(stageIntervalsProjection, events);
          const atMs = Date.parse(at(minute));
          const capped = queryPipelineAsOf(model, atMs, {}, { includeOpportunities: true, cardsPerColumn });
          expect(JSON.stringify(capped)).toBe(JSON.stringify(capColumns(queryPipelineAsOf(model, atMs, {}, { includeOpportunities: true }), cardsPerColumn)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('after the last event, equals the live pipeline', () => {
    assertProperty(
      fc.property(historyArbitrary(), fc.constantFrom(undefined, 'p0', 'p1'), (history, processId) => {
        const board = queryPipelineAsOf(project(stageIntervalsProjection, history.events), Number.MAX_SAFE_INTEGER, { processId }, { includeOpportunities: true });
        const live = queryPipeline(project(pipelineProjection, history.events), { processId }, { includeOpportunities: true, nowMs: Number.MAX_SAFE_INTEGER });
        // Everything but the live cards' criteria progress and process version: the as-of board keeps neither (README, GET /pipeline).
        expectApproxEqual(board, JSON.parse(JSON.stringify(live, (key, value: unknown) => (key === 'criteria' || key === 'processVersion' ? undefined : value))));
      }),
      { numRuns: 50 },
    );
  });

  it('shows a deal in the stage it was in, with the amount and team it had then', () => {
    const model = project(stageIntervalsProjection, [
      log.version(standardV1),
      log.opened('a', standardV1, 0, { amount: 1000, currency: 'EUR', teamId: 'direct' }),
      log.moved('a', 'new', 'legacy', 10),
      log.details('a', 20, { amount: 3000, teamId: 'partners' }),
      log.lost('a', 'legacy', 'price', 30),
    ]);
    const stages = (minute: number, filter: PipelineFilter = {}) =>
      queryPipelineAsOf(model, Date.parse(at(minute)), filter).processes[0]!.stages.map((s) => [s.stageId, s.count, s.amount]);
    expect(stages(-1)).toEqual([['new', 0, 0], ['legacy', 0, 0], ['won-over', 0, 0]]);
    expect(stages(5)).toEqual([['new', 1, 1000], ['legacy', 0, 0], ['won-over', 0, 0]]);
    expect(stages(10)).toEqual([['new', 0, 0], ['legacy', 1, 1000], ['won-over', 0, 0]]);
    expect(stages(25)).toEqual([['new', 0, 0], ['legacy', 1, 3000], ['won-over', 0, 0]]);
    expect(stages(15, { teamId: 'direct' })[1]).toEqual(['legacy', 1, 1000]);
    expect(stages(25, { teamId: 'direct' })[1]).toEqual(['legacy', 0, 0]);
    expect(stages(30)).toEqual([['new', 0, 0], ['legacy', 0, 0], ['won-over', 0, 0]]);
  });
});

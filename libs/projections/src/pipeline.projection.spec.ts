import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { deserializeModel, serializeModel } from './runner/model-serialization';
import { firstInOrder } from './order-statistics';
import type { ClosedOutcome } from '@stagecraft/contracts';
import { pipelineProjection, queryPipeline, type ClosedQuery, type PipelineFilter } from './pipeline.projection';
import type { ProjectedEvent } from './projection.types';
import { filterArbitraryFor, historyWith, isoInstantArbitraryFor, nowArbitraryFor, type GeneratedHistory } from './testing/history.arbitrary';
import { agedOracle, capColumns, columnMoneyOracle, definitionOf, expectApproxEqual, oneCurrencyTotal, matchesOpportunity, processIds, readLog, stageOrder, type OracleOpportunity } from './testing/history.oracle';
import { project } from './testing/project';
import { at, log, standardV1, standardV2 } from './testing/log.fixtures';

/** Where an opportunity is now, walking its events one by one. */
function currentPosition(opportunity: OracleOpportunity): { open: boolean; stage: string; enteredAt: string } {
  let position = { open: true, stage: '', enteredAt: '' };
  for (const { type, data } of opportunity.events) {
    const when = data.occurredAt as string;
    if (type === 'OpportunityOpened') position = { open: true, stage: data.stage as string, enteredAt: when };
    if (type === 'StageChanged') position = { open: true, stage: data.to as string, enteredAt: when };
    if (type === 'OpportunityReopened') position = { open: true, stage: data.stage as string, enteredAt: when };
    if (type === 'OpportunityWon' || type === 'OpportunityLost') position = { ...position, open: false };
    // A migration continues the visit under the mapped stage: same entry time.
    if (type === 'ProcessMigrated') position = { ...position, stage: data.toStage as string };
  }
  return position;
}

/** The expected close date its latest ExpectedCloseDateChanged set, or null. */
function expectedCloseDateOf(opportunity: OracleOpportunity): string | null {
  let date: string | null = null;
  for (const { type, data } of opportunity.events) if (type === 'ExpectedCloseDateChanged') date = data.to as string | null;
  return date;
}

/**
 * The exit criteria met in the current visit and the stage it last closed in, walking its events
 * one by one as the domain's evolve does: met and revoked within a visit, none after a stage
 * change, a closing or a reopening, those a migration kept.
 */
function criteriaAndClosing(opportunity: OracleOpportunity): { met: string[]; closedIn: string | null } {
  let open = true;
  let stage = '';
  let met: string[] = [];
  let closedIn: string | null = null;
  for (const { type, data } of opportunity.events) {
    if (type === 'OpportunityOpened') [open, stage, met] = [true, data.stage as string, []];
    if (type === 'ExitCriterionMet' && open) met = [...met, data.criterionId as string];
    if (type === 'ExitCriterionRevoked' && open) met = met.filter((id) => id !== data.criterionId);
    if (type === 'StageChanged') [stage, met] = [data.to as string, []];
    if (type === 'OpportunityReopened') [open, stage, met, closedIn] = [true, data.stage as string, [], null];
    if (type === 'OpportunityWon' || type === 'OpportunityLost') [closedIn, open, met] = [open ? stage : null, false, []];
    if (type === 'ProcessMigrated' && open) [stage, met] = [data.toStage as string, [...(data.criteriaKept as string[])]];
  }
  return { met, closedIn };
}

function pipelineOracle(events: readonly ProjectedEvent[], filter: PipelineFilter, includeOpportunities: boolean, nowMs?: number) {
  const log = readLog(events);
  return {
    processes: processIds(log, filter.processId).map((processId) => ({
      processId,
      stages: stageOrder(log, processId).map((stageId) => {
        const latestWithStage = log.versions
          .filter((v) => v.processId === processId)
          .map((v) => v.definition.stages.find((s) => s.id === stageId))
          .filter((s) => s !== undefined)
          .at(-1)!;
        const here = log.opportunities.filter((o) => {
          const position = currentPosition(o);
          return o.processId === processId && matchesOpportunity(o, filter) && position.open && position.stage === stageId;
        });
        const money = columnMoneyOracle(
          here.map((o) => ({ amount: o.amount, currency: o.currency, probability: () => definitionOf(log, o.processId, o.version).stages.find((s) => s.id === stageId)!.probability })),
        );
        const row = {
          stageId,
          name: latestWithStage.name,
          probability: latestWithStage.probability,
          count: here.length,
          ...money,
          rotAfterDays: latestWithStage.rotAfterDays ?? null,
          // Aged at an instant: how many deals of the whole column are rotting then.
          ...(nowMs === undefined ? {} : { rotting: here.filter((o) => agedOracle(currentPosition(o).enteredAt, latestWithStage.rotAfterDays ?? null, nowMs).rotting).length }),
        };
        if (!includeOpportunities) return row;
        const listed = here
          .map((o) => ({
            id: o.id,
            title: o.title,
            ownerId: o.ownerId ?? null,
            teamId: o.teamId ?? null,
            amount: o.amount ?? null,
            currency: o.currency ?? null,
            stageEnteredAt: currentPosition(o).enteredAt,
            expectedCloseDate: expectedCloseDateOf(o),
            ...(nowMs === undefined ? {} : agedOracle(currentPosition(o).enteredAt, latestWithStage.rotAfterDays ?? null, nowMs)),
            criteria: (() => {
              const criteria = definitionOf(log, o.processId, o.version).stages.find((s) => s.id === stageId)!.exitCriteria.map((c) => c.id);
              const { met } = criteriaAndClosing(o);
              return { met: criteria.filter((id) => met.includes(id)).length, total: criteria.length };
            })(),
            processVersion: o.version,
          }))
          .sort((a, b) => Date.parse(a.stageEnteredAt) - Date.parse(b.stageEnteredAt) || (a.id < b.id ? -1 : 1));
        return { ...row, opportunities: listed };
      }),
    })),
  };
}

/**
 * How an opportunity stands now, walking its events one by one: closed when its last outcome
 * event (won, lost or reopened) is a closing.
 */
function latestClosing(opportunity: OracleOpportunity): { outcome: ClosedOutcome; at: string; reason: string | null; nextSteps: string | null } | undefined {
  let closing: { outcome: ClosedOutcome; at: string; reason: string | null; nextSteps: string | null } | undefined;
  for (const { type, data } of opportunity.events) {
    const nextSteps = (data.nextSteps as string | undefined) ?? null;
    if (type === 'OpportunityWon') closing = { outcome: 'won', at: data.occurredAt as string, reason: null, nextSteps };
    if (type === 'OpportunityLost') closing = { outcome: 'lost', at: data.occurredAt as string, reason: data.reason as string, nextSteps };
    if (type === 'OpportunityReopened') closing = undefined;
  }
  return closing;
}

type ClosedAsk = ClosedQuery;

/** The won/lost sections and their window, recomputed from the raw events. */
function closedOracle(events: readonly ProjectedEvent[], filter: PipelineFilter, ask: ClosedAsk, includeOpportunities: boolean) {
  const log = readLog(events);
  const toMs = Date.parse(ask.to);
  const fromMs = Date.parse(ask.from);
  const { limit } = ask;
  const section = (processId: string, outcome: ClosedOutcome) => {
    const closed = log.opportunities
      .filter((o) => o.processId === processId && matchesOpportunity(o, filter))
      .map((o) => ({ o, closing: latestClosing(o) }))
      .filter(({ closing }) => closing?.outcome === outcome && Date.parse(closing.at) >= fromMs && Date.parse(closing.at) <= toMs);
    const amountsByCurrency: Record<string, number> = {};
    for (const { o } of closed) {
      if (o.amount === undefined) continue;
      amountsByCurrency[o.currency ?? 'unspecified'] = (amountsByCurrency[o.currency ?? 'unspecified'] ?? 0) + o.amount;
    }
    const figures = { count: closed.length, amount: oneCurrencyTotal(amountsByCurrency), amountsByCurrency };
    if (!includeOpportunities) return figures;
    const cards = closed
      .map(({ o, closing }) => ({
        id: o.id,
        title: o.title,
        ownerId: o.ownerId ?? null,
        teamId: o.teamId ?? null,
        amount: o.amount ?? null,
        currency: o.currency ?? null,
        closedAt: closing!.at,
        closedInStage: criteriaAndClosing(o).closedIn,
        ...(outcome === 'lost' ? { lostReason: closing!.reason } : {}),
        nextSteps: closing!.nextSteps,
        processVersion: o.version,
      }))
      .sort((a, b) => Date.parse(b.closedAt) - Date.parse(a.closedAt) || (a.id < b.id ? -1 : 1))
      .slice(0, limit);
    return { ...figures, opportunities: cards };
  };
  return {
    window: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), limit },
    processes: processIds(log, filter.processId).map((processId) => ({
      processId,
      ...(ask.outcomes.includes('won') ? { won: section(processId, 'won') } : {}),
      ...(ask.outcomes.includes('lost') ? { lost: section(processId, 'lost') } : {}),
    })),
  };
}

// Window ends on and beside the history's closings and other events, so its inclusive ends are met.
const closedAskArbitraryFor = (history: GeneratedHistory): fc.Arbitrary<ClosedAsk> => {
  const instantArbitrary = isoInstantArbitraryFor(history);
  return fc
    .record({
      outcomes: fc.subarray<ClosedOutcome>(['won', 'lost'], { minLength: 1 }),
      // Mostly a window in order, sometimes reversed (empty).
      window: fc.oneof(
        { weight: 4, arbitrary: fc.tuple(instantArbitrary, instantArbitrary).map(([a, b]) => (a <= b ? { from: a, to: b } : { from: b, to: a })) },
        { weight: 1, arbitrary: fc.tuple(instantArbitrary, instantArbitrary).map(([from, to]) => ({ from, to })) },
      ),
      // Small limits, so the newest-first cut is exercised; sometimes the API's default.
      limit: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 6 }) }, { weight: 1, arbitrary: fc.constant(50) }),
    })
    .map(({ outcomes, window, limit }) => ({ outcomes, ...window, limit }));
};

describe('the pipeline read model', () => {
  it('answers what a brute-force recomputation from the raw log answers, for any filter', () => {
    assertProperty(
      fc.property(historyWith((h) => fc.array(fc.tuple(filterArbitraryFor(h), fc.boolean(), fc.option(isoInstantArbitraryFor(h), { nil: undefined })), { minLength: 1, maxLength: 4 })), ([history, queries]) => {
        const model = project(pipelineProjection, history.events);
        for (const [{ processId, teamId, ownerId }, includeOpportunities, now] of queries) {
          const filter = { processId, teamId, ownerId };
          // With an instant, cards are aged (days in stage, rotting) at it; instants on and beside the events meet the rotting edge.
          const nowMs = now === undefined ? undefined : Date.parse(now);
          expectApproxEqual(queryPipeline(model, filter, { includeOpportunities, ...(nowMs === undefined ? {} : { nowMs }) }), pipelineOracle(history.clean, filter, includeOpportunities, nowMs));
        }
      }),
      { numRuns: 250 },
    );
  });

  it('caps each column at the first N cards of the uncapped listing, says how many it left out, and keeps the whole column\'s figures', () => {
    assertProperty(
      fc.property(historyWith((h) => fc.array(fc.tuple(filterArbitraryFor(h), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 4 })), ([history, queries]) => {
        const model = project(pipelineProjection, history.events);
        for (const [{ processId, teamId, ownerId }, cardsPerColumn] of queries) {
          const filter = { processId, teamId, ownerId };
          const capped = queryPipeline(model, filter, { includeOpportunities: true, cardsPerColumn });
          expectApproxEqual(capped, capColumns(pipelineOracle(history.clean, filter, true), cardsPerColumn));
          // The same cut of what the uncapped query itself lists: nothing but the cut differs.
          expectApproxEqual(capped, capColumns(queryPipeline(model, filter, { includeOpportunities: true }), cardsPerColumn));
        }
      }),
      { numRuns: 250 },
    );
  });

  it('answers a capped board byte for byte as the uncapped one cut after N cards, closed sections and ages included', () => {
    // The capped columns pick their cards as the rows go by (FirstInOrder, skipping rows entered
    // after a full column's worst card); the uncapped ones sort every row. The same JSON, the
    // same doubles: nothing but the cut may differ.
    assertProperty(
      fc.property(
        historyWith((h) => fc.array(fc.tuple(filterArbitraryFor(h), fc.integer({ min: 1, max: 4 }), fc.option(closedAskArbitraryFor(h), { nil: undefined }), fc.option(nowArbitraryFor(h), { nil: undefined })), { minLength: 1, maxLength: 4 })),
        ([history, queries]) => {
          const model = project(pipelineProjection, history.events);
          for (const [{ processId, teamId, ownerId }, cardsPerColumn, ask, now] of queries) {
            const filter = { processId, teamId, ownerId };
            const options = { includeOpportunities: true, ...(ask ? { closed: ask } : {}), ...(now === undefined ? {} : { nowMs: Date.parse(now) }) };
            const capped = queryPipeline(model, filter, { ...options, cardsPerColumn });
            expect(JSON.stringify(capped)).toBe(JSON.stringify(capColumns(queryPipeline(model, filter, options), cardsPerColumn)));
          }
        },
      ),
      { numRuns: 250 },
    );
  });

  it('cuts columns of deals that entered their stage at the same instants (ties by id) as the uncapped board does, for any filter', () => {
    // Random histories seldom put two deals in one stage at one millisecond: here most do, opened
    // in any order of ids, so picking the first N must break ties by id exactly as sorting does.
    const dealArbitrary = fc.record({ minute: fc.integer({ min: 0, max: 2 }), movedAt: fc.option(fc.integer({ min: 3, max: 4 }), { nil: undefined }), teamId: fc.constantFrom('t1', 't2') });
    assertProperty(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 99 }), { minLength: 1, maxLength: 40 }),
        fc.array(dealArbitrary, { minLength: 40, maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom<PipelineFilter>({}, { teamId: 't1' }, { teamId: 't2', processId: 'standard' }),
        (numbers, deals, cardsPerColumn, filter) => {
          const events = [log.version(standardV1)];
          numbers.forEach((number, index) => {
            const { minute, movedAt, teamId } = deals[index]!;
            const id = `deal-${String(number).padStart(2, '0')}`;
            events.push(log.opened(id, standardV1, minute, { teamId }));
            if (movedAt !== undefined) events.push(log.moved(id, 'new', 'legacy', movedAt));
          });
          const model = project(pipelineProjection, events);
          const capped = queryPipeline(model, filter, { includeOpportunities: true, cardsPerColumn });
          expect(JSON.stringify(capped)).toBe(JSON.stringify(capColumns(queryPipeline(model, filter, { includeOpportunities: true }), cardsPerColumn)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a cap that is not a whole number of at least 1 (the API sets its maximum), and picks the first N in order however the rows come', () => {
    const model = project(pipelineProjection, [log.version(standardV1), log.opened('a', standardV1, 0)]);
    for (const cardsPerColumn of [0, -1, 1.5, Number.NaN]) {
      expect(() => queryPipeline(model, {}, { includeOpportunities: true, cardsPerColumn })).toThrow(RangeError);
    }
    expect(queryPipeline(model, {}, { includeOpportunities: true, cardsPerColumn: 1000 }).processes[0]!.stages[0]).toMatchObject({ count: 1, opportunitiesOmitted: 0 });
    assertProperty(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 })), fc.integer({ min: 0, max: 25 }), (values, count) => {
        const order = (a: number, b: number) => a - b;
        expect(firstInOrder(values, count, order)).toEqual([...values].sort(order).slice(0, count));
      }),
    );
  });

  it('lists closed opportunities (latest outcome, reopened ones gone, migrated ones kept) as a brute-force recomputation does', () => {
    assertProperty(
      fc.property(historyWith((h) => fc.array(fc.tuple(filterArbitraryFor(h), closedAskArbitraryFor(h), fc.boolean()), { minLength: 1, maxLength: 4 })), ([history, queries]) => {
        const model = project(pipelineProjection, history.events);
        for (const [{ processId, teamId, ownerId }, ask, includeOpportunities] of queries) {
          const filter = { processId, teamId, ownerId };
          const answer = queryPipeline(model, filter, { includeOpportunities, closed: ask });
          const expected = closedOracle(history.clean, filter, ask, includeOpportunities);
          expectApproxEqual(answer.closed, expected.window);
          expectApproxEqual(
            answer.processes.map(({ processId: id, won, lost }) => ({ processId: id, won, lost })),
            expected.processes,
          );
          // The open stages do not change when closed ones are asked for.
          expectApproxEqual(answer.processes.map((p) => p.stages), queryPipeline(model, filter, { includeOpportunities }).processes.map((p) => p.stages));
        }
      }),
      { numRuns: 250 },
    );
  });

  it('lists a deal won, lost after a reopening, and reopened again where its latest outcome puts it', () => {
    const events = [
      log.version(standardV1),
      log.opened('a', standardV1, 0, { amount: 100, currency: 'EUR', ownerId: 'ana' }),
      log.opened('b', standardV1, 1, { amount: 50, currency: 'USD' }),
      log.opened('c', standardV1, 2),
      log.won('a', 'new', 10),
      log.won('b', 'new', 11),
      log.reopened('b', 'new', 12),
      log.lost('b', 'new', 'price', 13),
      log.lost('c', 'new', 'timing', 14),
      log.reopened('c', 'legacy', 15),
    ];
    const model = project(pipelineProjection, events);
    const closed = { outcomes: ['won', 'lost'] as ClosedOutcome[], from: at(0), to: at(20), limit: 50 };
    const [standard] = queryPipeline(model, {}, { includeOpportunities: true, closed }).processes;
    expect(standard!.won).toEqual({
      count: 1,
      amount: 100,
      amountsByCurrency: { EUR: 100 },
      opportunities: [{ id: 'a', title: 'Deal a', ownerId: 'ana', teamId: null, amount: 100, currency: 'EUR', closedAt: at(10), closedInStage: 'new', nextSteps: null, processVersion: standardV1.version }],
    });
    expect(standard!.lost).toEqual({
      count: 1,
      amount: 50,
      amountsByCurrency: { USD: 50 },
      opportunities: [{ id: 'b', title: 'Deal b', ownerId: null, teamId: null, amount: 50, currency: 'USD', closedAt: at(13), closedInStage: 'new', lostReason: 'price', nextSteps: null, processVersion: standardV1.version }],
    });
    // c is open again, in Legacy.
    expect(standard!.stages.find((s) => s.stageId === 'legacy')!.count).toBe(1);
    // The window is inclusive at both ends, echoed in UTC; its defaults are the API's (pipeline.policy.ts).
    expect(queryPipeline(model, {}, { closed: { ...closed, from: at(10), to: at(10) } }).processes[0]!.won!.count).toBe(1);
    expect(queryPipeline(model, {}, { closed: { ...closed, from: at(11), to: at(12) } }).processes[0]!.won!.count).toBe(0);
    const justAfter = new Date(Date.parse(at(10)) + 1).toISOString();
    expect(queryPipeline(model, {}, { closed: { ...closed, from: justAfter } }).closed).toEqual({ from: justAfter, to: at(20), limit: 50 });
    expect(queryPipeline(model, {}, { closed: { ...closed, from: justAfter } }).processes[0]!.won!.count).toBe(0);
    expect(() => queryPipeline(model, {}, { closed: { ...closed, limit: 0 } })).toThrow(RangeError);
  });

  it('sets aside a snapshot saved before the closed columns, and takes its own', () => {
    const model = project(pipelineProjection, [log.version(standardV1), log.opened('a', standardV1, 0)]);
    expect(pipelineProjection.accepts!(deserializeModel(serializeModel(model)))).toBe(true);
    const { layout: _layout, outcome: _outcome, closedMs: _closedMs, closedAt: _closedAt, lostReason: _lostReason, reasons: _reasons, ...older } = model;
    expect(pipelineProjection.accepts!(deserializeModel(serializeModel(older)))).toBe(false);
  });

  it('weights each opportunity by its own version, lists stages of the latest version first, and keeps currencies apart', () => {
    const model = project(pipelineProjection, [
      log.version(standardV1),
      log.opened('a', standardV1, 0, { amount: 1000, currency: 'EUR', teamId: 'direct' }),
      log.version(standardV2),
      log.opened('b', standardV2, 1, { amount: 200, currency: 'USD', teamId: 'direct' }),
      log.opened('c', standardV2, 2, { teamId: 'partners' }),
    ]);
    const [standard] = queryPipeline(model, {}, { includeOpportunities: true }).processes;
    // v2 renamed "new" to "Fresh" (probability 30) and dropped "legacy"; v1 had "new" at 10.
    expect(standard!.stages.map((s) => s.stageId)).toEqual(['new', 'won-over', 'legacy']);
    expect(standard!.stages[0]).toMatchObject({
      name: 'Fresh',
      probability: 30,
      count: 3,
      // EUR and USD are never added into one figure: the column answers per currency only.
      amount: null,
      amountsByCurrency: { EUR: 1000, USD: 200 },
      weightedAmount: null,
      weightedAmountsByCurrency: { EUR: 100, USD: 60 },
    });
    expect(standard!.stages[0]!.opportunities!.map((o) => o.id)).toEqual(['a', 'b', 'c']);
    expect(standard!.stages[0]!.opportunities![2]).toEqual({ id: 'c', title: 'Deal c', ownerId: null, teamId: 'partners', amount: null, currency: null, stageEnteredAt: at(2), expectedCloseDate: null, criteria: { met: 0, total: 0 }, processVersion: standardV2.version });
    expect(queryPipeline(model, { teamId: 'direct' }).processes[0]!.stages[0]).toMatchObject({ count: 2, amount: null });
    // One currency in the column: its total is the amount.
    expect(queryPipeline(model, { teamId: 'partners' }).processes[0]!.stages[0]).toMatchObject({ count: 1, amount: 0, amountsByCurrency: {} });
  });

  it('treats currency codes from clients as plain keys, "__proto__" included', () => {
    const model = project(pipelineProjection, [log.version(standardV1), log.opened('a', standardV1, 0, { amount: 5, currency: '__proto__' })]);
    const stage = queryPipeline(model).processes[0]!.stages[0]!;
    expect(Object.entries(stage.amountsByCurrency)).toEqual([['__proto__', 5]]);
    expect(JSON.parse(JSON.stringify(stage)).amountsByCurrency).toEqual(JSON.parse('{"__proto__":5}'));
  });
});

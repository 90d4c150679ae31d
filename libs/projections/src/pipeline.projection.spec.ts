import fc from 'fast-check';
import { pipelineProjection, queryPipeline, type PipelineFilter } from './pipeline.projection';
import type { ProjectedEvent } from './projection.types';
import { filterArbitrary, historyArbitrary } from './testing/history.arbitrary';
import { definitionOf, expectApproxEqual, matchesOpportunity, processIds, readLog, stageOrder, type OracleOpportunity } from './testing/history.oracle';
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

function pipelineOracle(events: readonly ProjectedEvent[], filter: PipelineFilter, includeOpportunities: boolean) {
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
        const amountsByCurrency: Record<string, number> = {};
        const weightedAmountsByCurrency: Record<string, number> = {};
        let amount = 0;
        let weightedAmount = 0;
        for (const o of here) {
          if (o.amount === undefined) continue;
          const probability = definitionOf(log, o.processId, o.version).stages.find((s) => s.id === stageId)!.probability;
          const currency = o.currency ?? 'unspecified';
          amount += o.amount;
          weightedAmount += (o.amount * probability) / 100;
          amountsByCurrency[currency] = (amountsByCurrency[currency] ?? 0) + o.amount;
          weightedAmountsByCurrency[currency] = (weightedAmountsByCurrency[currency] ?? 0) + (o.amount * probability) / 100;
        }
        const row = {
          stageId,
          name: latestWithStage.name,
          probability: latestWithStage.probability,
          count: here.length,
          amount,
          amountsByCurrency,
          weightedAmount,
          weightedAmountsByCurrency,
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
          }))
          .sort((a, b) => Date.parse(a.stageEnteredAt) - Date.parse(b.stageEnteredAt) || (a.id < b.id ? -1 : 1));
        return { ...row, opportunities: listed };
      }),
    })),
  };
}

describe('the pipeline read model', () => {
  it('answers what a brute-force recomputation from the raw log answers, for any filter', () => {
    fc.assert(
      fc.property(historyArbitrary(), fc.array(fc.tuple(filterArbitrary, fc.boolean()), { minLength: 1, maxLength: 4 }), (history, queries) => {
        const model = project(pipelineProjection, history.events);
        for (const [{ processId, teamId, ownerId }, includeOpportunities] of queries) {
          const filter = { processId, teamId, ownerId };
          expectApproxEqual(queryPipeline(model, filter, { includeOpportunities }), pipelineOracle(history.clean, filter, includeOpportunities));
        }
      }),
      { numRuns: 250 },
    );
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
      amount: 1200,
      amountsByCurrency: { EUR: 1000, USD: 200 },
      weightedAmount: 1000 * 0.1 + 200 * 0.3,
      weightedAmountsByCurrency: { EUR: 100, USD: 60 },
    });
    expect(standard!.stages[0]!.opportunities!.map((o) => o.id)).toEqual(['a', 'b', 'c']);
    expect(standard!.stages[0]!.opportunities![2]).toEqual({ id: 'c', title: 'Deal c', ownerId: null, teamId: 'partners', amount: null, currency: null, stageEnteredAt: at(2) });
    expect(queryPipeline(model, { teamId: 'direct' }).processes[0]!.stages[0]).toMatchObject({ count: 2, amount: 1200 });
  });

  it('treats currency codes from clients as plain keys, "__proto__" included', () => {
    const model = project(pipelineProjection, [log.version(standardV1), log.opened('a', standardV1, 0, { amount: 5, currency: '__proto__' })]);
    const stage = queryPipeline(model).processes[0]!.stages[0]!;
    expect(Object.entries(stage.amountsByCurrency)).toEqual([['__proto__', 5]]);
    expect(JSON.parse(JSON.stringify(stage)).amountsByCurrency).toEqual(JSON.parse('{"__proto__":5}'));
  });
});

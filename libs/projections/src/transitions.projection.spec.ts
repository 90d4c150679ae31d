import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import type { AnalyticsFilter, ProjectedEvent } from './projection.types';
import { filterArbitraryFor, historyWith } from './testing/history.arbitrary';
import { expectApproxEqual, matchesOpportunity, processIds, readLog, stageOrder, withinFromTo } from './testing/history.oracle';
import { log, threeStages } from './testing/log.fixtures';
import { project } from './testing/project';
import { queryTransitions, transitionsProjection } from './transitions.projection';

function transitionsOracle(events: readonly ProjectedEvent[], filter: AnalyticsFilter) {
  const oracleLog = readLog(events);
  const moves: { processId: string; from: string; to: string }[] = [];
  for (const o of oracleLog.opportunities) {
    if (!matchesOpportunity(o, filter)) continue;
    let outcome = '';
    for (const { type, data } of o.events) {
      let move: [string, string] | undefined;
      if (type === 'StageChanged') move = [data.from as string, data.to as string];
      if (type === 'OpportunityWon') move = [data.stage as string, (outcome = 'won')];
      if (type === 'OpportunityLost') move = [data.stage as string, (outcome = 'lost')];
      if (type === 'OpportunityReopened') move = [outcome, data.stage as string];
      if (move && withinFromTo(data.occurredAt as string, filter)) moves.push({ processId: o.processId, from: move[0], to: move[1] });
    }
  }
  return {
    processes: processIds(oracleLog, filter.processId).map((processId) => {
      const matrix: Record<string, Record<string, number>> = {};
      for (const { from, to } of moves.filter((m) => m.processId === processId)) {
        matrix[from] ??= {};
        matrix[from][to] = (matrix[from][to] ?? 0) + 1;
      }
      return { processId, stages: stageOrder(oracleLog, processId), matrix };
    }),
  };
}

describe('the transitions read model', () => {
  it('answers what a brute-force recomputation from the raw log answers, for any filter', () => {
    assertProperty(
      fc.property(historyWith((h) => fc.array(filterArbitraryFor(h), { minLength: 1, maxLength: 5 })), ([history, filters]) => {
        const model = project(transitionsProjection, history.events);
        for (const filter of filters) expectApproxEqual(queryTransitions(model, filter), transitionsOracle(history.clean, filter));
      }),
      { numRuns: 250 },
    );
  });

  it('counts skips, backward moves, outcomes and reopens as rows and columns of one sparse matrix', () => {
    const model = project(transitionsProjection, [
      log.version(threeStages),
      log.opened('x', threeStages, 0),
      log.moved('x', 'a', 'c', 1),
      log.moved('x', 'c', 'a', 2),
      log.moved('x', 'a', 'c', 3),
      log.won('x', 'c', 4),
      log.reopened('x', 'b', 5),
      log.lost('x', 'b', 'price', 6),
      log.reopened('x', 'b', 7),
    ]);
    expect(queryTransitions(model)).toEqual({
      processes: [
        {
          processId: 'three',
          stages: ['a', 'b', 'c'],
          matrix: { a: { c: 2 }, c: { a: 1, won: 1 }, won: { b: 1 }, b: { lost: 1 }, lost: { b: 1 } },
        },
      ],
    });
  });
});

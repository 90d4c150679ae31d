import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { funnelProjection, queryFunnel } from './funnel.projection';
import type { AnalyticsFilter, ProjectedEvent } from './projection.types';
import { filterArbitraryFor, historyWith } from './testing/history.arbitrary';
import { definitionOf, expectApproxEqual, latestDefinition, matchesOpportunity, processIds, readLog, stageOrder, withinFromTo, type OracleLog, type OracleOpportunity } from './testing/history.oracle';
import { log, standardV1, standardV2, threeStages } from './testing/log.fixtures';
import { project } from './testing/project';

/**
 * The stages an opportunity entered, in terms of the version it runs on now (README: reached(i) =
 * entered stage i or a later one of its own version; past visits keep their stage ids). A
 * migration keeps every stage entered that the new version has, by its id, and adds the stage the
 * open visit continues in (the mapping moves the open visit only).
 */
function enteredInCurrentVersion(oracleLog: OracleLog, o: OracleOpportunity): Set<string> {
  let version = o.events[0]!.data.processVersion as string;
  let entered = new Set<string>();
  for (const { type, data } of o.events) {
    if (type === 'OpportunityOpened' || type === 'OpportunityReopened') entered.add(data.stage as string);
    if (type === 'StageChanged') entered.add(data.to as string);
    if (type === 'ProcessMigrated') {
      version = data.toVersion as string;
      const newStages = definitionOf(oracleLog, o.processId, version).stages.map((s) => s.id);
      entered = new Set([data.toStage as string, ...[...entered].filter((id) => newStages.includes(id))]);
    }
  }
  return entered;
}

function funnelOracle(events: readonly ProjectedEvent[], filter: AnalyticsFilter) {
  const oracleLog = readLog(events);
  const cohort = oracleLog.opportunities
    .filter((o) => matchesOpportunity(o, filter) && withinFromTo(o.openedAt, filter))
    .map((o) => ({
      processId: o.processId,
      ownStages: definitionOf(oracleLog, o.processId, o.version).stages.map((s) => s.id),
      entered: enteredInCurrentVersion(oracleLog, o),
      everWon: o.events.some((e) => e.type === 'OpportunityWon'),
    }));

  return {
    processes: processIds(oracleLog, filter.processId).map((processId) => {
      const mine = cohort.filter((o) => o.processId === processId);
      const order = stageOrder(oracleLog, processId);
      const chainLength = latestDefinition(oracleLog, processId).stages.length;
      // Reached: the stage is in the opportunity's own version, and it was won or entered that stage or a later one of its version.
      const reaches = (o: (typeof mine)[number], stageId: string) => {
        const index = o.ownStages.indexOf(stageId);
        return index >= 0 && (o.everWon || o.ownStages.slice(index).some((s) => o.entered.has(s)));
      };
      const reached = order.map((stageId) => mine.filter((o) => reaches(o, stageId)).length);
      const won = mine.filter((o) => o.everWon).length;
      const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
      // A step of the chain counts the opportunities whose own version has both stages, in that order (the last step: to won).
      const step = (i: number) => {
        const stageId = order[i]!;
        const next = i < chainLength - 1 ? order[i + 1]! : undefined;
        const able = mine.filter((o) => o.ownStages.includes(stageId) && (next === undefined || o.ownStages.indexOf(next) > o.ownStages.indexOf(stageId)));
        const base = able.filter((o) => reaches(o, stageId)).length;
        return ratio(able.filter((o) => (next === undefined ? o.everWon : reaches(o, next))).length, base);
      };
      return {
        processId,
        stages: order.map((stageId, i) => ({
          stageId,
          reached: reached[i]!,
          conversionToNext: i < chainLength ? step(i) : null,
        })),
        won,
        conversionLastToWon: chainLength > 0 ? step(chainLength - 1) : null,
      };
    }),
  };
}

describe('the funnel read model', () => {
  it('answers what a brute-force recomputation from the raw log answers, for any filter', () => {
    assertProperty(
      fc.property(historyWith((h) => fc.array(filterArbitraryFor(h), { minLength: 1, maxLength: 5 })), ([history, filters]) => {
        const model = project(funnelProjection, history.events);
        for (const filter of filters) expectApproxEqual(queryFunnel(model, filter), funnelOracle(history.clean, filter));
      }),
      { numRuns: 250 },
    );
  });

  it('carries over every stage entered that a migration\'s new version has, by its id, and none it was only mapped to', () => {
    // a → b → c → a, then to a version [a, b, d] that drops c, with c mapped to d: b was entered (and
    // is kept), d never was. Carrying the furthest stage alone lost b; carrying it through the mapping counted d.
    const v2 = { version: 'v2', definition: { ...threeStages.definition, stages: [threeStages.definition.stages[0]!, threeStages.definition.stages[1]!, { id: 'd', name: 'D', probability: 90, exitCriteria: [] }], rules: { ...threeStages.definition.rules, winFrom: ['d'] } } };
    const model = project(funnelProjection, [
      log.version(threeStages),
      log.opened('x', threeStages, 0),
      log.moved('x', 'a', 'b', 1),
      log.moved('x', 'b', 'c', 2),
      log.moved('x', 'c', 'a', 3),
      log.version(v2),
      log.migrated('x', threeStages, v2, 'a', 'a', 4, { c: 'd' }),
    ]);
    const reached = Object.fromEntries(queryFunnel(model).processes[0]!.stages.map((stage) => [stage.stageId, stage.reached]));
    expect(reached).toEqual({ a: 1, b: 1, d: 0, c: 0 });
  });

  it('counts skipped stages as reached, and a won opportunity as having reached every stage', () => {
    const model = project(funnelProjection, [
      log.version(threeStages),
      log.opened('skipper', threeStages, 0),
      log.moved('skipper', 'a', 'c', 1),
      log.opened('winner', threeStages, 2),
      log.moved('winner', 'a', 'c', 3),
      log.won('winner', 'c', 4),
      log.reopened('winner', 'a', 5), // reopened: still "ever won"
      log.opened('stayer', threeStages, 6),
      log.opened('backer', threeStages, 7),
      log.moved('backer', 'a', 'b', 8),
      log.moved('backer', 'b', 'a', 9),
    ]);
    expect(queryFunnel(model)).toEqual({
      processes: [
        {
          processId: 'three',
          stages: [
            { stageId: 'a', reached: 4, conversionToNext: 3 / 4 },
            { stageId: 'b', reached: 3, conversionToNext: 2 / 3 },
            { stageId: 'c', reached: 2, conversionToNext: 1 / 2 },
          ],
          won: 1,
          conversionLastToWon: 1 / 2,
        },
      ],
    });
  });

  it('judges "later" in the opportunity\'s own version, and leaves stages of older versions out of the chain', () => {
    const model = project(funnelProjection, [
      log.version(standardV1), // new, legacy, won-over
      log.opened('old', standardV1, 0),
      log.moved('old', 'new', 'legacy', 1),
      log.version(standardV2), // new, won-over
      log.opened('fresh', standardV2, 2),
    ]);
    expect(queryFunnel(model).processes[0]!.stages).toEqual([
      { stageId: 'new', reached: 2, conversionToNext: 0 },
      { stageId: 'won-over', reached: 0, conversionToNext: null },
      { stageId: 'legacy', reached: 1, conversionToNext: null },
    ]);
  });

  it('never converts above 100 %: a step counts only the deals whose version has both stages', () => {
    // v1: a, c. v2 adds b between them. Old deals in c did not pass b, which their version lacks.
    const v1 = { version: 'v0', definition: { ...threeStages.definition, stages: threeStages.definition.stages.filter((stage) => stage.id !== 'b') } };
    const model = project(funnelProjection, [
      log.version(v1),
      log.opened('old-1', v1, 0),
      log.moved('old-1', 'a', 'c', 1),
      log.opened('old-2', v1, 2),
      log.moved('old-2', 'a', 'c', 3),
      log.won('old-2', 'c', 4),
      log.version(threeStages),
      log.opened('new-1', threeStages, 5),
      log.moved('new-1', 'a', 'b', 6),
      log.opened('new-2', threeStages, 7),
    ]);
    expect(queryFunnel(model).processes[0]).toEqual({
      processId: 'three',
      stages: [
        { stageId: 'a', reached: 4, conversionToNext: 1 / 2 }, // only the v2 deals could enter b: new-1 did, new-2 did not
        { stageId: 'b', reached: 1, conversionToNext: 0 }, // reached(c) = 2 > reached(b) = 1, but no deal that reached b reached c
        { stageId: 'c', reached: 2, conversionToNext: 1 / 2 },
      ],
      won: 1,
      conversionLastToWon: 1 / 2,
    });
  });
});

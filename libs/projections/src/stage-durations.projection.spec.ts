import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import type { AnalyticsFilter, ProjectedEvent } from './projection.types';
import { queryStageDurations, SORT_BATCH, stageDurationsProjection } from './stage-durations.projection';
import { filterArbitraryFor, historyWith, nowArbitraryFor } from './testing/history.arbitrary';
import { matchesOpportunity, processIds, readLog, stageOrder, withinFromTo } from './testing/history.oracle';
import { at, log, threeStages } from './testing/log.fixtures';
import { project } from './testing/project';
import { ascendingDoubleSumMean, doubleSumMean, exactMeanSeconds, millenniaVisits, orderSensitiveVisits, secondsSumMean } from './testing/stage-durations.fixtures';

interface Visit {
  processId: string;
  stage: string;
  start: string;
  end?: string;
}

function stageDurationsOracle(events: readonly ProjectedEvent[], filter: AnalyticsFilter, now: string) {
  const oracleLog = readLog(events);
  const visits: Visit[] = [];
  for (const o of oracleLog.opportunities) {
    if (!matchesOpportunity(o, filter)) continue;
    let open: Visit | undefined;
    for (const { type, data } of o.events) {
      const when = data.occurredAt as string;
      if (open && (type === 'StageChanged' || type === 'OpportunityWon' || type === 'OpportunityLost')) {
        open.end = when;
        open = undefined;
      }
      const entered = type === 'OpportunityOpened' ? data.stage : type === 'StageChanged' ? data.to : type === 'OpportunityReopened' ? data.stage : undefined;
      if (entered !== undefined) visits.push((open = { processId: o.processId, stage: entered as string, start: when }));
      // A migration relabels the open visit; completed ones keep the stage they had.
      if (open && type === 'ProcessMigrated') open.stage = data.toStage as string;
    }
  }
  const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;
  const ms = (from: string, to: string) => Date.parse(to) - Date.parse(from);

  return {
    processes: processIds(oracleLog, filter.processId).map((processId) => ({
      processId,
      stages: stageOrder(oracleLog, processId).map((stageId) => {
        const mine = visits.filter((v) => v.processId === processId && v.stage === stageId);
        const kept = mine.filter((v) => v.end !== undefined && withinFromTo(v.end, filter));
        const done = kept.map((v) => seconds(v.start, v.end!)).sort((a, b) => a - b);
        const n = done.length;
        // Nearest rank: the smallest k with k/n ≥ 0.9, written as a search to stay obviously right.
        let k = 1;
        while (k * 10 < 9 * n) k++;
        const openAges = mine.filter((v) => v.end === undefined).map((v) => Math.max(0, seconds(v.start, now)));
        return {
          stageId,
          completed: {
            count: n,
            meanSeconds: n === 0 ? null : exactMeanSeconds(kept.map((v) => ms(v.start, v.end!))),
            medianSeconds: n === 0 ? null : n % 2 === 1 ? done[(n - 1) / 2]! : (done[n / 2 - 1]! + done[n / 2]!) / 2,
            p90Seconds: n === 0 ? null : done[k - 1]!,
          },
          open: { count: openAges.length, oldestAgeSeconds: openAges.length === 0 ? null : Math.max(...openAges) },
        };
      }),
    })),
  };
}

describe('the stage-durations read model', () => {
  it('answers what a brute-force recomputation from the raw log answers, for any filter and now', () => {
    assertProperty(
      fc.property(historyWith((h) => fc.array(fc.tuple(filterArbitraryFor(h), nowArbitraryFor(h)), { minLength: 1, maxLength: 4 })), ([history, queries]) => {
        const model = project(stageDurationsProjection, history.events);
        for (const [filter, now] of queries) {
          expect(queryStageDurations(model, filter, now)).toEqual(stageDurationsOracle(history.clean, filter, now));
        }
      }),
      { numRuns: 250 },
    );
  });

  it('keeps its lazily sorted visits right across merges in evolve and in queries', () => {
    // Enough visits of one stage to merge several batches in evolve, with queries in between.
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const events = [log.version(threeStages)];
    const durations: number[] = [];
    let model = project(stageDurationsProjection, events);
    for (let i = 0; i < 3 * SORT_BATCH + 123; i++) {
      const minutes = Math.floor(random() * 10_000);
      durations.push(minutes * 60);
      model = project(stageDurationsProjection, [log.opened(`v${i}`, threeStages, i), log.moved(`v${i}`, 'a', 'b', i + minutes)], model);
      if (i % 2500 === 0 || i === 3 * SORT_BATCH + 122) {
        const sorted = [...durations].sort((a, b) => a - b);
        const n = sorted.length;
        expect(queryStageDurations(model, {}, at(0)).processes[0]!.stages[0]!.completed).toEqual({
          count: n,
          meanSeconds: exactMeanSeconds(sorted.map((seconds) => seconds * 1000)),
          medianSeconds: n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2,
          p90Seconds: sorted[Math.ceil((9 * n) / 10) - 1],
        });
      }
    }
  });

  it('makes a new visit for every entry, reports open visits apart, and filters completed ones by when they ended', () => {
    const model = project(stageDurationsProjection, [
      log.version(threeStages),
      log.opened('x', threeStages, 0),
      log.moved('x', 'a', 'b', 10), // a: 600 s
      log.moved('x', 'b', 'a', 30), // b: 1200 s, backward
      log.moved('x', 'a', 'c', 40), // a again: 600 s
      log.lost('x', 'c', 'price', 100), // c: 3600 s
      log.reopened('x', 'b', 200), // b open since minute 200
      log.opened('y', threeStages, 50), // a open since minute 50
    ]);
    const stages = queryStageDurations(model, {}, at(260)).processes[0]!.stages;
    expect(stages).toEqual([
      { stageId: 'a', completed: { count: 2, meanSeconds: 600, medianSeconds: 600, p90Seconds: 600 }, open: { count: 1, oldestAgeSeconds: 210 * 60 } },
      { stageId: 'b', completed: { count: 1, meanSeconds: 1200, medianSeconds: 1200, p90Seconds: 1200 }, open: { count: 1, oldestAgeSeconds: 60 * 60 } },
      { stageId: 'c', completed: { count: 1, meanSeconds: 3600, medianSeconds: 3600, p90Seconds: 3600 }, open: { count: 0, oldestAgeSeconds: null } },
    ]);
    const lateOnly = queryStageDurations(model, { from: at(35) }, at(260)).processes[0]!.stages;
    expect(lateOnly.map((s) => s.completed.count)).toEqual([1, 0, 1]);
    expect(lateOnly[1]!.completed).toEqual({ count: 0, meanSeconds: null, medianSeconds: null, p90Seconds: null });
    expect(lateOnly[1]!.open.count).toBe(1); // open visits ignore from/to
  });

  describe('adds the visits\' whole milliseconds exactly and divides once, so the mean does not depend on the order of the visits', () => {
    const meanOf = (events: Parameters<typeof project>[1], filter: AnalyticsFilter) =>
      queryStageDurations(project(stageDurationsProjection, events), filter, at(0)).processes[0]!.stages[0]!.completed.meanSeconds;
    const filters: AnalyticsFilter[] = [{}, { teamId: 't1' }, { ownerId: 'bob' }, { from: '0001-01-01T00:00:00Z' }];
    const kept = (durations: readonly number[], filter: AnalyticsFilter) =>
      durations.filter((_, i) => (filter.teamId === undefined || (filter.teamId === 't1') === (i % 2 === 0)) && (filter.ownerId === undefined || (filter.ownerId === 'bob') === (i % 2 === 1)));

    it('0.3 + 0.2 + 0.1 seconds: 0.2, where seconds added as visits ended or in ascending order are not', () => {
      const { events, durations } = orderSensitiveVisits();
      expect([secondsSumMean(durations), secondsSumMean([...durations].reverse())]).not.toContain(exactMeanSeconds(durations));
      expect(meanOf(events, {})).toBe(0.2);
      for (const filter of filters) expect(meanOf(events, filter)).toBe(exactMeanSeconds(kept(durations, filter)));
    });

    it('visits lasting millennia, past 2^53 ms in all: the exact sum, where a double sum rounds', () => {
      const { events, durations } = millenniaVisits();
      expect([doubleSumMean(durations), ascendingDoubleSumMean(durations)]).not.toContain(exactMeanSeconds(durations));
      expect(meanOf(events, {})).toBe(exactMeanSeconds(durations));
      for (const filter of filters) expect(meanOf(events, filter)).toBe(exactMeanSeconds(kept(durations, filter)));
    });
  });
});

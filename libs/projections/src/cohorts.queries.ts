import type { CohortsResult } from '@stagecraft/contracts';
import { cohortsResult, daysBetween, monthOf, type CohortInput } from './cohorts.figures';
import { funnelFromHistograms, type FunnelModel } from './funnel.projection';
import { matchRows } from './opportunity-table';
import { parseFilter } from './projection.helpers';
import type { AnalyticsFilter } from './projection.types';
import type { StageIntervalsModel } from './stage-intervals.projection';

/** Cohorts by month of opening from the funnel model, with each deal's first win from the stage intervals (cohorts.figures.ts). */
export function queryCohorts(funnel: FunnelModel, intervals: StageIntervalsModel, filter: AnalyticsFilter = {}): CohortsResult {
  const parsed = parseFilter(filter);
  const selected = matchRows(funnel.table, parsed);
  const { versions } = funnel.catalog;
  const offsets = new Int32Array(versions.length + 1);
  versions.forEach((version, code) => (offsets[code + 1] = offsets[code]! + version.stageKeys.length + 1));
  // The first win of each deal, by the funnel's row (wins are kept in the order they came).
  const firstWinMs = new Float64Array(funnel.table.rows).fill(NaN);
  const { wins } = intervals;
  for (let win = 0; win < wins.row.length; win++) {
    const row = funnel.table.indexById.get(intervals.ids[wins.row.values[win]!]!);
    if (row !== undefined && Number.isNaN(firstWinMs[row]!)) firstWinMs[row] = wins.startMs.values[win]!;
  }
  const cohorts = new Map<string, { histograms: Int32Array; opened: number; daysToWin: number[] }>();
  for (let row = 0; row < funnel.table.rows; row++) {
    if (selected !== undefined && selected[row] === 0) continue;
    const opened = funnel.openedMs.values[row]!;
    if (!Number.isFinite(opened) || opened < parsed.fromMs || opened > parsed.toMs) continue;
    const month = monthOf(opened);
    let cohort = cohorts.get(month);
    if (!cohort) cohorts.set(month, (cohort = { histograms: new Int32Array(offsets[versions.length]!), opened: 0, daysToWin: [] }));
    const code = funnel.version.values[row]!;
    const won = funnel.everWon.values[row] === 1;
    cohort.histograms[won ? offsets[code + 1]! - 1 : offsets[code]! + funnel.maxRank.values[row]!]!++;
    cohort.opened++;
    if (won && !Number.isNaN(firstWinMs[row]!)) cohort.daysToWin.push(daysBetween(opened, firstWinMs[row]!));
  }
  const inputs = [...cohorts].map(([month, { histograms, opened, daysToWin }]): CohortInput => ({
    cohort: month,
    opened,
    daysToWin,
    funnel: funnelFromHistograms(funnel.catalog, parsed.processId, (code) => histograms.subarray(offsets[code]!, offsets[code + 1]!)),
  }));
  return cohortsResult(inputs);
}

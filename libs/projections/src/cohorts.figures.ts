import type { Cohort, CohortsResult, FunnelResult } from '@stagecraft/contracts';
import { medianOfSorted } from './order-statistics';

// Cohorts by month of opening (GET /analytics/cohorts?by=month): each cohort's funnel (the funnel's
// rules, funnel.projection.ts, for the deals opened that month: furthest stage reached, won ones
// passing every stage), how many were ever won, and the median days from opening to the FIRST win
// over those. Both read sides count the histograms their own way and hand over the same values.

const DAY_MS = 86_400_000;

/** The UTC month of an instant: 2026-03. */
export const monthOf = (ms: number): string => new Date(ms).toISOString().slice(0, 7);

export interface CohortInput {
  readonly cohort: string;
  readonly funnel: FunnelResult;
  readonly opened: number;
  /** Days from opening to the first win of each won deal, any order. */
  readonly daysToWin: number[];
}

export function cohortsResult(inputs: readonly CohortInput[]): CohortsResult {
  const cohorts = [...inputs]
    .sort((a, b) => (a.cohort < b.cohort ? -1 : a.cohort > b.cohort ? 1 : 0))
    .map(({ cohort, funnel, opened, daysToWin }): Cohort => {
      const won = funnel.processes.reduce((sum, process) => sum + process.won, 0);
      const sorted = Float64Array.from(daysToWin).sort();
      return { cohort, opened, won, medianDaysToWin: sorted.length === 0 ? null : medianOfSorted(sorted, sorted.length), processes: funnel.processes };
    });
  return { by: 'month', cohorts };
}

export const daysBetween = (fromMs: number, toMs: number): number => (toMs - fromMs) / DAY_MS;

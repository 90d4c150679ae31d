import type { ForecastAccuracyResult, ForecastPeriodKind, ForecastResult, RottingResult } from '@stagecraft/contracts';
import { calendarDateOf } from '@stagecraft/opportunity';
import { NONE } from './opportunity-table';
import { forecastDaysOf, ForecastAccuracyFigures, ForecastFigures, RottingList, standsAtPeriodStart } from './forecast.figures';
import type { PipelineFilter } from './pipeline.projection';
import type { AnalyticsFilter } from './projection.types';
import { NO_DAY, type StageIntervalsModel } from './stage-intervals.projection';

// The forecast, its accuracy and the rotting deals, answered from the stage-intervals model: its
// segments say what stood at any instant (stage, probability, amount, currency, team, owner,
// expected close date), its wins what was won and until when. Figures: forecast.figures.ts.
//
// Now and as of an instant use the same rules: "now" is the current segments and the wins not
// reopened; as of t, the segments and wins that stood at t. Team and owner filters use the team
// and owner at that instant (for a win: at the win).

/** What GET /analytics/forecast and /forecast-accuracy ask. */
export interface ForecastQuery extends AnalyticsFilter {
  readonly period: ForecastPeriodKind;
}

export interface RottingQuery extends PipelineFilter {
  /** Lines listed, longest in the stage first; `count` covers them all. */
  readonly limit: number;
}

export function queryForecast(model: StageIntervalsModel, query: ForecastQuery): ForecastResult {
  return forecastAt(model, undefined, query);
}

/** The forecast as it stood at an instant of business time (ms since the epoch). */
export function queryForecastAsOf(model: StageIntervalsModel, atMs: number, query: ForecastQuery): ForecastResult {
  return forecastAt(model, atMs, query);
}

export function queryForecastAccuracy(model: StageIntervalsModel, query: ForecastQuery): ForecastAccuracyResult {
  const figures = new ForecastAccuracyFigures(query.period, forecastDaysOf(query));
  const match = matcher(model, query);
  const { segments } = model;
  const expectedDay = segments.expectedDay.values;
  const startMs = segments.startMs.values;
  const endMs = segments.endMs.values;
  for (let segment = 0; segment < segments.row.length; segment++) {
    const day = expectedDay[segment]!;
    if (day === NO_DAY || !standsAtPeriodStart(startMs[segment]!, endMs[segment]!, day, query.period)) continue;
    const row = segments.row.values[segment]!;
    if (!match(row, segments.team.values[segment]!, segments.owner.values[segment]!)) continue;
    figures.addForecast(model.ids[row]!, day, segments.amount.values[segment]!, segments.probability.values[segment]!, currencyOf(model, segments.currency.values[segment]!));
  }
  const { wins } = model;
  for (let win = 0; win < wins.row.length; win++) {
    if (wins.endMs.values[win] !== Infinity) continue; // reopened since: not won
    const row = wins.row.values[win]!;
    if (!match(row, wins.team.values[win]!, wins.owner.values[win]!)) continue;
    figures.addWon(model.ids[row]!, wins.startMs.values[win]!, wins.amount.values[win]!, currencyOf(model, wins.currency.values[win]!));
  }
  return figures.result();
}

/** Rotting deals now (`nowMs`: the server's clock, which ages the current visits). */
export function queryRotting(model: StageIntervalsModel, nowMs: number, query: RottingQuery): RottingResult {
  return rottingAt(model, nowMs, true, query);
}

/** Rotting deals as they stood at an instant of business time. */
export function queryRottingAsOf(model: StageIntervalsModel, atMs: number, query: RottingQuery): RottingResult {
  return rottingAt(model, atMs, false, query);
}

function forecastAt(model: StageIntervalsModel, atMs: number | undefined, query: ForecastQuery): ForecastResult {
  const figures = new ForecastFigures(query.period, forecastDaysOf(query));
  const match = matcher(model, query);
  const standing = standingAt(atMs);
  const { segments, wins } = model;
  for (let segment = 0; segment < segments.row.length; segment++) {
    if (!standing(segments.startMs.values[segment]!, segments.endMs.values[segment]!)) continue;
    const row = segments.row.values[segment]!;
    if (!match(row, segments.team.values[segment]!, segments.owner.values[segment]!)) continue;
    const day = segments.expectedDay.values[segment]!;
    figures.addOpen(day === NO_DAY ? undefined : day, segments.amount.values[segment]!, segments.probability.values[segment]!, currencyOf(model, segments.currency.values[segment]!));
  }
  for (let win = 0; win < wins.row.length; win++) {
    if (!standing(wins.startMs.values[win]!, wins.endMs.values[win]!)) continue;
    const row = wins.row.values[win]!;
    if (!match(row, wins.team.values[win]!, wins.owner.values[win]!)) continue;
    figures.addWon(wins.startMs.values[win]!, wins.amount.values[win]!, currencyOf(model, wins.currency.values[win]!));
  }
  return figures.result(atMs === undefined ? null : new Date(atMs).toISOString());
}

function rottingAt(model: StageIntervalsModel, atMs: number, live: boolean, query: RottingQuery): RottingResult {
  const list = new RottingList(atMs);
  const match = matcher(model, query);
  const standing = standingAt(live ? undefined : atMs);
  const { segments } = model;
  for (let segment = 0; segment < segments.row.length; segment++) {
    if (!standing(segments.startMs.values[segment]!, segments.endMs.values[segment]!)) continue;
    const stage = model.catalog.stages[segments.stageKey.values[segment]!]!;
    if (stage.rotAfterDays === null || stage.rotAfterDays === undefined) continue;
    const row = segments.row.values[segment]!;
    const team = segments.team.values[segment]!;
    const owner = segments.owner.values[segment]!;
    if (!match(row, team, owner)) continue;
    const amount = segments.amount.values[segment]!;
    const day = segments.expectedDay.values[segment]!;
    list.add({
      id: model.ids[row]!,
      title: model.titles[segments.title.values[segment]!]!,
      processId: stage.processId,
      stageId: stage.stageId,
      enteredMs: segments.enteredMs.values[segment]!,
      rotAfterDays: stage.rotAfterDays,
      ownerId: owner < 0 ? null : model.owners.values[owner]!,
      teamId: team < 0 ? null : model.teams.values[team]!,
      amount: Number.isNaN(amount) ? null : amount,
      currency: currencyOf(model, segments.currency.values[segment]!),
      expectedCloseDate: day === NO_DAY ? null : calendarDateOf(day),
    });
  }
  return list.result(query.limit);
}

/** Now: what has not ended; as of t: what stood at t. */
const standingAt = (atMs: number | undefined) =>
  atMs === undefined ? (_start: number, end: number) => end === Infinity : (start: number, end: number) => start <= atMs && atMs < end;

const currencyOf = (model: StageIntervalsModel, code: number): string | null => (code < 0 ? null : model.currencies.values[code]!);

/** Process, team and owner filters over codes (team and owner: those of the segment or win). */
function matcher(model: StageIntervalsModel, filter: PipelineFilter): (row: number, team: number, owner: number) => boolean {
  const code = (codes: { codeOf: Map<string, number> }, value: string | undefined) => (value === undefined ? NONE : (codes.codeOf.get(value) ?? -2));
  const processCode = code(model.table.processes, filter.processId);
  const teamCode = code(model.teams, filter.teamId);
  const ownerCode = code(model.owners, filter.ownerId);
  if (processCode === -2 || teamCode === -2 || ownerCode === -2) return () => false;
  const process = model.table.process.values;
  return (row, team, owner) => (processCode < 0 || process[row] === processCode) && (teamCode < 0 || team === teamCode) && (ownerCode < 0 || owner === ownerCode);
}

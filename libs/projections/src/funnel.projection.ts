import type { FunnelStage, FunnelResult } from '@stagecraft/contracts';
import type { OpportunityLost } from '@stagecraft/opportunity';
import { reachAfterMigration, withEnteredRank } from './funnel-reach';
import { defineOpportunityProjection, type Migration } from './opportunity-projection.factory';
import { createOpportunityTable, matchRows, type OpportunityTable } from './opportunity-table';
import { createProcessCatalog, processesOf, stageKeyOf, stageOrderOf, type CatalogProcess, type ProcessCatalog } from './process-catalog';
import { float64Column, int32Column, occurredAtMs, parseFilter, pushFloat64, pushInt32, type Float64Column, type Int32Column, type StageLifeEvent } from './projection.helpers';
import type { AnalyticsFilter } from './projection.types';

// Funnel / conversion (DESIGN.md §5): reached(i) = opportunities that ever entered stage i or any
// later stage, or were ever won (a won opportunity passed every stage, even the ones it skipped).
//
// - "Later" is judged in the order of the opportunity's OWN process version, and an opportunity
//   reaches only stages its version has. Judging it in the combined order would be wrong when a
//   version dropped a first stage: every old opportunity would then "reach" everything.
// - The conversion chain is the latest version's stages. conversionToNext(i) is the share of the
//   opportunities that reached stage i and went on to the next stage of the chain, counted among
//   those whose own version has both stages, in that order: reached(i+1) / reached(i) when every
//   opportunity runs on one version. A deal whose version lacks the next stage (a stage a later
//   version added) could not take the step and does not count for it; counting it in reached(i+1)
//   but not reached(i) would show more than 100 %. The last stage's step is to won, among the
//   opportunities whose version has that stage (also conversionLastToWon). So a conversion is
//   never above 1, and each step is a ratio of deals a manager can count. Stages only older
//   versions have are listed after the chain with their reached count and conversionToNext null.
//   Every ratio is null when its denominator is 0.
// - won = opportunities ever won, whatever their outcome now (reopened ones included).
// - from/to bound the opportunity's openedAt (a cohort by opening date); team/owner filters use
//   the CURRENT team and owner.
//
// Storage: per opportunity, the highest rank (in its own version) it ever entered, the ranks it
// entered (as bits: what a migration carries over, funnel-reach.ts) and whether it was ever won. A
// query makes one histogram loop over the columns, then suffix sums per version.

/**
 * Bumped whenever what FunnelModel's columns hold changes: a snapshot of another layout is rebuilt,
 * not read. 2: a migration carries over every stage entered that the new version has, by its id
 * (before, the furthest stage alone, also through the stage mapping).
 */
export const FUNNEL_MODEL_LAYOUT = 2;

export interface FunnelModel {
  readonly layout: number;
  readonly catalog: ProcessCatalog;
  readonly table: OpportunityTable;
  // Columns by opportunity row:
  /** Catalog version code. */
  readonly version: Int32Column;
  readonly openedMs: Float64Column;
  /** Highest rank, in its own version's order, of any stage it entered. */
  readonly maxRank: Int32Column;
  /** The ranks, in its own version's order, of the stages it entered, as bits (withEnteredRank). */
  readonly entered: Int32Column;
  /** 1 once won, whatever happened after. */
  readonly everWon: Int32Column;
}

type FunnelEvent = Exclude<StageLifeEvent, OpportunityLost>;

export const funnelProjection = defineOpportunityProjection<FunnelModel, FunnelEvent>({
  name: 'funnel',
  handles: ['ProcessVersionRecorded', 'OpportunityOpened', 'StageChanged', 'OpportunityWon', 'OpportunityReopened', 'OpportunityDetailsChanged', 'ProcessMigrated'],
  initial: () => ({
    layout: FUNNEL_MODEL_LAYOUT,
    catalog: createProcessCatalog(),
    table: createOpportunityTable(),
    version: int32Column(),
    openedMs: float64Column(),
    maxRank: int32Column(),
    entered: int32Column(),
    everWon: int32Column(),
  }),
  accepts: (saved) => (saved as Partial<FunnelModel> | null)?.layout === FUNNEL_MODEL_LAYOUT,
  opened(model, row, event) {
    pushFloat64(model.openedMs, occurredAtMs(event));
    pushInt32(model.maxRank, -1);
    pushInt32(model.entered, 0);
    pushInt32(model.everWon, 0);
    enter(model, row, event.data.stage);
  },
  changed(model, row, event, migration) {
    switch (event.type) {
      case 'StageChanged':
        enter(model, row, event.data.to);
        break;
      case 'OpportunityReopened':
        enter(model, row, event.data.stage);
        break;
      case 'OpportunityWon':
        model.everWon.values[row] = 1;
        break;
      case 'ProcessMigrated':
        migrate(model, row, migration!);
        break;
    }
  },
});

/**
 * The opportunity is counted under its new version from now on, with how far it got carried over
 * (funnel-reach.ts): every stage it entered that the new version has, by its id, and the stage it
 * continues in. The stage mapping says where the open visit goes, nothing more.
 */
function migrate(model: FunnelModel, row: number, { from, version, stageKey }: Migration): void {
  const reach = reachAfterMigration(from, version, { maxRank: model.maxRank.values[row]!, entered: model.entered.values[row]! }, stageKey);
  model.maxRank.values[row] = reach.maxRank;
  model.entered.values[row] = reach.entered;
}

function enter(model: FunnelModel, row: number, stageId: string): void {
  const version = model.catalog.versions[model.version.values[row]!]!;
  const rank = version.rankByKey.get(stageKeyOf(model.catalog, version, stageId))!;
  if (rank > model.maxRank.values[row]!) model.maxRank.values[row] = rank;
  model.entered.values[row] = withEnteredRank(model.entered.values[row]!, rank);
}

export function queryFunnel(model: FunnelModel, filter: AnalyticsFilter = {}): FunnelResult {
  const parsed = parseFilter(filter);
  const selected = matchRows(model.table, parsed);
  const { versions } = model.catalog;
  // One histogram per version, side by side: how many opportunities got at most to rank r
  // (cell r), or were won (the version's last cell).
  const offsets = new Int32Array(versions.length + 1);
  versions.forEach((version, code) => (offsets[code + 1] = offsets[code]! + version.stageKeys.length + 1));
  const histograms = new Int32Array(offsets[versions.length]!);
  const version = model.version.values;
  const openedMs = model.openedMs.values;
  const maxRank = model.maxRank.values;
  const everWon = model.everWon.values;
  const { fromMs, toMs } = parsed;
  const rows = model.table.rows;
  for (let row = 0; row < rows; row++) {
    if (selected !== undefined && selected[row] === 0) continue;
    const opened = openedMs[row]!;
    if (opened < fromMs || opened > toMs) continue;
    const code = version[row]!;
    histograms[everWon[row] === 1 ? offsets[code + 1]! - 1 : offsets[code]! + maxRank[row]!]!++;
  }

  return funnelFromHistograms(model.catalog, parsed.processId, (code) => histograms.subarray(offsets[code]!, offsets[code + 1]!));
}

/**
 * The funnel's answer from one histogram per process version (cell r: opportunities that got at
 * most to rank r; last cell: won ones). Shared by the in-memory model and the PostgreSQL query,
 * which count the histograms differently and must answer the same.
 */
export function funnelFromHistograms(catalog: ProcessCatalog, processId: string | undefined, histogramOf: (versionCode: number) => ArrayLike<number>): FunnelResult {
  // reached(stage) += opportunities of a version that have it whose highest rank is ≥ its rank, won ones included.
  const reached = new Float64Array(catalog.stages.length);
  const wonByProcess = new Map<string, number>();
  // Per version: atOrAbove[rank] = opportunities of the version that reached the stage of that rank; the last cell, the won ones.
  const atOrAboveByVersion: Float64Array[] = [];
  catalog.versions.forEach((version, code) => {
    const histogram = histogramOf(code);
    const ranks = version.stageKeys.length;
    const atOrAbove = new Float64Array(ranks + 1);
    atOrAbove[ranks] = histogram[histogram.length - 1]!;
    const id = version.process.processId;
    wonByProcess.set(id, (wonByProcess.get(id) ?? 0) + atOrAbove[ranks]!);
    for (let rank = ranks - 1; rank >= 0; rank--) {
      atOrAbove[rank] = atOrAbove[rank + 1]! + histogram[rank]!;
      reached[version.stageKeys[rank]!]! += atOrAbove[rank]!;
    }
    atOrAboveByVersion[code] = atOrAbove;
  });

  return {
    processes: processesOf(catalog, processId).map((process) => {
      const order = stageOrderOf(process);
      const chainLength = process.latest ? process.latest.stageKeys.length : order.length;
      const won = wonByProcess.get(process.processId) ?? 0;
      const conversions = order.slice(0, chainLength).map((key, index) => stepConversion(process, atOrAboveByVersion, key, index === chainLength - 1 ? undefined : order[index + 1]!));
      const stages = order.map((key, index): FunnelStage => ({ stageId: catalog.stages[key]!.stageId, reached: reached[key]!, conversionToNext: index < chainLength ? conversions[index]! : null }));
      return { processId: process.processId, stages, won, conversionLastToWon: chainLength > 0 ? conversions[chainLength - 1]! : null };
    }),
  };
}

/**
 * One step of the chain, from stage `key` to `nextKey` (undefined: to won), among the opportunities
 * whose version has both stages in that order: of those that reached `key`, the share that reached
 * the next one. Null when none of them reached `key`.
 */
function stepConversion(process: CatalogProcess, atOrAboveByVersion: readonly Float64Array[], key: number, nextKey: number | undefined): number | null {
  let base = 0;
  let converted = 0;
  for (const version of process.versions.values()) {
    const rank = version.rankByKey.get(key);
    if (rank === undefined) continue;
    const nextRank = nextKey === undefined ? version.stageKeys.length : version.rankByKey.get(nextKey);
    if (nextRank === undefined || nextRank <= rank) continue;
    const atOrAbove = atOrAboveByVersion[version.code]!;
    base += atOrAbove[rank]!;
    converted += atOrAbove[nextRank]!;
  }
  return base > 0 ? converted / base : null;
}

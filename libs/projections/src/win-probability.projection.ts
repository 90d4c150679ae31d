import type { OpportunityEvent } from '@stagecraft/opportunity';
import { defineOpportunityProjection } from './opportunity-projection.factory';
import { createOpportunityTable, NONE, type OpportunityTable } from './opportunity-table';
import { createProcessCatalog, stageKeyOf, type ProcessCatalog } from './process-catalog';
import { float64Column, int32Column, occurredAtMs, pushFloat64, pushInt32, type Float64Column, type Int32Column } from './projection.helpers';
import type { LearningVisit } from './win-probability.model';

// What the learned win probability (win-probability.model.ts) learns from, kept as the log goes:
// every stage visit, labelled with its life's outcome once the life closes, and per opportunity
// whether (and since when) it went backward or was reopened. Visits are numbered and cut as the
// PostgreSQL read side's stage_visits are: a migration relabels the open visit (it is learned in
// the stage it ended in), and the visit keeps the stage and version it was entered in besides
// (calibration scores the estimate made at the entry, which a later migration cannot change).

/**
 * Bumped whenever what the model's columns hold changes: a snapshot of another layout is rebuilt,
 * not read. 2: each visit keeps the stage and version it was entered in (enteredStageKey, enteredVersion).
 */
export const WIN_PROBABILITY_MODEL_LAYOUT = 2;

// Details changes keep the table's team and owner current: calibration filters by them.
type LearningEvent = Extract<OpportunityEvent, { type: 'OpportunityOpened' | 'StageChanged' | 'OpportunityWon' | 'OpportunityLost' | 'OpportunityReopened' | 'ProcessMigrated' | 'OpportunityDetailsChanged' }>;

export interface WinProbabilityModel {
  readonly layout: number;
  readonly catalog: ProcessCatalog;
  readonly table: OpportunityTable;
  readonly version: Int32Column;
  // By opportunity row:
  readonly ids: string[];
  /** Index in `visits` of the open visit; NONE while closed. */
  readonly openVisit: Int32Column;
  /** Last visit of the current life (NONE right after a closing). */
  readonly lastInLife: Int32Column;
  readonly visitCount: Int32Column;
  /** 1 once it went backward or was reopened. */
  readonly flagged: Int32Column;
  /** Business time of the first backward move or reopening; NaN: none. */
  readonly firstFlagMs: Float64Column;
  // By visit:
  readonly visits: {
    readonly row: Int32Column;
    readonly visitNo: Int32Column;
    readonly stageKey: Int32Column;
    /** Catalog version code it ran on (at its end, or now while open). */
    readonly version: Int32Column;
    /** Stage key and version code it was entered in: a migration relabels stageKey and version, never these. */
    readonly enteredStageKey: Int32Column;
    readonly enteredVersion: Int32Column;
    readonly enteredMs: Float64Column;
    readonly leftMs: Float64Column;
    readonly flagged: Int32Column;
    /** The previous visit of the same life; NONE: the first. */
    readonly previous: Int32Column;
    readonly closedMs: Float64Column;
    /** 1 won, 0 lost, NONE while its life is open. */
    readonly won: Int32Column;
  };
  /** Visit indices in the order their lives closed: what has been learned, in log order. */
  readonly labelled: Int32Column;
}

export const winProbabilityProjection = defineOpportunityProjection<WinProbabilityModel, LearningEvent>({
  name: 'win-probability',
  handles: ['ProcessVersionRecorded', 'OpportunityOpened', 'StageChanged', 'OpportunityWon', 'OpportunityLost', 'OpportunityReopened', 'ProcessMigrated', 'OpportunityDetailsChanged'],
  initial: () => ({
    layout: WIN_PROBABILITY_MODEL_LAYOUT,
    catalog: createProcessCatalog(),
    table: createOpportunityTable(),
    version: int32Column(),
    ids: [],
    openVisit: int32Column(),
    lastInLife: int32Column(),
    visitCount: int32Column(),
    flagged: int32Column(),
    firstFlagMs: float64Column(),
    visits: {
      row: int32Column(),
      visitNo: int32Column(),
      stageKey: int32Column(),
      version: int32Column(),
      enteredStageKey: int32Column(),
      enteredVersion: int32Column(),
      enteredMs: float64Column(),
      leftMs: float64Column(),
      flagged: int32Column(),
      previous: int32Column(),
      closedMs: float64Column(),
      won: int32Column(),
    },
    labelled: int32Column(),
  }),
  accepts: (saved) => (saved as Partial<WinProbabilityModel> | null)?.layout === WIN_PROBABILITY_MODEL_LAYOUT,
  opened(model, row, event, version) {
    model.ids.push(event.data.opportunityId);
    pushInt32(model.openVisit, NONE);
    pushInt32(model.lastInLife, NONE);
    pushInt32(model.visitCount, 0);
    pushInt32(model.flagged, 0);
    pushFloat64(model.firstFlagMs, NaN);
    startVisit(model, row, stageKeyOf(model.catalog, version!, event.data.stage), occurredAtMs(event));
  },
  changed(model, row, event, migration) {
    const at = occurredAtMs(event);
    const versionOfRow = () => model.catalog.versions[model.version.values[row]!]!;
    switch (event.type) {
      case 'StageChanged':
        endVisit(model, row, at);
        if (event.data.direction === 'backward') flag(model, row, at);
        startVisit(model, row, stageKeyOf(model.catalog, versionOfRow(), event.data.to), at);
        break;
      case 'OpportunityReopened':
        // As the read side: a reopening starts a visit without ending one (only a broken log has one open).
        flag(model, row, at);
        startVisit(model, row, stageKeyOf(model.catalog, versionOfRow(), event.data.stage), at);
        break;
      case 'OpportunityWon':
      case 'OpportunityLost':
        endVisit(model, row, at);
        closeLife(model, row, at, event.type === 'OpportunityWon' ? 1 : 0);
        break;
      case 'ProcessMigrated': {
        const open = model.openVisit.values[row]!;
        if (open >= 0) {
          model.visits.stageKey.values[open] = migration!.stageKey;
          model.visits.version.values[open] = migration!.version.code;
        }
        break;
      }
      case 'OpportunityDetailsChanged':
        break; // team and owner: applied to the table by the factory
    }
  },
});

function flag(model: WinProbabilityModel, row: number, atMs: number): void {
  model.flagged.values[row] = 1;
  const first = model.firstFlagMs.values[row]!;
  if (Number.isFinite(atMs) && !(first <= atMs)) model.firstFlagMs.values[row] = atMs;
}

function startVisit(model: WinProbabilityModel, row: number, stageKey: number, atMs: number): void {
  const { visits } = model;
  const index = visits.row.length;
  pushInt32(visits.row, row);
  pushInt32(visits.visitNo, ++model.visitCount.values[row]!);
  pushInt32(visits.stageKey, stageKey);
  pushInt32(visits.version, model.version.values[row]!);
  pushInt32(visits.enteredStageKey, stageKey);
  pushInt32(visits.enteredVersion, model.version.values[row]!);
  pushFloat64(visits.enteredMs, atMs);
  pushFloat64(visits.leftMs, NaN);
  pushInt32(visits.flagged, model.flagged.values[row]!);
  pushInt32(visits.previous, model.lastInLife.values[row]!);
  pushFloat64(visits.closedMs, NaN);
  pushInt32(visits.won, NONE);
  model.openVisit.values[row] = index;
  model.lastInLife.values[row] = index;
}

function endVisit(model: WinProbabilityModel, row: number, atMs: number): void {
  const open = model.openVisit.values[row]!;
  if (open < 0) return;
  model.visits.leftMs.values[open] = atMs;
  model.visits.version.values[open] = model.version.values[row]!;
  model.openVisit.values[row] = NONE;
}

/** Labels every visit of the life that just closed, most recent first. */
function closeLife(model: WinProbabilityModel, row: number, atMs: number, won: number): void {
  const { visits } = model;
  for (let visit = model.lastInLife.values[row]!; visit >= 0; visit = visits.previous.values[visit]!) {
    visits.closedMs.values[visit] = atMs;
    visits.won.values[visit] = won;
    pushInt32(model.labelled, visit);
  }
  model.lastInLife.values[row] = NONE;
}

/** A labelled visit as the model learns it. */
export function learningVisitOf(model: WinProbabilityModel, visit: number): LearningVisit {
  const { visits, catalog } = model;
  const key = visits.stageKey.values[visit]!;
  const stage = catalog.stages[key]!;
  const enteredKey = visits.enteredStageKey.values[visit]!;
  return {
    opportunityId: model.ids[visits.row.values[visit]!]!,
    visitNo: visits.visitNo.values[visit]!,
    processId: stage.processId,
    stageId: stage.stageId,
    enteredMs: visits.enteredMs.values[visit]!,
    leftMs: visits.leftMs.values[visit]!,
    flagged: visits.flagged.values[visit] === 1,
    enteredStageId: catalog.stages[enteredKey]!.stageId,
    enteredConfiguredProbability: catalog.versions[visits.enteredVersion.values[visit]!]!.probabilityByKey.get(enteredKey) ?? 0,
    closedMs: visits.closedMs.values[visit]!,
    won: visits.won.values[visit] === 1,
  };
}

/** Every labelled visit, in the order learned. */
export function learningVisitsOf(model: WinProbabilityModel): LearningVisit[] {
  const labelled = model.labelled.values;
  const result = new Array<LearningVisit>(model.labelled.length);
  for (let i = 0; i < model.labelled.length; i++) result[i] = learningVisitOf(model, labelled[i]!);
  return result;
}

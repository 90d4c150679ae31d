import type { TransitionsResult } from '@stagecraft/contracts';
import { defineOpportunityProjection } from './opportunity-projection.factory';
import { createOpportunityTable, matchRows, type OpportunityTable } from './opportunity-table';
import { createProcessCatalog, processesOf, stageKeyOf, stageOrderOf, type ProcessCatalog } from './process-catalog';
import { dictionary, float64Column, int32Column, occurredAtMs, parseFilter, pushFloat64, pushInt32, STAGE_LIFE_EVENTS, type Float64Column, type Int32Column, type StageLifeEvent } from './projection.helpers';
import type { AnalyticsFilter } from './projection.types';

// Stage transitions: how often opportunities went from one stage to another, per process.
//
// - Rows are where an opportunity was, columns where it went: every StageChanged (forward, skip or
//   backward) counts from → to; OpportunityWon / OpportunityLost count stage → 'won' / 'lost';
//   OpportunityReopened counts 'won' / 'lost' (the outcome it left) → stage. Opening is not a
//   transition.
// - The matrix is sparse: only non-zero counts appear, and only rows that have one.
// - `stages` lists the process's stage ids in stageOrderOf order (latest version first).
// - from/to bound the transition's occurredAt; team/owner filters use the CURRENT team and owner.
// - Stage ids 'won' and 'lost' would collide with the outcomes; process definitions should not
//   use them.
//
// Storage: each distinct (from, to) pair gets a small id and a running count, kept in evolve;
// each transition is a row of three columns (opportunity row, pair id, time: 16 bytes). A query
// without team, owner or from/to reads the running counts; with them it is one loop over the
// transition columns.

export const WON_COLUMN = 'won';
export const LOST_COLUMN = 'lost';
const WON = -1;
const LOST = -2;

/**
 * Bumped whenever what TransitionsModel's columns hold changes: a snapshot of another layout (or
 * of none: saved before this mark, or by the single-blob format of older versions) is rebuilt, not
 * read, where its other columns made every query of the transitions answer 500.
 */
export const TRANSITIONS_MODEL_LAYOUT = 1;

export interface TransitionsModel {
  readonly layout: number;
  readonly catalog: ProcessCatalog;
  readonly table: OpportunityTable;
  // Columns by opportunity row:
  /** Catalog version code. */
  readonly version: Int32Column;
  /** Stage key while open; WON or LOST while closed. */
  readonly position: Int32Column;
  /** The (from, to) pairs seen, by pair id; from and to are stage keys, WON or LOST. */
  readonly pairs: {
    readonly idOf: Map<number, number>;
    readonly from: number[];
    readonly to: number[];
    /** Transitions per pair id, all of them. */
    readonly count: number[];
  };
  // Columns by transition:
  readonly transitions: {
    readonly row: Int32Column;
    readonly pair: Int32Column;
    readonly atMs: Float64Column;
  };
}


export const transitionsProjection = defineOpportunityProjection<TransitionsModel, StageLifeEvent>({
  name: 'transitions',
  handles: STAGE_LIFE_EVENTS,
  initial: () => ({
    layout: TRANSITIONS_MODEL_LAYOUT,
    catalog: createProcessCatalog(),
    table: createOpportunityTable(),
    version: int32Column(),
    position: int32Column(),
    pairs: { idOf: new Map(), from: [], to: [], count: [] },
    transitions: { row: int32Column(), pair: int32Column(), atMs: float64Column() },
  }),
  accepts: (saved) => (saved as Partial<TransitionsModel> | null)?.layout === TRANSITIONS_MODEL_LAYOUT,
  opened(model, _row, event, version) {
    pushInt32(model.position, stageKeyOf(model.catalog, version!, event.data.stage));
  },
  changed(model, row, event, migration) {
    switch (event.type) {
      case 'StageChanged':
        move(model, row, stageKey(model, row, event.data.to), occurredAtMs(event));
        break;
      case 'OpportunityWon':
        move(model, row, WON, occurredAtMs(event));
        break;
      case 'OpportunityLost':
        move(model, row, LOST, occurredAtMs(event));
        break;
      case 'OpportunityReopened':
        move(model, row, stageKey(model, row, event.data.stage), occurredAtMs(event));
        break;
      case 'ProcessMigrated':
        // Not a move: the next transition starts from the mapped stage.
        if (model.position.values[row]! >= 0) model.position.values[row] = migration!.stageKey;
        break;
    }
  },
});

const stageKey = (model: TransitionsModel, row: number, stageId: string): number =>
  stageKeyOf(model.catalog, model.catalog.versions[model.version.values[row]!]!, stageId);

function move(model: TransitionsModel, row: number, to: number, atMs: number): void {
  const from = model.position.values[row]!;
  const { pairs, transitions } = model;
  // Stage keys stay far below 2^21, so this key is unique per pair.
  const key = (from + 2) * 2_097_152 + (to + 2);
  let pair = pairs.idOf.get(key);
  if (pair === undefined) {
    pair = pairs.from.length;
    pairs.idOf.set(key, pair);
    pairs.from.push(from);
    pairs.to.push(to);
    pairs.count.push(0);
  }
  pairs.count[pair]!++;
  pushInt32(transitions.row, row);
  pushInt32(transitions.pair, pair);
  pushFloat64(transitions.atMs, atMs);
  model.position.values[row] = to;
}

export function queryTransitions(model: TransitionsModel, filter: AnalyticsFilter = {}): TransitionsResult {
  const parsed = parseFilter(filter);
  const { pairs } = model;
  // The process is told by the pairs' stages; team, owner and from/to need the transitions.
  const selected = matchRows(model.table, { processId: undefined, teamId: parsed.teamId, ownerId: parsed.ownerId });
  let counts: ArrayLike<number> = pairs.count;
  if (selected !== undefined || parsed.bounded) {
    const scanned = new Int32Array(pairs.from.length);
    const { length } = model.transitions.row;
    const row = model.transitions.row.values;
    const pair = model.transitions.pair.values;
    const atMs = model.transitions.atMs.values;
    const { fromMs, toMs } = parsed;
    const all = new Uint8Array(model.table.rows).fill(1);
    const rowSelected = selected ?? all;
    // Branch-free: which transitions count is data-dependent, so branches would mispredict often.
    for (let t = 0; t < length; t++) {
      const when = atMs[t]!;
      scanned[pair[t]!]! += rowSelected[row[t]!]! & +(when >= fromMs) & +(when <= toMs);
    }
    counts = scanned;
  }

  const { stages } = model.catalog;
  const matrices = new Map<string, Record<string, Record<string, number>>>();
  const processes = processesOf(model.catalog, parsed.processId);
  for (const process of processes) matrices.set(process.processId, dictionary());
  const idOf = (code: number): string => (code === WON ? WON_COLUMN : code === LOST ? LOST_COLUMN : stages[code]!.stageId);
  for (let pair = 0; pair < pairs.from.length; pair++) {
    const count = counts[pair]!;
    if (count === 0) continue;
    const from = pairs.from[pair]!;
    const to = pairs.to[pair]!;
    if (from < 0 && to < 0) continue; // closed twice: only a corrupt stream says so, and it names no stage
    const matrix = matrices.get(stages[from >= 0 ? from : to]!.processId);
    if (matrix) (matrix[idOf(from)] ??= dictionary<number>())[idOf(to)] = count;
  }

  return {
    processes: processes.map((process) => ({
      processId: process.processId,
      stages: stageOrderOf(process).map((key) => stages[key]!.stageId),
      matrix: matrices.get(process.processId)!,
    })),
  };
}

import type { StageDurationStats, StageDurationsResult } from '@stagecraft/contracts';
import { requireInstant } from '@stagecraft/opportunity';
import { defineOpportunityProjection } from './opportunity-projection.factory';
import { createOpportunityTable, matchRows, NONE, type OpportunityTable } from './opportunity-table';
import { p90Index } from './order-statistics';
import { createProcessCatalog, processesOf, stageKeyOf, stageOrderOf, type ProcessCatalog } from './process-catalog';
import { float64Column, int32Column, occurredAtMs, parseFilter, pushFloat64, pushInt32, STAGE_LIFE_EVENTS, type Float64Column, type Int32Column, type StageLifeEvent } from './projection.helpers';
import type { AnalyticsFilter } from './projection.types';

// Stage durations (DESIGN.md §5). A visit to a stage runs from the event that entered it
// (OpportunityOpened: its initial stage; StageChanged: `to`; OpportunityReopened: `stage`) to
// the event that left it (StageChanged away, OpportunityWon, OpportunityLost). Each entry starts a
// new visit, so a backward move and a reopen create new visits of stages seen before.
//
// - Completed visits: count, mean, median, p90 in seconds of business time (occurredAt).
//   A visit lasts a whole number of milliseconds (occurredAt has millisecond precision), ms; its
//   seconds are ms / 1000. Mean = (exact sum of the visits' ms) / (count · 1000), rounded once:
//   the integer sum, then one division, so the mean does not depend on the order the visits are
//   added in (which a sum of ms / 1000 would: 0.3 + 0.2 + 0.1 ≠ 0.1 + 0.2 + 0.3 in doubles), and
//   the PostgreSQL read side gets the same double from a plain sum(). The sum is exact: while the
//   sizes of a stage's ms add up below 2^52 every partial sum of a double is a whole number it
//   holds exactly; beyond (visits lasting millennia) it is added in BigInt (`exactSumMs`).
//   Median of an even count = mean of the two middle values' seconds; p90 = nearest rank,
//   sorted[ceil(0.9·n) − 1] (order-statistics.ts). All null when the count is 0.
// - from/to keep completed visits that ENDED within [from, to].
// - Open visits: the visits no event has ended yet, whatever from/to say (a visit open now is
//   work in progress, not history of a period). oldestAgeSeconds = now − earliest entry, floored
//   at 0 for an entry recorded later than the `now` asked about; null when none is open.
// - Team/owner filters and grouping use the opportunity's CURRENT team and owner.
// - Stages are listed per process in stageOrderOf order (latest version, then older-only stages).
//
// Storage: per stage, the completed visits' ms, opportunity row and end time in typed arrays
// (20 bytes a visit), kept sorted by duration LAZILY: evolve appends, and once SORT_BATCH unsorted
// visits have gathered sorts them and merges them into the sorted part in place (each merge moves
// the sorted part once: about 40 moves per visit at 150,000 visits of one stage); a query merges
// what is left first. A query without team, owner or from/to reads mean, median and p90 straight
// off the sorted arrays; with them it walks each stage's sorted visits once, keeping those that
// match, which come out sorted too. A query may thus finish sorting the model's arrays; it never
// changes what the model answers.

/** Unsorted visits a stage may gather before evolve merges them into the sorted part. */
export const SORT_BATCH = 4096;

/**
 * Version of the model's columns: a snapshot saved with other columns (before `layout`, the visits
 * kept seconds and summed them as they came) is not read but rebuilt from the log.
 */
export const STAGE_DURATIONS_MODEL_LAYOUT = 2;

/** The completed visits of one stage: [0, sorted) ascending by ms, [sorted, length) as they came. */
export interface StageVisits {
  /** Duration of each visit in whole milliseconds. */
  ms: Float64Array;
  /** Opportunity row of each visit. */
  row: Int32Array;
  endMs: Float64Array;
  length: number;
  sorted: number;
  /** Sum of all ms, added as visits came: exact while `absMs` < 2^52 (see exactSumMs). */
  sumMs: number;
  /** Sum of the visits' |ms| (rounded; only compared with 2^52). */
  absMs: number;
}

export interface StageDurationsModel {
  readonly layout: typeof STAGE_DURATIONS_MODEL_LAYOUT;
  readonly catalog: ProcessCatalog;
  readonly table: OpportunityTable;
  // Columns by opportunity row:
  /** Catalog version code. */
  readonly version: Int32Column;
  /** Stage key of the open visit; NONE while closed. */
  readonly openStageKey: Int32Column;
  readonly openSinceMs: Float64Column;
  /** Completed visits by stage key; null for a stage nobody has left yet. */
  readonly visits: (StageVisits | null)[];
}


export const stageDurationsProjection = defineOpportunityProjection<StageDurationsModel, StageLifeEvent>({
  name: 'stage-durations',
  handles: STAGE_LIFE_EVENTS,
  initial: () => ({
    layout: STAGE_DURATIONS_MODEL_LAYOUT,
    catalog: createProcessCatalog(),
    table: createOpportunityTable(),
    version: int32Column(),
    openStageKey: int32Column(),
    openSinceMs: float64Column(),
    visits: [],
  }),
  accepts: (saved) => (saved as Partial<StageDurationsModel> | null)?.layout === STAGE_DURATIONS_MODEL_LAYOUT,
  opened(model, _row, event, version) {
    pushInt32(model.openStageKey, stageKeyOf(model.catalog, version!, event.data.stage));
    pushFloat64(model.openSinceMs, occurredAtMs(event));
  },
  changed(model, row, event, migration) {
    switch (event.type) {
      case 'StageChanged':
        endVisit(model, row, occurredAtMs(event));
        enterStage(model, row, event.data.to, occurredAtMs(event));
        break;
      case 'OpportunityWon':
      case 'OpportunityLost':
        endVisit(model, row, occurredAtMs(event));
        model.openStageKey.values[row] = NONE;
        break;
      case 'OpportunityReopened':
        enterStage(model, row, event.data.stage, occurredAtMs(event));
        break;
      case 'ProcessMigrated':
        // Completed visits keep their stage; the open visit continues, same start, under the mapped stage.
        if (model.openStageKey.values[row]! >= 0) model.openStageKey.values[row] = migration!.stageKey;
        break;
    }
  },
});

function enterStage(model: StageDurationsModel, row: number, stageId: string, atMs: number): void {
  const version = model.catalog.versions[model.version.values[row]!]!;
  model.openStageKey.values[row] = stageKeyOf(model.catalog, version, stageId);
  model.openSinceMs.values[row] = atMs;
}

function endVisit(model: StageDurationsModel, row: number, endMs: number): void {
  const key = model.openStageKey.values[row]!;
  if (key < 0) return;
  let visits = model.visits[key];
  if (!visits) {
    while (model.visits.length <= key) model.visits.push(null);
    visits = model.visits[key] = { ms: new Float64Array(16), row: new Int32Array(16), endMs: new Float64Array(16), length: 0, sorted: 0, sumMs: 0, absMs: 0 };
  }
  if (visits.length === visits.ms.length) {
    const capacity = visits.length * 2;
    visits.ms = grow(new Float64Array(capacity), visits.ms);
    visits.row = grow(new Int32Array(capacity), visits.row);
    visits.endMs = grow(new Float64Array(capacity), visits.endMs);
  }
  const ms = endMs - model.openSinceMs.values[row]!;
  visits.ms[visits.length] = ms;
  visits.row[visits.length] = row;
  visits.endMs[visits.length] = endMs;
  visits.length++;
  visits.sumMs += ms;
  visits.absMs += Math.abs(ms);
  if (visits.length - visits.sorted >= SORT_BATCH) settle(visits);
}

function grow<A extends Float64Array | Int32Array>(into: A, from: A): A {
  into.set(from);
  return into;
}

/** Sorts the unsorted tail and merges it into the sorted part, in place, from the back. */
function settle(visits: StageVisits): void {
  const { sorted, length, ms, row, endMs } = visits;
  if (sorted === length) return;
  const order = Int32Array.from({ length: length - sorted }, (_, i) => sorted + i).sort((a, b) => ms[a]! - ms[b]!);
  const tailMs = Float64Array.from(order, (i) => ms[i]!);
  const tailRow = Int32Array.from(order, (i) => row[i]!);
  const tailEnd = Float64Array.from(order, (i) => endMs[i]!);
  let i = sorted - 1;
  let j = order.length - 1;
  for (let w = length - 1; j >= 0; w--) {
    if (i >= 0 && ms[i]! > tailMs[j]!) {
      ms[w] = ms[i]!;
      row[w] = row[i]!;
      endMs[w] = endMs[i]!;
      i--;
    } else {
      ms[w] = tailMs[j]!;
      row[w] = tailRow[j]!;
      endMs[w] = tailEnd[j]!;
      j--;
    }
  }
  visits.sorted = length;
}

/** 2^52: while the sizes of whole numbers add up below it, every partial sum is a whole number a double holds exactly. */
const EXACT_BOUND = 2 ** 52;

/** The sum of ms[0, n) added exactly (BigInt), rounded once to the nearest double. */
function exactSumMs(ms: Float64Array, n: number): number {
  let sum = 0n;
  for (let i = 0; i < n; i++) {
    const value = ms[i]!;
    // Not a whole number only when occurredAt was not an instant (NaN): the double sum says so.
    if (!Number.isInteger(value)) return NaN;
    sum += BigInt(value);
  }
  return Number(sum);
}

/** The mean in seconds of n visits lasting sumMs in all: one rounding (n · 1000 is exact). */
export const meanSecondsOf = (sumMs: number, n: number): number => sumMs / (n * 1000);

/** The median in seconds of ms[0, n) sorted ascending: the middle one, or the mean of the two middle ones' seconds. */
function medianSecondsOf(ms: Float64Array, n: number): number {
  const middle = n >> 1;
  return n % 2 === 1 ? ms[middle]! / 1000 : (ms[middle - 1]! / 1000 + ms[middle]! / 1000) / 2;
}

type Completed = StageDurationStats['completed'];
const NO_VISITS: Completed = { count: 0, meanSeconds: null, medianSeconds: null, p90Seconds: null };

// Work buffers are kept per model between queries (outside the model, which is saved): a query
// at a million events would otherwise allocate and zero megabytes each time, and feed the GC.
const QUERY_BUFFERS = new WeakMap<StageDurationsModel, { scratch(length: number): Float64Array; allRows(rows: number): Uint8Array }>();

function queryBuffersOf(model: StageDurationsModel) {
  let buffers = QUERY_BUFFERS.get(model);
  if (!buffers) {
    let scratch = new Float64Array(0);
    let allRows = new Uint8Array(0);
    buffers = {
      scratch: (length) => (scratch.length >= length ? scratch : (scratch = new Float64Array(Math.max(length, scratch.length * 2)))),
      allRows: (rows) => (allRows.length >= rows ? allRows : (allRows = new Uint8Array(Math.max(rows, allRows.length * 2)).fill(1))),
    };
    QUERY_BUFFERS.set(model, buffers);
  }
  return buffers;
}

export function queryStageDurations(model: StageDurationsModel, filter: AnalyticsFilter, now: string): StageDurationsResult {
  const parsed = parseFilter(filter);
  const nowMs = requireInstant(now, 'now');
  // The process is chosen by listing only its stages; team and owner by row.
  const selected = matchRows(model.table, { processId: undefined, teamId: parsed.teamId, ownerId: parsed.ownerId });
  const processes = processesOf(model.catalog, parsed.processId);
  const buffers = queryBuffersOf(model);

  const completed = (key: number): Completed => {
    const visits = model.visits[key];
    if (!visits || visits.length === 0) return NO_VISITS;
    settle(visits);
    if (selected === undefined && !parsed.bounded) {
      const n = visits.length;
      const sumMs = visits.absMs < EXACT_BOUND ? visits.sumMs : exactSumMs(visits.ms, n);
      return { count: n, meanSeconds: meanSecondsOf(sumMs, n), medianSeconds: medianSecondsOf(visits.ms, n), p90Seconds: visits.ms[p90Index(n)]! / 1000 };
    }
    // Walking the visits in duration order keeps the kept ones in order too.
    const { ms, row, endMs, length } = visits;
    const scratch = buffers.scratch(length + 1);
    const { fromMs, toMs } = parsed;
    const rowSelected = selected ?? buffers.allRows(model.table.rows);
    let n = 0;
    let sum = 0;
    // Branch-free compaction: every value is written, and the cursor moves on only for kept ones
    // (which visits match is data-dependent, so branches would mispredict half the time).
    for (let v = 0; v < length; v++) {
      const end = endMs[v]!;
      const keep = rowSelected[row[v]!]! & +(end >= fromMs) & +(end <= toMs);
      const value = ms[v]!;
      scratch[n] = value;
      n += keep;
      sum += keep * value;
    }
    if (n === 0) return NO_VISITS;
    // The kept visits' sizes add up to at most the stage's: below 2^52, `sum` is exact.
    const sumMs = visits.absMs < EXACT_BOUND ? sum : exactSumMs(scratch, n);
    return { count: n, meanSeconds: meanSecondsOf(sumMs, n), medianSeconds: medianSecondsOf(scratch, n), p90Seconds: scratch[p90Index(n)]! / 1000 };
  };

  // Open visits, whatever from/to say: one loop over the opportunity rows.
  const stageCount = model.catalog.stages.length;
  const openCounts = new Int32Array(stageCount);
  const openOldest = new Float64Array(stageCount).fill(Infinity);
  const openStageKey = model.openStageKey.values;
  const openSinceMs = model.openSinceMs.values;
  const rows = model.table.rows;
  for (let row = 0; row < rows; row++) {
    const key = openStageKey[row]!;
    if (key < 0 || (selected !== undefined && selected[row] === 0)) continue;
    openCounts[key]!++;
    if (openSinceMs[row]! < openOldest[key]!) openOldest[key] = openSinceMs[row]!;
  }

  return {
    processes: processes.map((process) => ({
      processId: process.processId,
      stages: stageOrderOf(process).map(
        (key): StageDurationStats => ({
          stageId: model.catalog.stages[key]!.stageId,
          completed: { ...completed(key) },
          open: {
            count: openCounts[key]!,
            oldestAgeSeconds: openCounts[key] === 0 ? null : Math.max(0, nowMs - openOldest[key]!) / 1000,
          },
        }),
      ),
    })),
  };
}

import type { PipelineOpportunity, PipelineStage, PipelineResult } from '@stagecraft/contracts';
import { calendarDateOf, parseCalendarDay } from '@stagecraft/opportunity';
import { defineOpportunityProjection } from './opportunity-projection.factory';
import { createOpportunityTable, createStringCodes, encode, NONE, type OpportunityTable, type StringCodes } from './opportunity-table';
import { FirstInOrder } from './order-statistics';
import { cardsPerColumnOf, type PipelineFilter, type PipelineQueryOptions } from './pipeline.projection';
import { compareIds, createProcessCatalog, processesOf, stageKeyOf, stageOrderOf, type ProcessCatalog } from './process-catalog';
import { createStageTotals, isRotting, withCards } from './stage-totals';
import { float64Column, int32Column, occurredAtMs, pushFloat64, pushInt32, STAGE_LIFE_EVENTS, type Float64Column, type Int32Column, type StageLifeEvent } from './projection.helpers';

// Stage intervals: the board at any past instant (GET /pipeline?asOf=), on business time
// (occurredAt), without replaying streams per request.
//
// Each opportunity's open life is cut into SEGMENTS during which everything the board shows is
// constant: stage, the probability of that stage in the version it runs on, amount, currency,
// team, owner, title. A segment runs [startMs, endMs): from the event that made it so to the next
// event that changed any of those (or closed the opportunity); the current segment ends at
// +Infinity. Closed periods have no segment. Within a stream occurredAt never goes backwards, so
// segments of one opportunity follow each other; two events at the same instant leave a
// zero-length segment that no instant selects — the state at t is the one after every event at t,
// as an as-of fold sees it.
//
// The board at t = every segment with startMs ≤ t < endMs, aggregated like the pipeline:
// counts, amounts and weighted amounts per stage in process order (stage names and display order
// are the latest recorded ones, as on the live board). Unlike the live board, team and owner
// filters use the team and owner AT t: the board as it stood then.
//
// A ProcessMigrated event continues the visit (same stageEnteredAt) under the mapped stage and
// the new version's probability: a new segment, not a new visit.
//
// The same segments answer the forecast and rotting deals as of any instant (forecast.queries.ts):
// each also carries the expected close date (a day number; an ExpectedCloseDateChanged that moves
// it starts a segment), and every win is kept as an interval [won, reopened) with its amount, so
// "won so far" can be asked of any past instant too.

/** Bumped whenever the model's columns change: a snapshot of another layout is rebuilt, not read. */
export const STAGE_INTERVALS_MODEL_LAYOUT = 2;

/** The expected close day of a deal without one (day numbers may be negative: before 1970). */
export const NO_DAY = -2147483648;

export interface StageIntervalsModel {
  readonly layout: number;
  readonly catalog: ProcessCatalog;
  readonly table: OpportunityTable;
  readonly currencies: StringCodes;
  readonly teams: StringCodes;
  readonly owners: StringCodes;
  // By opportunity row:
  readonly ids: string[];
  /** Catalog version code the opportunity runs on. */
  readonly version: Int32Column;
  /** Index of the current segment; NONE while closed. */
  readonly current: Int32Column;
  /** What the next segment starts from, kept while closed too (details may change when closed). */
  readonly state: {
    readonly stageKey: Int32Column;
    readonly amount: Float64Column;
    readonly currency: Int32Column;
    readonly team: Int32Column;
    readonly owner: Int32Column;
    readonly enteredMs: Float64Column;
    /** Index in `titles` of the current title. */
    readonly title: Int32Column;
    /** Expected close date, as days since 1970-01-01; NO_DAY: none. */
    readonly expectedDay: Int32Column;
  };
  /** Every title an opportunity had, appended as they come: segments point into it. */
  readonly titles: string[];
  // By segment:
  readonly segments: {
    readonly row: Int32Column;
    readonly startMs: Float64Column;
    readonly endMs: Float64Column;
    readonly stageKey: Int32Column;
    readonly probability: Float64Column;
    readonly amount: Float64Column;
    readonly currency: Int32Column;
    readonly team: Int32Column;
    readonly owner: Int32Column;
    readonly enteredMs: Float64Column;
    readonly title: Int32Column;
    readonly expectedDay: Int32Column;
  };
  /** Every win, kept after a reopening: [startMs, endMs) is while it stood (endMs: the reopening, or +Infinity). */
  readonly wins: {
    readonly row: Int32Column;
    readonly startMs: Float64Column;
    readonly endMs: Float64Column;
    /** The amount won (the event's, else the opportunity's then); NaN: none. */
    readonly amount: Float64Column;
    readonly currency: Int32Column;
    /** Team and owner at the win. */
    readonly team: Int32Column;
    readonly owner: Int32Column;
  };
  /** Index in `wins` of the row's standing win; NONE when its latest outcome is not a win. */
  readonly currentWin: Int32Column;
}

export const stageIntervalsProjection = defineOpportunityProjection<StageIntervalsModel, StageLifeEvent>({
  name: 'stage-intervals',
  handles: STAGE_LIFE_EVENTS,
  initial: () => ({
    layout: STAGE_INTERVALS_MODEL_LAYOUT,
    catalog: createProcessCatalog(),
    table: createOpportunityTable(),
    currencies: createStringCodes(),
    teams: createStringCodes(),
    owners: createStringCodes(),
    ids: [],
    version: int32Column(),
    current: int32Column(),
    state: { stageKey: int32Column(), amount: float64Column(), currency: int32Column(), team: int32Column(), owner: int32Column(), enteredMs: float64Column(), title: int32Column(), expectedDay: int32Column() },
    titles: [],
    segments: {
      row: int32Column(),
      startMs: float64Column(),
      endMs: float64Column(),
      stageKey: int32Column(),
      probability: float64Column(),
      amount: float64Column(),
      currency: int32Column(),
      team: int32Column(),
      owner: int32Column(),
      enteredMs: float64Column(),
      title: int32Column(),
      expectedDay: int32Column(),
    },
    wins: { row: int32Column(), startMs: float64Column(), endMs: float64Column(), amount: float64Column(), currency: int32Column(), team: int32Column(), owner: int32Column() },
    currentWin: int32Column(),
  }),
  // A model saved before the forecast columns existed cannot be completed from itself: rebuild it.
  accepts: (saved) => (saved as Partial<StageIntervalsModel> | null)?.layout === STAGE_INTERVALS_MODEL_LAYOUT,
  opened(model, row, event, version) {
    const { data } = event;
    const at = occurredAtMs(event);
    model.ids.push(data.opportunityId);
    pushInt32(model.current, NONE);
    const { state } = model;
    pushInt32(state.stageKey, stageKeyOf(model.catalog, version!, data.stage));
    pushFloat64(state.amount, data.amount ?? NaN);
    pushInt32(state.currency, encode(model.currencies, data.currency));
    pushInt32(state.team, encode(model.teams, data.teamId));
    pushInt32(state.owner, encode(model.owners, data.ownerId));
    pushFloat64(state.enteredMs, at);
    pushInt32(state.title, model.titles.push(data.title) - 1);
    pushInt32(state.expectedDay, NO_DAY);
    pushInt32(model.currentWin, NONE);
    startSegment(model, row, at);
  },
  changed(model, row, event, migration) {
    const at = occurredAtMs(event);
    const { state } = model;
    switch (event.type) {
      case 'StageChanged':
      case 'OpportunityReopened': {
        // A reopening ends the standing win of a closed deal (as the read side's outcomes.reopened_at).
        if (event.type === 'OpportunityReopened' && model.current.values[row]! < 0) endWin(model, row, at);
        state.stageKey.values[row] = stageKeyOf(model.catalog, model.catalog.versions[model.version.values[row]!]!, event.type === 'StageChanged' ? event.data.to : event.data.stage);
        state.enteredMs.values[row] = at;
        endSegment(model, row, at);
        startSegment(model, row, at);
        break;
      }
      case 'OpportunityWon':
        endSegment(model, row, at);
        startWin(model, row, at, typeof event.data.amount === 'number' ? event.data.amount : state.amount.values[row]!);
        break;
      case 'OpportunityLost':
        endSegment(model, row, at);
        // The latest closing is this loss; a reopening ends nothing won. (A win before it without a
        // reopening, which only a log breaking the rules holds, keeps standing, as on the read side.)
        model.currentWin.values[row] = NONE;
        break;
      case 'ExpectedCloseDateChanged': {
        const day = event.data.to === null ? NO_DAY : (parseCalendarDay(event.data.to) ?? NO_DAY);
        if (setInt(state.expectedDay, row, day) && model.current.values[row]! >= 0) {
          endSegment(model, row, at);
          startSegment(model, row, at);
        }
        break;
      }
      case 'ProcessMigrated':
        state.stageKey.values[row] = migration!.stageKey;
        if (model.current.values[row]! >= 0) {
          endSegment(model, row, at);
          startSegment(model, row, at);
        }
        break;
      case 'OpportunityDetailsChanged': {
        // A new segment only when something the board shows changed: fewer segments to keep and scan.
        const { amount, currency, teamId, ownerId, title } = event.data;
        let changed = false;
        if (amount !== undefined && amount !== state.amount.values[row]) changed = setFloat(state.amount, row, amount);
        if (currency !== undefined) changed = setInt(state.currency, row, encode(model.currencies, currency)) || changed;
        if (teamId !== undefined) changed = setInt(state.team, row, encode(model.teams, teamId)) || changed;
        if (ownerId !== undefined) changed = setInt(state.owner, row, encode(model.owners, ownerId)) || changed;
        if (title !== undefined && title !== model.titles[state.title.values[row]!]) {
          state.title.values[row] = model.titles.push(title) - 1;
          changed = true;
        }
        if (changed && model.current.values[row]! >= 0) {
          endSegment(model, row, at);
          startSegment(model, row, at);
        }
        break;
      }
    }
  },
});

function setInt(column: Int32Column, row: number, value: number): boolean {
  if (column.values[row] === value) return false;
  column.values[row] = value;
  return true;
}

function setFloat(column: Float64Column, row: number, value: number): boolean {
  column.values[row] = value;
  return true;
}

function startWin(model: StageIntervalsModel, row: number, atMs: number, amount: number): void {
  const { wins, state } = model;
  model.currentWin.values[row] = wins.row.length;
  pushInt32(wins.row, row);
  pushFloat64(wins.startMs, atMs);
  pushFloat64(wins.endMs, Infinity);
  pushFloat64(wins.amount, amount);
  pushInt32(wins.currency, state.currency.values[row]!);
  pushInt32(wins.team, state.team.values[row]!);
  pushInt32(wins.owner, state.owner.values[row]!);
}

function endWin(model: StageIntervalsModel, row: number, atMs: number): void {
  const win = model.currentWin.values[row]!;
  if (win < 0) return;
  model.wins.endMs.values[win] = atMs;
  model.currentWin.values[row] = NONE;
}

function endSegment(model: StageIntervalsModel, row: number, atMs: number): void {
  const segment = model.current.values[row]!;
  if (segment < 0) return;
  model.segments.endMs.values[segment] = atMs;
  model.current.values[row] = NONE;
}

function startSegment(model: StageIntervalsModel, row: number, atMs: number): void {
  const { state, segments } = model;
  const key = state.stageKey.values[row]!;
  const version = model.catalog.versions[model.version.values[row]!]!;
  model.current.values[row] = segments.row.length;
  pushInt32(segments.row, row);
  pushFloat64(segments.startMs, atMs);
  pushFloat64(segments.endMs, Infinity);
  pushInt32(segments.stageKey, key);
  pushFloat64(segments.probability, version.probabilityByKey.get(key) ?? 0);
  pushFloat64(segments.amount, state.amount.values[row]!);
  pushInt32(segments.currency, state.currency.values[row]!);
  pushInt32(segments.team, state.team.values[row]!);
  pushInt32(segments.owner, state.owner.values[row]!);
  pushFloat64(segments.enteredMs, state.enteredMs.values[row]!);
  pushInt32(segments.title, state.title.values[row]!);
  pushInt32(segments.expectedDay, state.expectedDay.values[row]!);
}

/** The pipeline as it stood at an instant of business time (ms since the epoch). */
export function queryPipelineAsOf(model: StageIntervalsModel, atMs: number, filter: PipelineFilter = {}, options: PipelineQueryOptions = {}): PipelineResult {
  const totals = createStageTotals(model.catalog.stages.length, model.currencies.values, true);
  const stages = model.catalog.stages;
  const cap = cardsPerColumnOf(options);
  const entered = model.segments.enteredMs.values;
  const order = cardOrderOf(model);
  // As the live board: uncapped, a column lists its segments and sorts them; capped, it picks its
  // first `cap` as the segments go by, offered in segment order as firstInOrder would be.
  const listed: number[][] | undefined = options.includeOpportunities && cap === undefined ? Array.from({ length: model.catalog.stages.length }, () => []) : undefined;
  const picked: FirstInOrder[] | undefined = options.includeOpportunities && cap !== undefined ? Array.from({ length: model.catalog.stages.length }, () => new FirstInOrder(cap, order)) : undefined;

  const processCode = filter.processId === undefined ? NONE : model.table.processes.codeOf.get(filter.processId);
  const teamCode = filter.teamId === undefined ? NONE : model.teams.codeOf.get(filter.teamId);
  const ownerCode = filter.ownerId === undefined ? NONE : model.owners.codeOf.get(filter.ownerId);
  const nothingMatches = processCode === undefined || teamCode === undefined || ownerCode === undefined;
  const { segments } = model;
  const process = model.table.process.values;
  // Locals, not property reads, in the loop over every segment ever recorded.
  const startMs = segments.startMs.values;
  const endMs = segments.endMs.values;
  const segmentRow = segments.row.values;
  const segmentTeam = segments.team.values;
  const segmentOwner = segments.owner.values;
  const stageKey = segments.stageKey.values;
  const amount = segments.amount.values;
  const probability = segments.probability.values;
  const currency = segments.currency.values;
  const anyProcess = processCode! < 0;
  const anyTeam = teamCode! < 0;
  const anyOwner = ownerCode! < 0;
  const count = nothingMatches ? 0 : segments.row.length;
  for (let segment = 0; segment < count; segment++) {
    if (!(startMs[segment]! <= atMs && atMs < endMs[segment]!)) continue;
    if (!anyProcess && process[segmentRow[segment]!] !== processCode) continue;
    if (!anyTeam && segmentTeam[segment] !== teamCode) continue;
    if (!anyOwner && segmentOwner[segment] !== ownerCode) continue;
    const key = stageKey[segment]!;
    totals.add(key, amount[segment]!, probability[segment]!, currency[segment]!);
    if (isRotting(entered[segment]!, stages[key]!.rotAfterDays, atMs)) totals.addRotting(key);
    if (listed) listed[key]!.push(segment);
    else if (picked) {
      const column = picked[key]!;
      // A full column's worst card entered earlier: order would not put this one before it.
      if (column.full && entered[segment]! > entered[column.heap[0]!]!) continue;
      column.offer(segment);
    }
  }

  return {
    processes: processesOf(model.catalog, filter.processId).map((catalogProcess) => ({
      processId: catalogProcess.processId,
      stages: stageOrderOf(catalogProcess).map((key): PipelineStage => {
        const stage = totals.stageOf(model.catalog.stages[key]!);
        if (listed) return withCards(stage, cardsOf(model, listed[key]!.sort(order)), cap, atMs);
        return picked ? withCards(stage, cardsOf(model, picked[key]!.sorted()), cap, atMs) : stage;
      }),
    })),
  };
}

/** As the live board: longest in the stage first (oldest stage entry), ties by id. */
function cardOrderOf(model: StageIntervalsModel): (a: number, b: number) => number {
  const { segments } = model;
  const entered = segments.enteredMs.values;
  const idOf = (segment: number) => model.ids[segments.row.values[segment]!]!;
  return (a, b) => entered[a]! - entered[b]! || compareIds(idOf(a), idOf(b));
}

/** The cards of segments already in order. */
function cardsOf(model: StageIntervalsModel, first: readonly number[]): PipelineOpportunity[] {
  const { segments } = model;
  const entered = segments.enteredMs.values;
  const idOf = (segment: number) => model.ids[segments.row.values[segment]!]!;
  return first.map((segment) => {
    const team = segments.team.values[segment]!;
    const owner = segments.owner.values[segment]!;
    const amount = segments.amount.values[segment]!;
    const currency = segments.currency.values[segment]!;
    return {
      id: idOf(segment),
      title: model.titles[segments.title.values[segment]!]!,
      ownerId: owner < 0 ? null : model.owners.values[owner]!,
      teamId: team < 0 ? null : model.teams.values[team]!,
      amount: Number.isNaN(amount) ? null : amount,
      currency: currency < 0 ? null : model.currencies.values[currency]!,
      // Times are kept as numbers (a snapshot of strings per segment is large); the decider
      // writes occurredAt as toISOString(), so this gives the text back as stored ('' for an
      // unreadable time, which only a corrupt log holds).
      stageEnteredAt: Number.isFinite(entered[segment]!) ? new Date(entered[segment]!).toISOString() : '',
      expectedCloseDate: segments.expectedDay.values[segment] === NO_DAY ? null : calendarDateOf(segments.expectedDay.values[segment]!),
    };
  });
}


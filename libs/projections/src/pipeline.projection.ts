import type { ClosedOutcome, ClosedWindow, ClosedOpportunity, ClosedSection, OpportunitySearchHit, OpportunitySearchResult, PipelineOpportunity, PipelineStage, PipelineProcess, PipelineResult } from '@stagecraft/contracts';
import { requireInstant, requireLowerBound } from '@stagecraft/opportunity';
import { defineOpportunityProjection } from './opportunity-projection.factory';
import { createOpportunityTable, createStringCodes, encode, NONE, type OpportunityTable, type StringCodes } from './opportunity-table';
import { firstInOrder, FirstInOrder } from './order-statistics';
import { compareIds, createProcessCatalog, criteriaProgressOf, processesOf, stageKeyOf, stageOrderOf, type ProcessCatalog } from './process-catalog';
import { createStageTotals, isRotting, withCards } from './stage-totals';
import { ExactSum, unitsOf } from './exact-amounts';
import { dealMatches, ownerMatcher, SearchCursorError, SearchPage, searchLimitOf, searchNeedle, type OpportunitySearchQuery } from './opportunity-search';
import { dictionary, float64Column, int32Column, NO_CURRENCY, occurredAtMs, soleCurrencyTotal, pushFloat64, pushInt32, STAGE_LIFE_EVENTS, type Float64Column, type Int32Column, type StageLifeEvent, type AtInstant } from './projection.helpers';
import type { ExitCriterionMet, ExitCriterionRevoked } from '@stagecraft/opportunity';

// Pipeline (DESIGN.md §5): open opportunities per current stage, their amount and weighted amount.
//
// Versions: stages are grouped per process, listed in the order of the process's latest recorded
// version, then stages only older versions have (see stageOrderOf). A stage row shows the
// probability of the latest version that has the stage, but each opportunity is weighted by the
// probability of that stage in the version it runs on, read when it enters the stage: recorded
// versions never change (the version is a hash of the definition), so that equals reading it now;
// only a version recorded after its opportunities (a broken log) leaves earlier entries at 0.
//
// Currencies are never added together (issue 15): `amountsByCurrency` (and
// `weightedAmountsByCurrency`) give the sums per currency, with opportunities that have an amount
// but no currency under NO_CURRENCY; `amount` is the sum only when the column holds one currency
// (a single-currency company wants exactly that) and null when it holds several
// (soleCurrencyTotal). Opportunities without an amount are counted and add 0 (and no currency key).
//
// Team/owner filters use the CURRENT team and owner (opportunity-table.ts).
//
// Query cost: one loop over the columns of all opportunities; no aggregates are kept in evolve,
// since sums kept up to date by adding and subtracting floats drift from a fresh sum, and filters
// on the current team/owner would need one aggregate per combination.
//
// Closed opportunities (the board's Won and Lost columns, `options.closed`): those whose LATEST
// outcome is won or lost, closed (occurredAt of that latest closing) within [from, to] inclusive;
// a reopened opportunity is open again and only shows once it closes again, at that new closing.
// Each outcome answers count, amount (the opportunity's amount, which a win records unchanged:
// details cannot change while closed) with per-currency sums over ALL of the window, and at most
// `limit` cards, newest closing first (ties by id). The window and the limit are the caller's: what
// a screen shows by default (the board's last 30 days) is policy of the query layer, not of the
// read model (apps/api/src/analytics/pipeline.policy.ts).
//
// Capped columns (`options.cardsPerColumn`, the board's kanban): each stage lists only its first N
// cards in the usual order (longest in the stage first: oldest stage entry, ties by id), and says
// in `opportunitiesOmitted` how many it left out; count and amounts stay those of the whole column.
// The first N are picked with a bounded heap as the rows go by (FirstInOrder, fed in row order as
// firstInOrder was), and only they become card objects: a column of 40k deals costs, per row, one
// comparison of its entry time with the worst card kept, not a list of rows, a sort or 40k objects.
//
// Criteria (`criteria` on open cards): the exit criteria of the current stage in the row's own
// version, and how many are met, as the domain's evolve keeps them (opportunity.evolve.ts): met
// and revoked within a visit, none after a stage change or a reopening, those a migration kept.
// Closed cards say the stage they closed in (`closedInStage`), so a reopening can be offered only
// where the process allows it.

/** Bumped whenever PipelineModel's columns change: a snapshot of another layout is rebuilt, not read. */
export const PIPELINE_MODEL_LAYOUT = 4;

const OPEN = 0;
const WON = 1;
const LOST = 2;

export interface PipelineModel {
  readonly layout: number;
  readonly catalog: ProcessCatalog;
  readonly table: OpportunityTable;
  readonly currencies: StringCodes;
  // Columns by opportunity row:
  /** Catalog version code. */
  readonly version: Int32Column;
  /** Stage key of the current stage; NONE while closed. */
  readonly stageKey: Int32Column;
  /** NaN when the opportunity has no amount. */
  readonly amount: Float64Column;
  readonly currency: Int32Column;
  /** Probability of the current stage in the opportunity's own version. */
  readonly probability: Float64Column;
  readonly stageEnteredMs: Float64Column;
  readonly stageEnteredAt: string[];
  readonly titles: string[];
  readonly ids: string[];
  /** OPEN, WON or LOST: the latest outcome (a reopening makes it OPEN again). */
  readonly outcome: Int32Column;
  /** occurredAt of the latest closing, in ms and as written; NaN and '' until the first. */
  readonly closedMs: Float64Column;
  readonly closedAt: string[];
  /** Reason code of the latest loss; NONE when the latest outcome is not a loss. */
  readonly lostReason: Int32Column;
  readonly reasons: StringCodes;
  /** Expected close date (YYYY-MM-DD) as the latest ExpectedCloseDateChanged set it; '' for none. */
  readonly expectedCloseDate: string[];
  /** Next steps written on the latest closing; '' for none. */
  readonly nextSteps: string[];
  /** Criterion ids met in the current visit, in the order met (evolve's criteriaMet); empty while closed. */
  readonly criteriaMet: (readonly string[])[];
  /** Stage key the latest closing closed in; NONE while open (or when closed twice, which a valid log never holds). */
  readonly closedStageKey: Int32Column;
}

export interface PipelineFilter {
  readonly processId?: string;
  readonly teamId?: string;
  readonly ownerId?: string;
}


/** Which closed opportunities to add: outcomes, the window of their latest closing (inclusive) and the cards per section. */
export interface ClosedQuery {
  readonly outcomes: readonly ClosedOutcome[];
  /** ISO 8601 instants with a zone. */
  readonly from: string;
  readonly to: string;
  /** Cards listed per outcome and process, newest first; count and amounts cover the whole window. */
  readonly limit: number;
}

/** The window in whole milliseconds: from the first at or after `from` (requireLowerBound) to the one `to` falls in. */
export function closedWindow(query: Omit<ClosedQuery, 'outcomes'>): ClosedWindow {
  const fromMs = requireLowerBound(query.from, 'closedFrom');
  const toMs = requireInstant(query.to, 'closedTo');
  if (!Number.isInteger(query.limit) || query.limit < 1) throw new RangeError(`closedLimit must be a whole number of at least 1 (got ${query.limit})`);
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), limit: query.limit };
}

export interface PipelineQueryOptions {
  /** Lists the opportunities of each stage, oldest stage entry first (ties by id), and the closed ones asked for. */
  readonly includeOpportunities?: boolean;
  /** With includeOpportunities: at most this many cards per stage (a whole number ≥ 1), the first in the same order. */
  readonly cardsPerColumn?: number;
  /** Adds `won` / `lost` sections per process (the live pipeline only). */
  readonly closed?: ClosedQuery;
  /**
   * The instant (ms) the live board describes, which ages its cards (daysInStage, rotting): the
   * server's clock at the API. Without it cards carry neither. (As of an instant, that instant ages them.)
   */
  readonly nowMs?: number;
}


type PipelineEvent = StageLifeEvent | ExitCriterionMet | ExitCriterionRevoked;

export const pipelineProjection = defineOpportunityProjection<PipelineModel, PipelineEvent>({
  name: 'pipeline',
  handles: [...STAGE_LIFE_EVENTS, 'ExitCriterionMet', 'ExitCriterionRevoked'],
  initial: () => ({
    layout: PIPELINE_MODEL_LAYOUT,
    catalog: createProcessCatalog(),
    table: createOpportunityTable(),
    currencies: createStringCodes(),
    version: int32Column(),
    stageKey: int32Column(),
    amount: float64Column(),
    currency: int32Column(),
    probability: float64Column(),
    stageEnteredMs: float64Column(),
    stageEnteredAt: [],
    titles: [],
    ids: [],
    outcome: int32Column(),
    closedMs: float64Column(),
    closedAt: [],
    lostReason: int32Column(),
    reasons: createStringCodes(),
    expectedCloseDate: [],
    nextSteps: [],
    criteriaMet: [],
    closedStageKey: int32Column(),
  }),
  // A model saved before the closed or criteria columns existed cannot be completed from itself: rebuild it.
  accepts: (saved) => (saved as Partial<PipelineModel> | null)?.layout === PIPELINE_MODEL_LAYOUT,
  opened(model, _row, event, version) {
    const { data } = event;
    const key = stageKeyOf(model.catalog, version!, data.stage);
    pushInt32(model.stageKey, key);
    pushFloat64(model.amount, data.amount ?? NaN);
    pushInt32(model.currency, encode(model.currencies, data.currency));
    pushFloat64(model.probability, version!.probabilityByKey.get(key) ?? 0);
    pushFloat64(model.stageEnteredMs, occurredAtMs(event));
    model.stageEnteredAt.push(data.occurredAt);
    model.titles.push(data.title);
    model.ids.push(data.opportunityId);
    pushInt32(model.outcome, OPEN);
    pushFloat64(model.closedMs, NaN);
    model.closedAt.push('');
    pushInt32(model.lostReason, NONE);
    model.expectedCloseDate.push('');
    model.nextSteps.push('');
    model.criteriaMet.push([]);
    pushInt32(model.closedStageKey, NONE);
  },
  changed(model, row, event, migration) {
    switch (event.type) {
      case 'ExitCriterionMet':
        if (model.stageKey.values[row]! >= 0) model.criteriaMet[row] = [...model.criteriaMet[row]!, event.data.criterionId];
        break;
      case 'ExitCriterionRevoked':
        if (model.stageKey.values[row]! >= 0) model.criteriaMet[row] = model.criteriaMet[row]!.filter((id) => id !== event.data.criterionId);
        break;
      case 'StageChanged':
        enterStage(model, row, event.data.to, event);
        break;
      case 'OpportunityWon':
        close(model, row, WON, event);
        model.lostReason.values[row] = NONE;
        model.nextSteps[row] = event.data.nextSteps ?? '';
        break;
      case 'OpportunityLost':
        close(model, row, LOST, event);
        model.lostReason.values[row] = encode(model.reasons, event.data.reason);
        model.nextSteps[row] = event.data.nextSteps ?? '';
        break;
      case 'ExpectedCloseDateChanged':
        model.expectedCloseDate[row] = event.data.to ?? '';
        break;
      case 'OpportunityReopened':
        enterStage(model, row, event.data.stage, event);
        model.outcome.values[row] = OPEN;
        model.closedStageKey.values[row] = NONE;
        break;
      case 'ProcessMigrated':
        // The visit goes on (same entry time) under the mapped stage, weighted by the new version.
        if (model.stageKey.values[row]! < 0) break;
        model.stageKey.values[row] = migration!.stageKey;
        model.probability.values[row] = migration!.version.probabilityByKey.get(migration!.stageKey) ?? 0;
        model.criteriaMet[row] = [...event.data.criteriaKept];
        break;
      case 'OpportunityDetailsChanged': {
        const { amount, currency, title } = event.data;
        if (amount !== undefined) model.amount.values[row] = amount;
        if (currency !== undefined) model.currency.values[row] = encode(model.currencies, currency);
        if (title !== undefined) model.titles[row] = title;
        break;
      }
    }
  },
});

function close(model: PipelineModel, row: number, outcome: number, event: AtInstant): void {
  model.closedStageKey.values[row] = model.stageKey.values[row]!;
  model.criteriaMet[row] = [];
  model.stageKey.values[row] = NONE;
  model.outcome.values[row] = outcome;
  model.closedMs.values[row] = occurredAtMs(event);
  model.closedAt[row] = event.data.occurredAt;
}

function enterStage(model: PipelineModel, row: number, stageId: string, event: AtInstant): void {
  const version = model.catalog.versions[model.version.values[row]!]!;
  const key = stageKeyOf(model.catalog, version, stageId);
  model.stageKey.values[row] = key;
  model.probability.values[row] = version.probabilityByKey.get(key) ?? 0;
  model.stageEnteredMs.values[row] = occurredAtMs(event);
  model.stageEnteredAt[row] = event.data.occurredAt;
  model.criteriaMet[row] = [];
}

export function queryPipeline(model: PipelineModel, filter: PipelineFilter = {}, options: PipelineQueryOptions = {}): PipelineResult {
  // The pipeline is the present: it takes no from/to, even when the caller's object has them.
  const { nowMs } = options;
  const totals = createStageTotals(model.catalog.stages.length, model.currencies.values, nowMs !== undefined);
  const cap = cardsPerColumnOf(options);
  const entered = model.stageEnteredMs.values;
  const ids = model.ids;
  // Longest in the stage first: oldest stage entry, ties by id.
  const order = (a: number, b: number) => entered[a]! - entered[b]! || compareIds(ids[a]!, ids[b]!);
  const columns = model.catalog.stages.length;
  // Uncapped, a column lists its rows and sorts them; capped, it picks its first `cap` as the rows
  // go by, offered in row order as firstInOrder would be.
  const listed: number[][] | undefined = options.includeOpportunities && cap === undefined ? Array.from({ length: columns }, () => []) : undefined;
  const picked: FirstInOrder[] | undefined = options.includeOpportunities && cap !== undefined ? Array.from({ length: columns }, () => new FirstInOrder(cap, order)) : undefined;
  const closed = options.closed ? closedSelection(model, options.closed) : undefined;
  const stages = model.catalog.stages;

  const stageKey = model.stageKey.values;
  const amount = model.amount.values;
  const currency = model.currency.values;
  const probability = model.probability.values;
  const rows = model.table.rows;
  // One pass over the rows, open and closed alike, each in row order (the order the sums are
  // added in). The filter is checked only for rows that count (an open row, or a closing in the
  // window), by its codes: no array of matches is built per query.
  const codes = codesOf(model.table, filter);
  if (codes !== undefined) {
    const process = model.table.process.values;
    const team = model.table.team.values;
    const owner = model.table.owner.values;
    const { processCode, teamCode, ownerCode } = codes;
    for (let row = 0; row < rows; row++) {
      const key = stageKey[row]!;
      if (key < 0) {
        if (closed === undefined || !closed.inWindow(row)) continue;
      }
      if ((processCode >= 0 && process[row] !== processCode) || (teamCode >= 0 && team[row] !== teamCode) || (ownerCode >= 0 && owner[row] !== ownerCode)) continue;
      if (key < 0) {
        closed!.take(row);
        continue;
      }
      totals.add(key, amount[row]!, probability[row]!, currency[row]!);
      if (nowMs !== undefined && isRotting(entered[row]!, stages[key]!.rotAfterDays, nowMs)) totals.addRotting(key);
      if (listed) listed[key]!.push(row);
      else if (picked) {
        const column = picked[key]!;
        // A full column's worst card entered earlier: order would not put this row before it.
        // The same test as order's (a NaN entry time never passes it, and goes to order).
        if (column.full && entered[row]! > entered[column.heap[0]!]!) continue;
        column.offer(row);
      }
    }
  }

  const result: PipelineResult = {
    processes: processesOf(model.catalog, filter.processId).map((process): PipelineProcess => ({
      processId: process.processId,
      stages: stageOrderOf(process).map((key): PipelineStage => {
        const stage = totals.stageOf(model.catalog.stages[key]!);
        if (listed) return withCards(stage, listed[key]!.sort(order).map((row) => openCardOf(model, row)), cap, options.nowMs);
        return picked ? withCards(stage, picked[key]!.sorted().map((row) => openCardOf(model, row)), cap, options.nowMs) : stage;
      }),
      ...(closed ? closed.sectionsOf(process.processId, options.includeOpportunities === true) : {}),
    })),
  };
  return closed ? { ...result, closed: closed.window } : result;
}

/**
 * The codes a filter asks for (NONE: any), as matchRows reads them; undefined when it names a
 * process, team or owner never seen, which selects no row.
 */
function codesOf(table: OpportunityTable, filter: PipelineFilter): { processCode: number; teamCode: number; ownerCode: number } | undefined {
  const processCode = filter.processId === undefined ? NONE : table.processes.codeOf.get(filter.processId);
  const teamCode = filter.teamId === undefined ? NONE : table.teams.codeOf.get(filter.teamId);
  const ownerCode = filter.ownerId === undefined ? NONE : table.owners.codeOf.get(filter.ownerId);
  if (processCode === undefined || teamCode === undefined || ownerCode === undefined) return undefined;
  return { processCode, teamCode, ownerCode };
}

/**
 * Collects the closed rows of a query's window by process and outcome (process code × 2 + outcome − 1),
 * then answers each process's sections. Only rows closed in the window are kept, so picking
 * the newest cards costs the window's closings, not the whole history.
 */
function closedSelection(model: PipelineModel, query: ClosedQuery) {
  const window = closedWindow(query);
  const fromMs = Date.parse(window.from);
  const toMs = Date.parse(window.to);
  const wanted = new Uint8Array(3);
  for (const outcome of query.outcomes) wanted[outcome === 'won' ? WON : LOST] = 1;
  const outcome = model.outcome.values;
  const closedMs = model.closedMs.values;
  const process = model.table.process.values;
  const buckets: number[][] = [];
  return {
    window,
    /** Whether a closed row's latest outcome is one asked for, closed within the window. */
    inWindow(row: number): boolean {
      const at = closedMs[row]!;
      return wanted[outcome[row]!] === 1 && at >= fromMs && at <= toMs;
    },
    /** Keeps a row inWindow said yes to (and the filter selects), in row order. */
    take(row: number): void {
      (buckets[process[row]! * 2 + outcome[row]! - 1] ??= []).push(row);
    },
    sectionsOf(processId: string, withCards: boolean): { won?: ClosedSection; lost?: ClosedSection } {
      const code = model.table.processes.codeOf.get(processId);
      const section = (kind: number) => closedSection(model, code === undefined ? [] : (buckets[code * 2 + kind - 1] ?? []), kind === LOST, withCards ? window.limit : 0);
      return { ...(wanted[WON] === 1 ? { won: section(WON) } : {}), ...(wanted[LOST] === 1 ? { lost: section(LOST) } : {}) };
    },
  };
}

function closedSection(model: PipelineModel, rows: number[], lost: boolean, limit: number): ClosedSection {
  const amounts = model.amount.values;
  const currencies = model.currency.values;
  // Exact sums (exact-amounts.ts), keys in the order the rows first name them.
  const sums = new Map<string, ExactSum>();
  for (const row of rows) {
    const value = amounts[row]!;
    if (Number.isNaN(value)) continue; // counted, adds nothing
    const code = currencies[row]!;
    const currency = code < 0 ? NO_CURRENCY : model.currencies.values[code]!;
    let sum = sums.get(currency);
    if (!sum) sums.set(currency, (sum = new ExactSum()));
    sum.add(unitsOf(value));
  }
  const amountsByCurrency = dictionary<number>();
  for (const [currency, sum] of sums) amountsByCurrency[currency] = sum.value();
  const figures = { count: rows.length, amount: soleCurrencyTotal(amountsByCurrency), amountsByCurrency };
  if (limit === 0) return figures;
  const closedMs = model.closedMs.values;
  const ids = model.ids;
  // Rows closed in the window have a closing time (never NaN) and distinct ids: a total order, so
  // the bounded heap picks exactly what sorting them all and keeping the first `limit` would.
  const newest = firstInOrder(rows, limit, (a, b) => closedMs[b]! - closedMs[a]! || compareIds(ids[a]!, ids[b]!));
  return { ...figures, opportunities: newest.map((row) => closedCardOf(model, row, lost)) };
}

// Cards are written as one object literal each, with their keys in the order the API has always
// sent them: building a card by spreading a shared part into it cost more than the rest of a
// capped board's query.

/** A closed card: what every card shows, then the closing. */
function closedCardOf(model: PipelineModel, row: number, lost: boolean): ClosedOpportunity {
  const { table } = model;
  const team = table.team.values[row]!;
  const owner = table.owner.values[row]!;
  const amount = model.amount.values[row]!;
  const currency = model.currency.values[row]!;
  const closedIn = model.closedStageKey.values[row]!;
  const id = model.ids[row]!;
  const title = model.titles[row]!;
  const ownerId = owner < 0 ? null : table.owners.values[owner]!;
  const teamId = team < 0 ? null : table.teams.values[team]!;
  const money = Number.isNaN(amount) ? null : amount;
  const currencyId = currency < 0 ? null : model.currencies.values[currency]!;
  const closedAt = model.closedAt[row]!;
  const closedInStage = closedIn < 0 ? null : model.catalog.stages[closedIn]!.stageId;
  const nextSteps = model.nextSteps[row] || null;
  // Its own version's rules decide a reopening: the board asks that version's moves.
  const processVersion = model.catalog.versions[model.version.values[row]!]!.version;
  if (!lost) return { id, title, ownerId, teamId, amount: money, currency: currencyId, closedAt, closedInStage, nextSteps, processVersion };
  const reason = model.lostReason.values[row]!;
  const lostReason = reason < 0 ? null : model.reasons.values[reason]!;
  return { id, title, ownerId, teamId, amount: money, currency: currencyId, closedAt, closedInStage, lostReason, nextSteps, processVersion };
}

/** An open card: what every card shows, then its visit of the current stage. */
function openCardOf(model: PipelineModel, row: number): PipelineOpportunity {
  const { table } = model;
  const team = table.team.values[row]!;
  const owner = table.owner.values[row]!;
  const amount = model.amount.values[row]!;
  const currency = model.currency.values[row]!;
  return {
    id: model.ids[row]!,
    title: model.titles[row]!,
    ownerId: owner < 0 ? null : table.owners.values[owner]!,
    teamId: team < 0 ? null : table.teams.values[team]!,
    amount: Number.isNaN(amount) ? null : amount,
    currency: currency < 0 ? null : model.currencies.values[currency]!,
    stageEnteredAt: model.stageEnteredAt[row]!,
    expectedCloseDate: model.expectedCloseDate[row] || null,
    criteria: criteriaProgressOf(model.catalog.versions[model.version.values[row]!]!, model.stageKey.values[row]!, model.criteriaMet[row]!),
    processVersion: model.catalog.versions[model.version.values[row]!]!.version,
  };
}

/** The cap asked for, checked (the API validates it, with its own maximum, first; a library caller gets a RangeError). */
export function cardsPerColumnOf(options: PipelineQueryOptions): number | undefined {
  const cap = options.cardsPerColumn;
  if (cap === undefined) return undefined;
  if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`cardsPerColumn must be a whole number of at least 1 (got ${cap})`);
  return cap;
}

const STATUS_OF = ['open', 'won', 'lost'] as const;

/**
 * GET /opportunities?q= (opportunity-search.ts): the rows newest first (rows are in the order deals
 * were opened), each checked against the filters by its codes before its text is folded.
 */
export function querySearchOpportunities(model: PipelineModel, query: OpportunitySearchQuery): OpportunitySearchResult {
  const needle = searchNeedle(query.q);
  const page = new SearchPage(searchLimitOf(query));
  const codes = codesOf(model.table, query);
  const { table, ids, titles } = model;
  const wanted = query.statuses === undefined ? undefined : new Set(query.statuses);
  const ownerHolds = ownerMatcher(needle);
  // The filters of the question (process, team, owner): a caller limited to a team has it among them.
  const inScope = (row: number): boolean =>
    codes !== undefined &&
    (codes.processCode === NONE || table.process.values[row] === codes.processCode) &&
    (codes.teamCode === NONE || table.team.values[row] === codes.teamCode) &&
    (codes.ownerCode === NONE || table.owner.values[row] === codes.ownerCode);
  const matches = (row: number): boolean => {
    if (!inScope(row)) return false;
    if (wanted !== undefined && !wanted.has(STATUS_OF[model.outcome.values[row]!]!)) return false;
    const owner = table.owner.values[row]!;
    return dealMatches(needle, ownerHolds(owner < 0 ? null : table.owners.values[owner]!), titles[row]!, ids[row]!);
  };
  let start = table.rows - 1;
  if (query.after !== undefined) {
    // The cursor is a deal of the question's filters (it may have been won or renamed since its page):
    // one outside them would say where a deal the caller may not see stands.
    const row = table.indexById.get(query.after);
    if (row === undefined || !inScope(row)) throw new SearchCursorError(query.after);
    start = row - 1;
  }
  for (let row = start; row >= 0; row--) {
    if (!matches(row)) continue;
    if (!page.add(searchHitOf(model, row))) break;
  }
  return page.result();
}

function searchHitOf(model: PipelineModel, row: number): OpportunitySearchHit {
  const { table } = model;
  const team = table.team.values[row]!;
  const owner = table.owner.values[row]!;
  const amount = model.amount.values[row]!;
  const currency = model.currency.values[row]!;
  const status = STATUS_OF[model.outcome.values[row]!]!;
  const stageKey = model.stageKey.values[row]!;
  return {
    id: model.ids[row]!,
    title: model.titles[row]!,
    processId: table.processes.values[table.process.values[row]!]!,
    processVersion: model.catalog.versions[model.version.values[row]!]!.version,
    status,
    stageId: status === 'open' && stageKey >= 0 ? model.catalog.stages[stageKey]!.stageId : null,
    closedAt: status === 'open' ? null : new Date(model.closedMs.values[row]!).toISOString(),
    ownerId: owner < 0 ? null : table.owners.values[owner]!,
    teamId: team < 0 ? null : table.teams.values[team]!,
    amount: Number.isNaN(amount) ? null : amount,
    currency: currency < 0 ? null : model.currencies.values[currency]!,
  };
}

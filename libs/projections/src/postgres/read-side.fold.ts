import { reachAfterMigration, withEnteredRank } from '../funnel-reach';
import { parseCalendarDay, type OpportunityDetails, type OpportunityEvent, type OpportunityOpened, type ProcessMigrated } from '@stagecraft/opportunity';
import { createProcessCatalog, recordProcessVersion, stageKeyOf, versionOf, PROCESS_STREAM_PREFIX, type CatalogVersion, type ProcessCatalog } from '../process-catalog';
import { opportunityIdOf, requireOccurredAtMs, STAGE_LIFE_EVENTS } from '../projection.helpers';
import type { ProjectedEvent } from '../projection.types';
import { deserializeCatalog, serializeCatalog, type SerializedCatalog } from './catalog.serialization';

// The PostgreSQL read side's fold: what the six in-memory read models compute, event by event,
// written as rows instead of kept in columns (docs/read-models-postgres.md). Each rule below
// mirrors a projection file; where they say "stage key", "row order" or "code order" this keeps the
// same numbers, so the queries can add floats in the same order and list keys in the same order as
// the in-memory models do, and answer the same JSON to the last bit.
//
// Pure: the projector hands it the events of a batch and the current records of the opportunities
// they touch, and writes what it returns (`ReadSideChanges`) in one transaction with the checkpoint.

/** Events the read side reads (the store may filter on them). */
export const READ_SIDE_EVENT_TYPES: readonly string[] = [...STAGE_LIFE_EVENTS, 'ExitCriterionMet', 'ExitCriterionRevoked'];

export type Outcome = 'open' | 'won' | 'lost';
/** Transition ends that are not stages (transitions.projection.ts). */
export const WON_END = -1;
export const LOST_END = -2;

/** One opportunity as the read side keeps it: a row of `opportunities`. */
export interface OpportunityRecord {
  readonly id: string;
  /** Position of its opening in the log: the row order every in-memory model sums in. */
  readonly openedPosition: number;
  readonly processId: string;
  /** Catalog version code of the version it runs on now. */
  versionCode: number;
  title: string;
  teamId: string | null;
  ownerId: string | null;
  /** null: no amount. */
  amount: number | null;
  currency: string | null;
  readonly openedMs: number;
  /** The latest outcome; a reopening makes it open again. */
  status: Outcome;
  /** Stage key of the current stage; -1 while closed (pipeline.projection.ts). */
  stageKey: number;
  stageEnteredMs: number;
  /** Probability of the current stage in its own version, read on entering it (or migrating). */
  probability: number;
  closedMs: number | null;
  /** Reason of the latest loss; null when the latest outcome is not a loss. */
  lostReason: string | null;
  /** The latest win's amount (the event's, else the opportunity's); null: won without one. */
  wonAmount: number | null;
  wonCurrency: string | null;
  /** Won reason of the latest closing while status = won; null otherwise or without one. */
  wonReason: string | null;
  /** Next steps written on the latest closing; null when none (or never closed). */
  nextSteps: string | null;
  /** Highest rank, in its own version's order, of any stage entered (funnel.projection.ts). */
  maxRank: number;
  /** The ranks, in its own version's order, of the stages entered, as bits (funnel-reach.ts): what a migration carries over. */
  enteredRanks: number;
  everWon: boolean;
  /** Visits so far; the open one (while stageKey ≥ 0) is number `visits`. */
  visits: number;
  /** The current board segment (stage-intervals.projection.ts): where it started; null while closed. */
  segmentPosition: number | null;
  segmentStartMs: number;
  segmentProbability: number;
  /** Position of the latest closing (a row of `outcomes`); null when never closed. */
  lastClosingPosition: number | null;
  updatedPosition: number;
  /** Expected close date as days since 1970-01-01; null: none. */
  expectedDay: number | null;
  /** Criterion ids met in the current visit, in the order met (pipeline.projection.ts); empty while closed. */
  criteriaMet: string[];
  /** Whether it ever went backward or was reopened (`opportunities.set_back`: it has a row in deal_setbacks). */
  setBack: boolean;
}

export interface VisitRow {
  readonly opportunityId: string;
  readonly visitNo: number;
  readonly processId: string;
  readonly version: string;
  readonly stageKey: number;
  /**
   * The stage key and version the visit was entered in (stage_visits.entered_stage_id and
   * entered_process_version): a migration relabels stageKey and version, never these. Known when
   * the visit begins in the batch (then carried); null for a visit begun in an earlier batch, whose
   * stored row keeps its own (the writer never updates them).
   */
  readonly enteredStageKey: number | null;
  readonly enteredVersion: string | null;
  readonly enteredMs: number;
  readonly leftMs: number | null;
  /** Stage key, WON_END or LOST_END; null while open. */
  readonly leftTo: number | null;
  readonly seconds: number | null;
  /** Duration in whole milliseconds (stage_visits.duration_ms); null while open. */
  readonly ms: number | null;
  readonly endedPosition: number | null;
  readonly teamId: string | null;
  readonly ownerId: string | null;
  readonly amount: number | null;
  readonly currency: string | null;
}

export interface SegmentRow {
  readonly startedPosition: number;
  readonly opportunityId: string;
  readonly processId: string;
  readonly startMs: number;
  readonly endMs: number | null;
  readonly stageKey: number;
  readonly probability: number;
  readonly amount: number | null;
  readonly currency: string | null;
  readonly teamId: string | null;
  readonly ownerId: string | null;
  readonly enteredMs: number;
  readonly title: string;
  readonly expectedDay: number | null;
  /** Whether the deal had gone backward or been reopened by the event that began it, that event included (board_segments.set_back). */
  readonly setBack: boolean;
}

export interface TransitionRow {
  readonly position: number;
  readonly opportunityId: string;
  readonly processId: string;
  /** Stage key, WON_END or LOST_END. */
  readonly from: number;
  readonly to: number;
  readonly kind: 'forward' | 'backward' | 'won' | 'lost' | 'reopened';
  readonly atMs: number;
  readonly pairNo: number;
}

export interface OutcomeRow {
  readonly position: number;
  readonly opportunityId: string;
  readonly processId: string;
  readonly outcome: 'won' | 'lost';
  /** Stage key it closed from; -1 when it was already closed (a log that breaks the rules). */
  readonly stageKey: number;
  readonly reason: string | null;
  readonly amount: number | null;
  readonly currency: string | null;
  readonly closedMs: number;
  readonly teamId: string | null;
  readonly ownerId: string | null;
}

export interface TransitionPair {
  readonly pairNo: number;
  readonly from: number;
  readonly to: number;
  count: number;
}

/**
 * Everything besides the rows of opportunities: small (it grows with processes, stages, currencies
 * and reasons, never with events), kept by the projector in memory and saved with each checkpoint.
 */
export interface ReadSideState {
  readonly catalog: ProcessCatalog;
  /** Currencies and lost reasons in order of first appearance: the order of keys in the API's maps. */
  readonly currencies: string[];
  readonly reasons: string[];
  /** Transition pairs in order of first appearance: the order of the matrix's keys. */
  readonly pairs: TransitionPair[];
  readonly pairByKey: Map<number, TransitionPair>;
  /** Per stage key: completed visits and their seconds added in the order they ended (stage_visit_totals; the API's mean is the exact sum of ms instead, stage_duration_buckets.ms_sum). */
  readonly visitTotals: Map<number, { count: number; sum: number }>;
}

export interface SerializedReadSideState {
  readonly catalog: SerializedCatalog;
  readonly currencies: readonly string[];
  readonly reasons: readonly string[];
}

export const createReadSideState = (): ReadSideState => ({ catalog: createProcessCatalog(), currencies: [], reasons: [], pairs: [], pairByKey: new Map(), visitTotals: new Map() });

export function serializeReadSideState(state: ReadSideState): SerializedReadSideState {
  return { catalog: serializeCatalog(state.catalog), currencies: [...state.currencies], reasons: [...state.reasons] };
}

export function restoreReadSideState(
  saved: SerializedReadSideState,
  pairs: readonly TransitionPair[],
  totals: readonly { stageKey: number; count: number; sum: number }[],
): ReadSideState {
  const state: ReadSideState = {
    catalog: deserializeCatalog(saved.catalog),
    currencies: [...saved.currencies],
    reasons: [...saved.reasons],
    pairs: [...pairs].sort((a, b) => a.pairNo - b.pairNo).map((pair) => ({ ...pair })),
    pairByKey: new Map(),
    visitTotals: new Map(totals.map(({ stageKey, count, sum }) => [stageKey, { count, sum }])),
  };
  for (const pair of state.pairs) state.pairByKey.set(pairKey(pair.from, pair.to), pair);
  return state;
}

// Stage keys stay far below 2^21 (as in transitions.projection.ts).
const pairKey = (from: number, to: number) => (from + 2) * 2_097_152 + (to + 2);

/** What a batch changed: written by the projector in one transaction with the checkpoint. */
export interface ReadSideChanges {
  readonly opportunities: Map<string, OpportunityRecord>;
  /** By `opportunityId/visitNo`: the visit as it stands after the batch. */
  readonly visits: Map<string, VisitRow>;
  /** By started position. */
  readonly segments: Map<number, SegmentRow>;
  readonly transitions: TransitionRow[];
  readonly outcomes: OutcomeRow[];
  /** Closings (positions) reopened, with when. */
  readonly reopened: Map<number, number>;
  /** Pair numbers whose count changed. */
  readonly pairs: Set<number>;
  readonly visitTotals: Set<number>;
  /** The catalog or the code lists changed (saved with the checkpoint). */
  catalogChanged: boolean;
  /** Opportunities whose team or owner changed: their earlier visits are filed under the new ones (stage_visits.current_team_id). */
  readonly reassigned: Set<string>;
  /**
   * An event of the batch began, ended or closed a board segment of an opportunity at a time
   * before that opportunity's previous such event, or at no time (checkpoint.times_unordered): a
   * log the API never writes (it refuses an occurredAt before the stream's last event), but one the
   * fold accepts. board_segments.set_back then no longer tells the setback as of every instant.
   */
  timesUnordered: boolean;
}

export const emptyChanges = (): ReadSideChanges => ({
  opportunities: new Map(),
  visits: new Map(),
  segments: new Map(),
  transitions: [],
  outcomes: [],
  reopened: new Map(),
  reassigned: new Set(),
  pairs: new Set(),
  visitTotals: new Set(),
  catalogChanged: false,
  timesUnordered: false,
});

/**
 * Ids of the opportunities a batch touches that may already have a row, so the projector can load
 * their records first. An opportunity whose first event in the batch opens its stream (revision 0)
 * has none: nothing of its stream came before, and only its own stream speaks for it
 * (opportunityIdOf). Asking for those anyway cost a first fold a lookup of every new deal, ~0.2 s a
 * batch of 20,000 events at 1M (mostly hidden behind the main thread's own work, docs/benchmark-log.md).
 */
export function opportunityIdsOf(events: readonly (ProjectedEvent & { readonly revision?: number })[]): Set<string> {
  const ids = new Set<string>();
  const opening = new Set<string>();
  for (const event of events) {
    if (!READ_SIDE_EVENT_TYPES.includes(event.type) || event.type === 'ProcessVersionRecorded') continue;
    const id = opportunityIdOf(event as unknown as { stream: string; data: { opportunityId?: unknown } });
    if (id === undefined || opening.has(id) || ids.has(id)) continue;
    if (event.type === 'OpportunityOpened' && event.revision === 0) opening.add(id);
    else ids.add(id);
  }
  return ids;
}

type Lookup = (id: string) => OpportunityRecord | undefined;

/**
 * Folds one event. `lookup` answers the records of opportunities already opened (from the
 * projector's cache or the database); new and changed records land in `changes.opportunities`,
 * which the caller also consults first.
 */
export function foldEvent(state: ReadSideState, changes: ReadSideChanges, lookup: Lookup, event: ProjectedEvent): void {
  if (!READ_SIDE_EVENT_TYPES.includes(event.type)) return;
  if (event.type === 'ProcessVersionRecorded') {
    if (!event.stream.startsWith(PROCESS_STREAM_PREFIX)) return;
    recordProcessVersion(state.catalog, event.data as never);
    changes.catalogChanged = true;
    return;
  }
  const id = opportunityIdOf(event as unknown as { stream: string; data: { opportunityId?: unknown } });
  if (id === undefined) return;
  const typed = event as unknown as OpportunityEvent & { position: number };
  const known = changes.opportunities.get(id) ?? lookup(id);
  if (typed.type === 'OpportunityOpened') {
    if (known) return; // the first opening stands
    opened(state, changes, typed as OpportunityOpened & { position: number }, requireOccurredAtMs(typed));
    return;
  }
  if (!known) return; // an opportunity never opened
  // As every in-memory model does: a time that is not an instant stops the fold, naming the event.
  const at = requireOccurredAtMs(typed);
  const record = known;
  changes.opportunities.set(id, record);
  record.updatedPosition = event.position;
  const fold = new RecordFold(state, changes, record, event.position, at);
  switch (typed.type) {
    case 'ExitCriterionMet':
      if (record.stageKey >= 0) record.criteriaMet = [...record.criteriaMet, typed.data.criterionId];
      break;
    case 'ExitCriterionRevoked':
      if (record.stageKey >= 0) record.criteriaMet = record.criteriaMet.filter((criterionId) => criterionId !== typed.data.criterionId);
      break;
    case 'StageChanged':
      fold.enter(typed.data.to, typed.data.direction === 'backward' ? 'backward' : 'forward');
      break;
    case 'OpportunityWon':
      fold.close('won', typed.data.amount, typed.data.reason, typed.data.nextSteps);
      break;
    case 'OpportunityLost':
      fold.close('lost', undefined, typed.data.reason, typed.data.nextSteps);
      break;
    case 'OpportunityReopened':
      fold.reopen(typed.data.stage);
      break;
    case 'OpportunityDetailsChanged':
      fold.details(typed.data);
      break;
    case 'ProcessMigrated':
      fold.migrate(typed.data);
      break;
    case 'ExpectedCloseDateChanged':
      fold.expectedClose(typed.data.to === null ? null : (parseCalendarDay(typed.data.to) ?? null));
      break;
    default:
      break;
  }
}

function opened(state: ReadSideState, changes: ReadSideChanges, event: OpportunityOpened & { position: number }, at: number): void {
  const { data } = event;
  const { catalog } = state;
  const versionsBefore = catalog.versions.length;
  const stagesBefore = catalog.stages.length;
  const version = versionOf(catalog, data.processId, data.processVersion);
  const key = stageKeyOf(catalog, version, data.stage);
  changes.catalogChanged ||= catalog.versions.length !== versionsBefore || catalog.stages.length !== stagesBefore;
  const currency = typeof data.currency === 'string' ? data.currency : null;
  if (currency !== null) encode(state, changes, state.currencies, currency);
  const record: OpportunityRecord = {
    id: data.opportunityId,
    openedPosition: event.position,
    processId: data.processId,
    versionCode: version.code,
    title: data.title,
    teamId: typeof data.teamId === 'string' ? data.teamId : null,
    ownerId: typeof data.ownerId === 'string' ? data.ownerId : null,
    amount: typeof data.amount === 'number' ? data.amount : null,
    currency,
    openedMs: at,
    status: 'open',
    stageKey: key,
    stageEnteredMs: at,
    probability: version.probabilityByKey.get(key) ?? 0,
    closedMs: null,
    lostReason: null,
    wonAmount: null,
    wonCurrency: null,
    wonReason: null,
    nextSteps: null,
    maxRank: version.rankByKey.get(key)!,
    enteredRanks: withEnteredRank(0, version.rankByKey.get(key)!),
    everWon: false,
    visits: 1,
    segmentPosition: null,
    segmentStartMs: at,
    segmentProbability: 0,
    lastClosingPosition: null,
    updatedPosition: event.position,
    expectedDay: null,
    criteriaMet: [],
    setBack: false,
  };
  changes.opportunities.set(record.id, record);
  const fold = new RecordFold(state, changes, record, event.position, at);
  fold.putOpenVisit(true);
  fold.startSegment();
}

function encode(_state: ReadSideState, changes: ReadSideChanges, codes: string[], value: string): void {
  if (codes.includes(value)) return;
  codes.push(value);
  changes.catalogChanged = true;
}

/** The changes one event makes to one opportunity's record and rows. */
class RecordFold {
  constructor(
    private readonly state: ReadSideState,
    private readonly changes: ReadSideChanges,
    private readonly record: OpportunityRecord,
    private readonly position: number,
    private readonly at: number,
  ) {}

  private get version(): CatalogVersion {
    return this.state.catalog.versions[this.record.versionCode]!;
  }

  private keyOf(stageId: string): number {
    const { catalog } = this.state;
    const before = catalog.stages.length;
    const versionBefore = this.version.stageKeys.length;
    const key = stageKeyOf(catalog, this.version, stageId);
    this.changes.catalogChanged ||= catalog.stages.length !== before || this.version.stageKeys.length !== versionBefore;
    return key;
  }

  /** StageChanged: the visit ends, the next begins; a transition; a new board segment. */
  enter(stageId: string, direction: 'forward' | 'backward'): void {
    const key = this.keyOf(stageId);
    this.endVisit(key);
    this.transition(key, direction);
    this.endSegment();
    this.setStage(key);
    this.record.visits += 1;
    this.putOpenVisit(true);
    this.startSegment();
  }

  reopen(stageId: string): void {
    const { record } = this;
    const key = this.keyOf(stageId);
    if (record.lastClosingPosition !== null && record.stageKey < 0) this.changes.reopened.set(record.lastClosingPosition, this.at);
    this.transition(key, 'reopened');
    this.endSegment();
    this.setStage(key);
    record.status = 'open';
    // A reopening starts a visit without ending one: a visit open before it (only in a log that
    // breaks the rules) is left as it was, as stage-durations.projection.ts leaves it.
    record.visits += 1;
    this.putOpenVisit(true);
    this.startSegment();
  }

  close(outcome: 'won' | 'lost', eventAmount: number | undefined, reason: string | undefined, nextSteps: string | undefined): void {
    const { record, state } = this;
    this.keepTimeOrder(); // also a closing of a deal already closed: it moves closedMs
    const end = outcome === 'won' ? WON_END : LOST_END;
    const closedFrom = record.stageKey;
    this.endVisit(end);
    this.transition(end, outcome);
    this.endSegment();
    record.stageKey = -1;
    record.criteriaMet = [];
    record.status = outcome;
    record.closedMs = this.at;
    record.nextSteps = typeof nextSteps === 'string' ? nextSteps : null;
    record.wonReason = outcome === 'won' && typeof reason === 'string' ? reason : null;
    if (outcome === 'won') {
      record.everWon = true;
      record.lostReason = null;
      // Won without an amount (none on the event, none on the opportunity): adds nothing.
      const amount = typeof eventAmount === 'number' ? eventAmount : record.amount;
      record.wonAmount = amount;
      record.wonCurrency = amount === null ? null : record.currency;
    } else {
      record.lostReason = typeof reason === 'string' ? reason : null;
      if (record.lostReason !== null) encode(state, this.changes, state.reasons, record.lostReason);
    }
    record.lastClosingPosition = this.position;
    this.changes.outcomes.push({
      position: this.position,
      opportunityId: record.id,
      processId: record.processId,
      outcome,
      stageKey: closedFrom,
      reason: outcome === 'lost' ? record.lostReason : null,
      amount: outcome === 'won' ? record.wonAmount : record.amount,
      currency: record.currency,
      closedMs: this.at,
      teamId: record.teamId,
      ownerId: record.ownerId,
    });
  }

  details(data: Partial<OpportunityDetails>): void {
    const { record, state } = this;
    let changed = false;
    if (typeof data.teamId === 'string' && data.teamId !== record.teamId) {
      record.teamId = data.teamId;
      this.changes.reassigned.add(record.id);
      changed = true;
    }
    if (typeof data.ownerId === 'string' && data.ownerId !== record.ownerId) {
      record.ownerId = data.ownerId;
      this.changes.reassigned.add(record.id);
      changed = true;
    }
    if (data.amount !== undefined && data.amount !== record.amount) {
      record.amount = typeof data.amount === 'number' ? data.amount : null;
      changed = true;
    }
    if (data.currency !== undefined) {
      const currency = typeof data.currency === 'string' ? data.currency : null;
      if (currency !== null) encode(state, this.changes, state.currencies, currency);
      if (currency !== record.currency) changed = true;
      record.currency = currency;
    }
    if (data.title !== undefined && data.title !== record.title) {
      record.title = data.title;
      changed = true;
    }
    if (record.stageKey >= 0) {
      this.putOpenVisit();
      if (changed) {
        this.endSegment();
        this.startSegment();
      }
    }
  }

  /** As stage-intervals.projection.ts: a new board segment when the day moves while open. */
  expectedClose(day: number | null): void {
    const { record } = this;
    if (day === record.expectedDay) return;
    record.expectedDay = day;
    if (record.segmentPosition !== null) {
      this.endSegment();
      this.startSegment();
    }
  }

  migrate(data: ProcessMigrated['data']): void {
    const { record, state } = this;
    const { catalog } = state;
    const from = this.version;
    const versionsBefore = catalog.versions.length;
    const version = versionOf(catalog, from.process.processId, data.toVersion);
    this.changes.catalogChanged ||= catalog.versions.length !== versionsBefore;
    record.versionCode = version.code;
    const key = this.keyOf(data.toStage);
    // Funnel: every stage entered that the new version has carries over by its id, with the stage
    // the deal goes on in (the mapping moves the open visit only: funnel-reach.ts).
    const reach = reachAfterMigration(from, version, { maxRank: record.maxRank, entered: record.enteredRanks }, key);
    record.maxRank = reach.maxRank;
    record.enteredRanks = reach.entered;
    if (record.stageKey < 0) return;
    // The visit goes on (same entry time) under the mapped stage, weighted by the new version.
    record.stageKey = key;
    record.probability = version.probabilityByKey.get(key) ?? 0;
    record.criteriaMet = [...data.criteriaKept];
    this.putOpenVisit();
    this.endSegment();
    this.startSegment();
  }

  private setStage(key: number): void {
    const { record } = this;
    record.stageKey = key;
    record.probability = this.version.probabilityByKey.get(key) ?? 0;
    record.stageEnteredMs = this.at;
    record.criteriaMet = [];
    const rank = this.version.rankByKey.get(key)!;
    if (rank > record.maxRank) record.maxRank = rank;
    record.enteredRanks = withEnteredRank(record.enteredRanks, rank);
  }

  /** The open visit as it stands (its team, owner and amount are the current ones until it ends); `begins`: the event entered it. */
  putOpenVisit(begins = false): void {
    const { record } = this;
    this.changes.visits.set(`${record.id}/${record.visits}`, {
      opportunityId: record.id,
      visitNo: record.visits,
      processId: record.processId,
      version: this.version.version,
      stageKey: record.stageKey,
      ...(begins ? { enteredStageKey: record.stageKey, enteredVersion: this.version.version } : this.openVisitEntry()),
      enteredMs: record.stageEnteredMs,
      leftMs: null,
      leftTo: null,
      seconds: null,
      ms: null,
      endedPosition: null,
      teamId: record.teamId,
      ownerId: record.ownerId,
      amount: record.amount,
      currency: record.currency,
    });
  }

  /** The stage and version the open visit was entered in, when it began in this batch; null otherwise (its stored row keeps them). */
  private openVisitEntry(): Pick<VisitRow, 'enteredStageKey' | 'enteredVersion'> {
    const { record } = this;
    const written = this.changes.visits.get(`${record.id}/${record.visits}`);
    return { enteredStageKey: written?.enteredStageKey ?? null, enteredVersion: written?.enteredVersion ?? null };
  }

  private endVisit(to: number): void {
    const { record, state } = this;
    const key = record.stageKey;
    if (key < 0) return;
    // Whole milliseconds, as the in-memory model keeps them (stage-durations.projection.ts); seconds = ms / 1000.
    const ms = this.at - record.stageEnteredMs;
    const seconds = ms / 1000;
    this.changes.visits.set(`${record.id}/${record.visits}`, {
      opportunityId: record.id,
      visitNo: record.visits,
      processId: record.processId,
      version: this.version.version,
      stageKey: key,
      ...this.openVisitEntry(),
      enteredMs: record.stageEnteredMs,
      leftMs: this.at,
      leftTo: to,
      seconds,
      ms,
      endedPosition: this.position,
      teamId: record.teamId,
      ownerId: record.ownerId,
      amount: record.amount,
      currency: record.currency,
    });
    let totals = state.visitTotals.get(key);
    if (!totals) state.visitTotals.set(key, (totals = { count: 0, sum: 0 }));
    totals.count += 1;
    totals.sum += seconds;
    this.changes.visitTotals.add(key);
  }

  private transition(to: number, kind: TransitionRow['kind']): void {
    const { record, state } = this;
    const from = record.stageKey >= 0 ? record.stageKey : record.status === 'won' ? WON_END : LOST_END;
    const key = pairKey(from, to);
    let pair = state.pairByKey.get(key);
    if (!pair) {
      pair = { pairNo: state.pairs.length, from, to, count: 0 };
      state.pairs.push(pair);
      state.pairByKey.set(key, pair);
    }
    pair.count += 1;
    this.changes.pairs.add(pair.pairNo);
    if (kind === 'backward' || kind === 'reopened') record.setBack = true;
    this.changes.transitions.push({ position: this.position, opportunityId: record.id, processId: record.processId, from, to, kind, atMs: this.at, pairNo: pair.pairNo });
  }

  startSegment(): void {
    const { record } = this;
    this.keepTimeOrder();
    record.segmentPosition = this.position;
    record.segmentStartMs = this.at;
    record.segmentProbability = this.version.probabilityByKey.get(record.stageKey) ?? 0;
    this.changes.segments.set(this.position, this.segmentRow(null));
  }

  private endSegment(): void {
    const { record } = this;
    this.keepTimeOrder();
    if (record.segmentPosition === null) return;
    // A segment shows what held while it lasted. Callers end it after the record took the new
    // details or stage, so a segment begun in this same batch keeps the row written when it began;
    // one stored by an earlier batch gets only its end (the writer updates valid_to alone).
    const begun = this.changes.segments.get(record.segmentPosition);
    this.changes.segments.set(record.segmentPosition, begun ? { ...begun, endMs: this.at } : this.segmentRow(this.at));
    record.segmentPosition = null;
  }

  private segmentRow(endMs: number | null): SegmentRow {
    const { record } = this;
    return {
      startedPosition: record.segmentPosition!,
      opportunityId: record.id,
      processId: record.processId,
      startMs: record.segmentStartMs,
      endMs,
      stageKey: record.stageKey,
      probability: record.segmentProbability,
      amount: record.amount,
      currency: record.currency,
      teamId: record.teamId,
      ownerId: record.ownerId,
      enteredMs: record.stageEnteredMs,
      title: record.title,
      expectedDay: record.expectedDay,
      setBack: record.setBack,
    };
  }

  /**
   * board_segments.set_back holds whether a deal had been set back by the event that began the
   * segment (transition() marks the record before the segment starts). The learned probability
   * as of t needs whether its first setback's time is at or before t, for t in [valid_from,
   * valid_to). The two agree while the times of the events that begin, end or close an
   * opportunity's segments never go back and are all instants: a setback at or before the start
   * then has a time at or before valid_from <= t, and a later one begins a segment of its own, so
   * its time is at or after this segment's end > t (equal times included: a segment ended at its
   * own start stands at no instant). The latest such time is the current segment's start while one
   * stands, else the last closing's time (every event that ends a segment without beginning
   * another closes the deal). Otherwise the batch says so, and the queries join deal_setbacks.
   */
  private keepTimeOrder(): void {
    const { record } = this;
    const previous = record.segmentPosition !== null ? record.segmentStartMs : record.closedMs;
    if (!Number.isFinite(this.at) || (previous !== null && !(this.at >= previous))) this.changes.timesUnordered = true;
  }
}

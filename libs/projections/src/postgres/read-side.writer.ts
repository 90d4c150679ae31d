import { calendarDateOf } from '@stagecraft/opportunity';
import { NO_ANCHOR, type LogAnchor } from '@stagecraft/event-store';
import type { ClientBase } from 'pg';
import type { ProjectedEvent } from '../projection.types';
import {
  createReadSideState,
  emptyChanges,
  foldEvent,
  LOST_END,
  opportunityIdsOf,
  serializeReadSideState,
  WON_END,
  type OpportunityRecord,
  type VisitRow,
  type ReadSideChanges,
  type ReadSideState,
  type SerializedReadSideState,
} from './read-side.fold';
import { stageOrderOf } from '../process-catalog';
import { dealSearchText } from '../opportunity-search';
import { SEARCH_FOLD } from './read-side.search-fold';
import { boolArray, isoOf, ms, numberArray, textArray } from './read-side.encoding';
import { copyBool, copyNumber, copyOf, copyText, queryWithCopies, type CopyStatement } from './read-side.copy';
import { keepLearnedSql, keepSetbacksSql, LEARNED_TABLES } from './read-side.learned';
import { SUMMARIES_NOTE, SUMMARY_TABLES } from './read-side.summaries';
import { contributionOf, reassignedTransitionsSql, reassignedTransitionsValues, SummaryDeltas, type Contribution, type Reassignment } from './read-side.summary-deltas';
import { periodFiling } from './read-side.standing';
import { readSavedReadSideState } from './read-side.saved-state';

// Loads and writes the read side of one schema through one connection: a batch of events and the
// checkpoint in one transaction (multi-row upserts through unnest, one statement per table).
// Keeps the small state (catalog, codes) and a bounded cache of opportunity records in memory;
// anything else is read back from the tables, so memory does not grow with the log.

/** The running counters by stage key, kept with the checkpoint: [from, to, count] per pair in order, [stage key, count, sum] per stage. */
interface SerializedCounters {
  readonly pairs: readonly (readonly [number, number, number])[];
  readonly visitTotals: readonly (readonly [number, number, number])[];
}

export interface Checkpoint {
  readonly position: number;
  readonly logId: string;
  /** The last event folded in, read back at start (logStillHolds). */
  readonly anchor: LogAnchor;
  readonly failed: string | null;
}

/**
 * An event to fold: the store's events carry their id, which the checkpoint keeps as its anchor,
 * and their stream revision (0: the stream's first event, whose opportunity has no row yet).
 */
export type WrittenEvent = ProjectedEvent & { readonly id?: string; readonly revision?: number };

const iso = isoOf;

/**
 * A batch folded into the writer's state and encoded as statements, not yet written: `commit`
 * writes it with its checkpoint. While it commits, the next batch may fold.
 */
export interface FoldedBatch {
  /** The checkpoint it follows, and the one it writes. */
  readonly from: number;
  readonly target: number;
  readonly logId: string;
  /** The writer's state it was folded on (a `load` since makes it stale: it is folded again). */
  readonly generation: number;
  readonly events: readonly WrittenEvent[];
  readonly passed: number;
  /** The batch's last event with an id; none leaves the checkpoint's anchor as it was. */
  readonly anchor: LogAnchor | undefined;
  readonly statements: readonly Statement[];
  readonly counters: string | null;
  readonly state: string | null;
  readonly records: readonly OpportunityRecord[];
  readonly sequence: number;
}

export class ReadSideWriter {
  private state: ReadSideState = createReadSideState();
  private checkpoint: Checkpoint = { position: 0, logId: '', anchor: NO_ANCHOR, failed: null };
  private stateRevision = 0;
  /** Recently used records, oldest first (a Map keeps insertion order). */
  private readonly cache = new Map<string, OpportunityRecord>();
  /** Where the state has been folded up to: ahead of the checkpoint while a folded batch waits or commits. */
  private folded = 0;
  /** Bumped by every `load`: batches folded before it are stale. */
  private generation = 0;
  private sequence = 0;
  /**
   * Records changed by batches folded but not yet committed, with the batch that changed them last:
   * the reader's connection cannot see them yet, and the cache may have let them go.
   */
  private readonly uncommitted = new Map<string, { record: OpportunityRecord; sequence: number }>();
  /**
   * Whether each batch writes its summary deltas (read-side.summary-deltas.ts), or the summaries
   * wait for the end of a long first fold, where they are computed from the tables at once
   * (`restoreSummaries`). Merging a first fold's deltas in memory instead was tried: the summaries
   * hold about one day row per three events (transitions by pair, team or owner, and day), so the
   * merged deltas grew with the log, and writing them cost PostgreSQL about what computing them does.
   */
  private summaries: 'kept' | 'waiting' = 'kept';
  /**
   * Batches folded and not yet written, in the order they folded. A stale one (folded before a
   * load) leaves it when a later fold takes its events in: its own commit then writes nothing. No
   * other note of it is kept, so nothing stays behind for a commit that never comes (one that failed).
   */
  private outstanding: FoldedBatch[] = [];
  /** Folds and loads one at a time: a batch folded again at its commit must not interleave with the next one's fold. */
  private foldTurn: Promise<unknown> = Promise.resolve();

  /**
   * `reader`: a second connection to read records back through while a batch commits on `client`
   * (the projector's pipeline); without it, both go through `client`.
   */
  constructor(
    private readonly client: ClientBase,
    readonly schema: string,
    private readonly cacheSize = 50_000,
    private readonly reader: ClientBase = client,
  ) {}

  /** Records held in memory between batches (at most `cacheSize`). */
  get cachedRecords(): number {
    return this.cache.size;
  }

  /** Batches this writer still keeps track of (folded and not yet written or taken in by a later fold): none once all are written. */
  get batchesHeld(): number {
    return this.outstanding.length;
  }

  get position(): number {
    return this.checkpoint.position;
  }

  get current(): Checkpoint {
    return this.checkpoint;
  }

  /**
   * Reads the checkpoint and the small state back (after a start, a crash, a failed batch or a
   * rebuild's swap). Batches folded before it and not yet written are folded again, first and in
   * their order, by the next fold or commit.
   */
  load(): Promise<Checkpoint> {
    return this.inFoldTurn(() => this.loadNow());
  }

  private inFoldTurn<T>(work: () => Promise<T>): Promise<T> {
    const next = this.foldTurn.then(work, work);
    this.foldTurn = next.catch(() => undefined);
    return next;
  }

  private async loadNow(): Promise<Checkpoint> {
    const s = this.schema;
    this.cache.clear();
    this.uncommitted.clear();
    this.generation += 1;
    const { rows } = await this.client.query<{
      position: string;
      log_id: string;
      anchor_position: string;
      anchor_event_id: string;
      failed: string | null;
      state: SerializedReadSideState | null;
      state_revision: string;
      counters: SerializedCounters | null;
      summaries_wait: boolean;
    }>(`SELECT position, log_id, anchor_position, anchor_event_id, failed, state, state_revision, counters, EXISTS (SELECT 1 FROM ${s}.deferred_indexes WHERE index_name = '${SUMMARIES_NOTE}') AS summaries_wait FROM ${s}.checkpoint`);
    const row = rows[0]!;
    this.summaries = row.summaries_wait ? 'waiting' : 'kept';
    this.checkpoint = { position: Number(row.position), logId: row.log_id, anchor: { position: Number(row.anchor_position), eventId: row.anchor_event_id }, failed: row.failed };
    this.folded = this.checkpoint.position;
    this.stateRevision = Number(row.state_revision);
    // Cleared first: a state that does not read leaves none behind to fold on.
    this.state = createReadSideState();
    if (row.state === null) return this.checkpoint;
    this.state = readSavedReadSideState(row.state, row.counters);
    return this.checkpoint;
  }

  /** Empties every table and the checkpoint: the read side starts again from position 0 of `logId`. */
  async reset(logId: string): Promise<void> {
    const s = this.schema;
    await this.client.query('BEGIN');
    try {
      await this.client.query(
        `TRUNCATE ${s}.opportunities, ${s}.stage_visits, ${s}.stage_visit_totals, ${s}.stage_duration_buckets, ${s}.stage_duration_dim_buckets, ${s}.stage_duration_month_buckets, ${s}.outcomes, ${s}.transitions, ${s}.transition_pairs, ${s}.board_segments, ${s}.processes, ${s}.process_versions, ${s}.stages, ${s}.version_stages, ${[...SUMMARY_TABLES, ...LEARNED_TABLES].map((table) => `${s}.${table}`).join(', ')}`,
      );
      await this.client.query(`UPDATE ${s}.checkpoint SET position = 0, log_id = $1, anchor_position = 0, anchor_event_id = '', failed = NULL, state = NULL, counters = NULL, state_revision = state_revision + 1, times_unordered = false, updated_at = now()`, [logId]);
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK');
      throw error;
    }
    await this.load();
  }

  /** Records why folding stopped; the tables keep what they had. */
  async fail(reason: string): Promise<void> {
    await this.client.query(`UPDATE ${this.schema}.checkpoint SET failed = $1, updated_at = now()`, [reason]);
    this.checkpoint = { ...this.checkpoint, failed: reason };
  }

  /**
   * Folds a batch and writes it with the new checkpoint in one transaction. `passed` is a position
   * the store has looked up to (events it filtered out included). Events at or before the
   * checkpoint are skipped, so a batch replayed after a crash counts nothing twice.
   */
  async apply(events: readonly WrittenEvent[], passed: number, logId: string): Promise<void> {
    let batch: FoldedBatch | undefined;
    try {
      batch = await this.fold(events, passed, logId);
    } catch (error) {
      // The in-memory state may be half-changed: read it back before anything else.
      if (error instanceof FoldError) await this.load();
      throw error;
    }
    if (batch) await this.commit(batch);
  }

  /**
   * The first half of `apply`: folds the batch into the state (after any batch folded before it,
   * committed or not) and encodes what to write. A FoldError leaves the state half-changed: the
   * caller lets a commit under way end, then calls `load` before anything else.
   */
  fold(events: readonly WrittenEvent[], passed: number, logId: string): Promise<FoldedBatch | undefined> {
    return this.inFoldTurn(() => this.foldNow(events, passed, logId));
  }

  private async foldNow(newEvents: readonly WrittenEvent[], newPassed: number, logId: string): Promise<FoldedBatch | undefined> {
    // Batches folded before a load and not written yet come first: folded from the checkpoint
    // without them, this one would skip their events, and their own fold again would follow it.
    const stale = this.outstanding.filter((batch) => batch.generation !== this.generation);
    let events = newEvents;
    let passed = newPassed;
    if (stale.length > 0) {
      events = [...stale.flatMap((batch) => batch.events), ...newEvents];
      passed = Math.max(newPassed, ...stale.map((batch) => batch.passed));
      this.outstanding = this.outstanding.filter((batch) => batch.generation === this.generation);
    }
    const from = this.folded;
    const fresh = events.filter((event) => event.position > from);
    const target = Math.max(passed, fresh.length > 0 ? fresh[fresh.length - 1]!.position : 0, from);
    if (target === from && fresh.length === 0) return undefined;
    const generation = this.generation;
    // The records this batch touches, taken now: a commit ending meanwhile lets go of its uncommitted ones.
    const known = new Map<string, OpportunityRecord>();
    const missing: string[] = [];
    for (const id of opportunityIdsOf(fresh)) {
      const record = this.cache.get(id) ?? this.uncommitted.get(id)?.record;
      if (record) known.set(id, record);
      else missing.push(id);
    }
    for (const record of await this.loadRecords(missing)) known.set(record.id, record);
    if (generation !== this.generation) throw new Error(`the read side of ${this.schema} was reloaded while a batch folded`);
    // What the deals counted in the summaries before this batch (their records change as it folds).
    const before = new Map<string, Contribution>();
    if (this.summaries !== 'waiting') for (const [id, record] of known) before.set(id, contributionOf(record, this.state.catalog));
    // Visits numbered above these began in this batch: no table holds them yet (see encode).
    const visitsBefore = new Map<string, number>();
    for (const [id, record] of known) visitsBefore.set(id, record.visits);
    const changes = emptyChanges();
    const lookup = (id: string) => known.get(id);
    for (let at = 0; at < fresh.length; at += FOLD_SLICE) {
      // Between slices the event loop runs: a commit under way gets its replies read, the log its next page.
      if (at > 0) await new Promise((resolve) => setImmediate(resolve));
      try {
        for (const event of fresh.slice(at, at + FOLD_SLICE)) foldEvent(this.state, changes, lookup, event);
      } catch (error) {
        throw new FoldError(`event at position ${fresh[0]?.position ?? target}… could not be folded in: ${(error as Error).message}`);
      }
    }
    if (generation !== this.generation) throw new Error(`the read side of ${this.schema} was reloaded while a batch folded`);
    const sequence = ++this.sequence;
    const records = [...changes.opportunities.values()];
    const batch: FoldedBatch = {
      from,
      target,
      logId,
      generation,
      events,
      passed,
      anchor: lastAnchorOf(fresh),
      statements: this.encode(changes, this.summaryChanges(changes, before), { from, visitsBefore }),
      counters: changes.pairs.size > 0 || changes.visitTotals.size > 0 ? JSON.stringify(this.counters()) : null,
      state: changes.catalogChanged ? JSON.stringify(serializeReadSideState(this.state)) : null,
      records,
      sequence,
    };
    this.folded = target;
    this.outstanding.push(batch);
    for (const record of records) {
      this.uncommitted.set(record.id, { record, sequence });
      this.remember(record);
    }
    return batch;
  }

  /**
   * The second half of `apply`: writes a folded batch and its checkpoint in one transaction. Batches
   * commit in the order they folded; one folded before a `load` is folded again first.
   */
  async commit(folded: FoldedBatch): Promise<void> {
    let batch = folded;
    if (batch.generation !== this.generation) {
      // Folded before a load: folded again (with any stale batch before it), unless a later fold took it in already.
      if (!this.outstanding.includes(batch)) return;
      const again = await this.fold([], 0, batch.logId);
      if (!again) return;
      batch = again;
    }
    if (batch.from !== this.checkpoint.position) throw new Error(`a batch of ${this.schema} was written out of order (from ${batch.from}, the checkpoint is at ${this.checkpoint.position})`);
    const client = this.client;
    try {
      // The whole batch and its checkpoint in one simple query (one round trip, run by PostgreSQL
      // without waiting on this process, which is folding the next batch meanwhile), then COMMIT.
      const anchor = batch.anchor ? `, anchor_position = ${batch.anchor.position}, anchor_event_id = ${literalOf(batch.anchor.eventId)}` : '';
      const checkpoint = `UPDATE ${this.schema}.checkpoint SET position = ${batch.target}, log_id = ${literalOf(batch.logId)}${anchor}, updated_at = now(), counters = COALESCE(${literalOf(batch.counters)}::jsonb, counters)${
        batch.state !== null ? `, state = ${literalOf(batch.state)}::jsonb, state_revision = state_revision + 1` : ''
      } WHERE position = ${batch.from}`;
      const text = ['BEGIN', ...batch.statements.map((statement) => (statement.copy ? statement.sql : inlined(statement))), checkpoint].join(';\n');
      const results = await queryWithCopies(client, text, batch.statements.flatMap((statement) => (statement.copy ? [statement.copy] : [])));
      // Another writer moved the checkpoint (it cannot while we hold the lock, but never count twice).
      if (results[results.length - 1]!.rowCount !== 1) throw new Error(`the checkpoint of ${this.schema} moved under this projector; it stops rather than count events twice`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      await this.load();
      throw error;
    }
    if (batch.state !== null) this.stateRevision += 1;
    this.outstanding = this.outstanding.filter((outstanding) => outstanding !== batch);
    this.checkpoint = { position: batch.target, logId: batch.logId, anchor: batch.anchor ?? this.checkpoint.anchor, failed: this.checkpoint.failed };
    for (const record of batch.records) {
      if (this.uncommitted.get(record.id)?.sequence === batch.sequence) this.uncommitted.delete(record.id);
    }
  }

  /** Called once the projector has noted the summaries as waiting for a long first fold to end (read-side.indexes.ts). */
  deferSummaries(): void {
    this.summaries = 'waiting';
  }

  /** The summaries have been computed from the tables (restoreQueryIndexes) and their note removed: from the next batch on, each keeps them. */
  summariesKept(): void {
    this.summaries = 'kept';
  }

  /** The summary deltas a batch writes (none while the summaries wait). */
  private summaryChanges(changes: ReadSideChanges, before: ReadonlyMap<string, Contribution>): { moves: Reassignment[]; deltas: SummaryDeltas | undefined } {
    if (this.summaries === 'waiting') return { moves: [], deltas: undefined };
    const { catalog } = this.state;
    const deltas = new SummaryDeltas();
    const moves: Reassignment[] = [];
    for (const [id, record] of changes.opportunities) {
      const move = deltas.opportunity(before.get(id), contributionOf(record, catalog), id);
      if (move) moves.push(move);
    }
    for (const row of changes.transitions) deltas.transition(row, changes.opportunities.get(row.opportunityId)!);
    return { moves, deltas };
  }

  private counters(): SerializedCounters {
    return {
      pairs: this.state.pairs.map((pair) => [pair.from, pair.to, pair.count]),
      visitTotals: [...this.state.visitTotals.entries()].map(([key, { count, sum }]) => [key, count, sum]),
    };
  }

  private remember(record: OpportunityRecord): void {
    this.cache.delete(record.id);
    this.cache.set(record.id, record);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  /** Reads records back (committed ones: the reader's connection sees no batch still committing). */
  private async loadRecords(ids: string[]): Promise<OpportunityRecord[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.reader.query<Record<string, unknown>>(
      `SELECT opportunity_id, opened_position, process_id, process_version, title, team_id, owner_id, amount, currency, ${ms('opened_at')} AS opened_ms, status, stage_id,
        ${ms('stage_entered_at')} AS stage_entered_ms, probability, ${ms('closed_at')} AS closed_ms, lost_reason, won_amount, won_currency, won_reason, next_steps, furthest_rank, entered_ranks, ever_won, visits,
        segment_started_position, ${ms('segment_started_at')} AS segment_started_ms, segment_probability, last_closing_position, updated_position,
        (expected_close_date - DATE '1970-01-01') AS expected_day, criteria_met, set_back
       FROM ${this.schema}.opportunities WHERE opportunity_id = ANY($1::text[])`,
      [ids],
    );
    const { catalog } = this.state;
    const records: OpportunityRecord[] = [];
    for (const row of rows) {
      const process = catalog.processes.get(row.process_id as string)!;
      const stageId = row.stage_id as string | null;
      const record: OpportunityRecord = {
        id: row.opportunity_id as string,
        openedPosition: Number(row.opened_position),
        processId: row.process_id as string,
        versionCode: process.versions.get(row.process_version as string)!.code,
        title: row.title as string,
        teamId: row.team_id as string | null,
        ownerId: row.owner_id as string | null,
        amount: row.amount as number | null,
        currency: row.currency as string | null,
        openedMs: (row.opened_ms as number | null) ?? NaN,
        status: row.status as OpportunityRecord['status'],
        stageKey: stageId === null ? -1 : process.keyByStageId.get(stageId)!,
        stageEnteredMs: (row.stage_entered_ms as number | null) ?? NaN,
        probability: row.probability as number,
        closedMs: row.closed_ms as number | null,
        lostReason: row.lost_reason as string | null,
        wonAmount: row.won_amount as number | null,
        wonCurrency: row.won_currency as string | null,
        wonReason: row.won_reason as string | null,
        nextSteps: row.next_steps as string | null,
        maxRank: row.furthest_rank as number,
        enteredRanks: row.entered_ranks as number,
        everWon: row.ever_won as boolean,
        visits: row.visits as number,
        segmentPosition: row.segment_started_position === null ? null : Number(row.segment_started_position),
        segmentStartMs: (row.segment_started_ms as number | null) ?? NaN,
        segmentProbability: row.segment_probability as number,
        lastClosingPosition: row.last_closing_position === null ? null : Number(row.last_closing_position),
        updatedPosition: Number(row.updated_position),
        expectedDay: row.expected_day === null ? null : Number(row.expected_day),
        criteriaMet: [...((row.criteria_met as string[] | null) ?? [])],
        setBack: row.set_back as boolean,
      };
      this.remember(record);
      records.push(record);
    }
    return records;
  }

  /** A row of `opportunities` as a line of COPY text, in OPPORTUNITY_COLUMNS' order (the upsert's columns). */
  private opportunityLine(r: OpportunityRecord): string {
    const t = copyText;
    const n = copyNumber;
    const { catalog } = this.state;
    return `${t(r.id)}\t${r.openedPosition}\t${t(r.processId)}\t${t(catalog.versions[r.versionCode]!.version)}\t${t(r.title)}\t${t(r.teamId)}\t${t(r.ownerId)}\t${n(r.amount)}\t${t(r.currency)}\t${t(iso(r.openedMs))}\t${t(r.status)}\t${r.stageKey < 0 ? '\\N' : t(this.stageId(r.stageKey))}\t${t(iso(r.stageEnteredMs))}\t${n(r.probability)}\t${t(iso(r.closedMs))}\t${t(r.lostReason)}\t${n(r.wonAmount)}\t${t(r.wonCurrency)}\t${n(r.maxRank)}\t${copyBool(r.everWon)}\t${n(r.visits)}\t${n(r.segmentPosition)}\t${t(iso(r.segmentStartMs))}\t${n(r.segmentProbability)}\t${n(r.lastClosingPosition)}\t${n(r.updatedPosition)}\t${t(dateOrNull(r.expectedDay))}\t${t(r.wonReason)}\t${t(r.nextSteps)}\t${t(JSON.stringify(r.criteriaMet))}\t${copyBool(r.setBack)}\t${r.enteredRanks}\t${t(dealSearchText(r.title, r.id, r.ownerId))}\t${t(SEARCH_FOLD)}`;
  }

  private stageId(key: number): string {
    return key === WON_END ? 'won' : key === LOST_END ? 'lost' : this.state.catalog.stages[key]!.stageId;
  }

  /**
   * The statements that write a batch's changes, with their parameters encoded now: the records and
   * counters they read go on changing as the next batch folds while this one commits.
   */
  private encode(
    changes: ReadSideChanges,
    summaries: { moves: readonly Reassignment[]; deltas: SummaryDeltas | undefined },
    /** Where the batch began, and the visits each record it read had then: what began after is new to the tables. */
    fresh: { from: number; visitsBefore: ReadonlyMap<string, number> },
  ): Statement[] {
    const s = this.schema;
    const { catalog } = this.state;
    const statements: Statement[] = [];
    const q = (sql: string, values: unknown[]) => statements.push(statementOf(sql, values));
    const copy = ({ sql, data }: CopyStatement) => statements.push({ sql, values: [], copy: data });
    const t = copyText;
    const n = copyNumber;

    // A reassigned deal's transitions from earlier batches move to its new team and owner (before
    // this batch's own are written, which count under the new ones).
    if (summaries.moves.length > 0) q(reassignedTransitionsSql(s), reassignedTransitionsValues(summaries.moves));

    // Opened in this batch: copied in (opportunityLine). Opened before: upserted.
    const opened = [...changes.opportunities.values()].filter((r) => r.openedPosition > fresh.from);
    if (opened.length > 0) copy(copyOf(`${s}.opportunities`, OPPORTUNITY_COLUMNS, opened, (r) => this.opportunityLine(r)));
    const stored = opened.length === changes.opportunities.size ? [] : [...changes.opportunities.values()].filter((r) => r.openedPosition <= fresh.from);
    if (stored.length > 0) {
      const rows = stored;
      const column = <T>(pick: (record: OpportunityRecord) => T) => rows.map(pick);
      q(
        `INSERT INTO ${s}.opportunities (opportunity_id, opened_position, process_id, process_version, title, team_id, owner_id, amount, currency, opened_at, status, stage_id,
           stage_entered_at, probability, closed_at, lost_reason, won_amount, won_currency, furthest_rank, ever_won, visits, segment_started_position, segment_started_at,
           segment_probability, last_closing_position, updated_position, expected_close_date, won_reason, next_steps, criteria_met, set_back, entered_ranks, search_text, search_fold)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::text[], $10::timestamptz[], $11::text[], $12::text[],
           $13::timestamptz[], $14::float8[], $15::timestamptz[], $16::text[], $17::float8[], $18::text[], $19::int[], $20::bool[], $21::int[], $22::bigint[], $23::timestamptz[],
           $24::float8[], $25::bigint[], $26::bigint[], $27::date[], $28::text[], $29::text[], $30::jsonb[], $31::bool[], $32::int[], $33::text[], $34::text[])
         ON CONFLICT (opportunity_id) DO UPDATE SET process_version = EXCLUDED.process_version, title = EXCLUDED.title, team_id = EXCLUDED.team_id, owner_id = EXCLUDED.owner_id,
           amount = EXCLUDED.amount, currency = EXCLUDED.currency, status = EXCLUDED.status, stage_id = EXCLUDED.stage_id, stage_entered_at = EXCLUDED.stage_entered_at,
           probability = EXCLUDED.probability, closed_at = EXCLUDED.closed_at, lost_reason = EXCLUDED.lost_reason, won_amount = EXCLUDED.won_amount, won_currency = EXCLUDED.won_currency,
           furthest_rank = EXCLUDED.furthest_rank, ever_won = EXCLUDED.ever_won, visits = EXCLUDED.visits, segment_started_position = EXCLUDED.segment_started_position,
           segment_started_at = EXCLUDED.segment_started_at, segment_probability = EXCLUDED.segment_probability, last_closing_position = EXCLUDED.last_closing_position,
           updated_position = EXCLUDED.updated_position, expected_close_date = EXCLUDED.expected_close_date, won_reason = EXCLUDED.won_reason, next_steps = EXCLUDED.next_steps, criteria_met = EXCLUDED.criteria_met,
           set_back = EXCLUDED.set_back, entered_ranks = EXCLUDED.entered_ranks, search_text = EXCLUDED.search_text, search_fold = EXCLUDED.search_fold`,
        [
          column((r) => r.id),
          column((r) => r.openedPosition),
          column((r) => r.processId),
          column((r) => catalog.versions[r.versionCode]!.version),
          column((r) => r.title),
          column((r) => r.teamId),
          column((r) => r.ownerId),
          column((r) => r.amount),
          column((r) => r.currency),
          column((r) => iso(r.openedMs)),
          column((r) => r.status),
          column((r) => (r.stageKey < 0 ? null : this.stageId(r.stageKey))),
          column((r) => iso(r.stageEnteredMs)),
          column((r) => r.probability),
          column((r) => iso(r.closedMs)),
          column((r) => r.lostReason),
          column((r) => r.wonAmount),
          column((r) => r.wonCurrency),
          column((r) => r.maxRank),
          column((r) => r.everWon),
          column((r) => r.visits),
          column((r) => r.segmentPosition),
          column((r) => iso(r.segmentStartMs)),
          column((r) => r.segmentProbability),
          column((r) => r.lastClosingPosition),
          column((r) => r.updatedPosition),
          column((r) => dateOrNull(r.expectedDay)),
          column((r) => r.wonReason),
          column((r) => r.nextSteps),
          column((r) => JSON.stringify(r.criteriaMet)),
          column((r) => r.setBack),
          column((r) => r.enteredRanks),
          column((r) => dealSearchText(r.title, r.id, r.ownerId)),
          column(() => SEARCH_FOLD),
        ],
      );
    }

    // Begun in this batch: copied in. Begun before (their end, or the open one's new details): upserted.
    const isNewVisit = (v: VisitRow) => v.visitNo > (fresh.visitsBefore.get(v.opportunityId) ?? 0);
    const newVisits = [...changes.visits.values()].filter(isNewVisit);
    if (newVisits.length > 0) {
      copy(
        copyOf(`${s}.stage_visits`, VISIT_COLUMNS, newVisits, (v) => {
          const deal = changes.opportunities.get(v.opportunityId)!;
          return `${t(v.opportunityId)}\t${v.visitNo}\t${t(v.processId)}\t${t(v.version)}\t${t(this.stageId(v.stageKey))}\t${t(iso(v.enteredMs))}\t${t(iso(v.leftMs))}\t${v.leftTo === null ? '\\N' : t(this.stageId(v.leftTo))}\t${n(v.seconds)}\t${n(v.endedPosition)}\t${t(v.teamId)}\t${t(v.ownerId)}\t${n(v.amount)}\t${t(v.currency)}\t${t(deal.teamId)}\t${t(deal.ownerId)}\t${n(v.ms)}\t${t(this.stageId(v.enteredStageKey ?? v.stageKey))}\t${t(v.enteredVersion ?? v.version)}`;
        }),
      );
    }
    const storedVisits = newVisits.length === changes.visits.size ? [] : [...changes.visits.values()].filter((v) => !isNewVisit(v));
    if (storedVisits.length > 0) {
      const rows = storedVisits;
      // The stage and version a visit was entered in are never updated (a migration relabels only
      // stage_id and process_version): a row stored by an earlier batch keeps its own. (They are in
      // the INSERT for a row not there yet; a visit begun before always has its row.)
      q(
        `INSERT INTO ${s}.stage_visits (opportunity_id, visit_no, process_id, process_version, stage_id, entered_at, left_at, left_to, duration_seconds, ended_position, team_id, owner_id, amount, currency,
           current_team_id, current_owner_id, duration_ms, entered_stage_id, entered_process_version)
         SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[], $9::float8[], $10::bigint[], $11::text[], $12::text[], $13::float8[], $14::text[],
           $15::text[], $16::text[], $17::bigint[], $18::text[], $19::text[])
         ON CONFLICT (opportunity_id, visit_no) DO UPDATE SET process_version = EXCLUDED.process_version, stage_id = EXCLUDED.stage_id, left_at = EXCLUDED.left_at, left_to = EXCLUDED.left_to,
           duration_seconds = EXCLUDED.duration_seconds, ended_position = EXCLUDED.ended_position, team_id = EXCLUDED.team_id, owner_id = EXCLUDED.owner_id, amount = EXCLUDED.amount, currency = EXCLUDED.currency,
           current_team_id = EXCLUDED.current_team_id, current_owner_id = EXCLUDED.current_owner_id, duration_ms = EXCLUDED.duration_ms`,
        [
          rows.map((v) => v.opportunityId),
          rows.map((v) => v.visitNo),
          rows.map((v) => v.processId),
          rows.map((v) => v.version),
          rows.map((v) => this.stageId(v.stageKey)),
          rows.map((v) => iso(v.enteredMs)),
          rows.map((v) => iso(v.leftMs)),
          rows.map((v) => (v.leftTo === null ? null : this.stageId(v.leftTo))),
          rows.map((v) => v.seconds),
          rows.map((v) => v.endedPosition),
          rows.map((v) => v.teamId),
          rows.map((v) => v.ownerId),
          rows.map((v) => v.amount),
          rows.map((v) => v.currency),
          // The deal's team and owner now (every visit written belongs to a deal of this batch).
          rows.map((v) => changes.opportunities.get(v.opportunityId)!.teamId),
          rows.map((v) => changes.opportunities.get(v.opportunityId)!.ownerId),
          rows.map((v) => v.ms),
          rows.map((v) => this.stageId(v.enteredStageKey ?? v.stageKey)),
          rows.map((v) => v.enteredVersion ?? v.version),
        ],
      );
    }
    if (changes.reassigned.size > 0) {
      // A reassigned deal's earlier visits follow it to its new team and owner (the filters use the current ones).
      const records = [...changes.reassigned].map((id) => changes.opportunities.get(id)!);
      // The deals, their teams and owners: the parameters of each statement below.
      const reassigned = [records.map((r) => r.id), records.map((r) => r.teamId), records.map((r) => r.ownerId)];
      // Their counts per team and owner first, read from the rows before they change (this batch's
      // own visits, written above with the new team and owner, are not moved: they are counted below).
      // None while the summaries wait (a long first fold): restoreSummaries counts them all then.
      if (summaries.deltas) q(
        `INSERT INTO ${s}.stage_duration_dim_buckets AS t (dim, dim_id, process_id, stage_id, bucket, visits, ms_sum)
         SELECT d.dim, d.dim_id, v.process_id, v.stage_id, v.duration_bucket, sum(d.sign), sum(d.sign * v.duration_ms)
         FROM ${s}.stage_visits v JOIN unnest($1::text[], $2::text[], $3::text[]) AS r(opportunity_id, team_id, owner_id) ON v.opportunity_id = r.opportunity_id
         CROSS JOIN LATERAL (VALUES ('team', v.current_team_id, -1), ('team', r.team_id, 1), ('owner', v.current_owner_id, -1), ('owner', r.owner_id, 1)) AS d(dim, dim_id, sign)
         WHERE v.left_at IS NOT NULL AND (v.current_team_id IS DISTINCT FROM r.team_id OR v.current_owner_id IS DISTINCT FROM r.owner_id) AND d.dim_id IS NOT NULL
         GROUP BY 1, 2, 3, 4, 5 HAVING sum(d.sign) <> 0
         ON CONFLICT (dim, dim_id, process_id, stage_id, bucket) DO UPDATE SET visits = t.visits + EXCLUDED.visits, ms_sum = t.ms_sum + EXCLUDED.ms_sum`,
        reassigned,
      );
      if (summaries.deltas) q(
        `INSERT INTO ${s}.stage_duration_month_buckets AS t (dim, dim_id, process_id, stage_id, month, bucket, visits, ms_sum)
         SELECT d.dim, d.dim_id, v.process_id, v.stage_id, date_trunc('month', v.left_at AT TIME ZONE 'UTC')::date, v.duration_bucket, sum(d.sign), sum(d.sign * v.duration_ms)
         FROM ${s}.stage_visits v JOIN unnest($1::text[], $2::text[], $3::text[]) AS r(opportunity_id, team_id, owner_id) ON v.opportunity_id = r.opportunity_id
         CROSS JOIN LATERAL (VALUES ('team', v.current_team_id, -1), ('team', r.team_id, 1), ('owner', v.current_owner_id, -1), ('owner', r.owner_id, 1)) AS d(dim, dim_id, sign)
         WHERE v.left_at IS NOT NULL AND (v.current_team_id IS DISTINCT FROM r.team_id OR v.current_owner_id IS DISTINCT FROM r.owner_id) AND d.dim_id IS NOT NULL
         GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(d.sign) <> 0
         ON CONFLICT (dim, dim_id, process_id, stage_id, month, bucket) DO UPDATE SET visits = t.visits + EXCLUDED.visits, ms_sum = t.ms_sum + EXCLUDED.ms_sum`,
        reassigned,
      );
      q(
        `UPDATE ${s}.stage_visits v SET current_team_id = r.team_id, current_owner_id = r.owner_id FROM unnest($1::text[], $2::text[], $3::text[]) AS r(opportunity_id, team_id, owner_id)
         WHERE v.opportunity_id = r.opportunity_id AND (v.current_team_id IS DISTINCT FROM r.team_id OR v.current_owner_id IS DISTINCT FROM r.owner_id)`,
        reassigned,
      );
    }

    // Visits completed in this batch (a completed visit is never written again): counted per bucket.
    const completed = [...changes.visits.values()].filter((v) => v.leftMs !== null);
    if (completed.length > 0) {
      // The visits' columns, shared by the statements below: process, stage, seconds, ms.
      const byStage = [completed.map((v) => v.processId), completed.map((v) => this.stageId(v.stageKey)), completed.map((v) => v.seconds), completed.map((v) => v.ms)];
      q(
        `INSERT INTO ${s}.stage_duration_buckets (process_id, stage_id, bucket, visits, ms_sum)
         SELECT process_id, stage_id, ${s}.duration_bucket(seconds), count(*), sum(ms) FROM unnest($1::text[], $2::text[], $3::float8[], $4::bigint[]) AS v(process_id, stage_id, seconds, ms) GROUP BY 1, 2, 3
         ON CONFLICT (process_id, stage_id, bucket) DO UPDATE SET visits = ${s}.stage_duration_buckets.visits + EXCLUDED.visits, ms_sum = ${s}.stage_duration_buckets.ms_sum + EXCLUDED.ms_sum`,
        byStage,
      );
      // And under the deal's team and owner now, as written on the visit (current_team_id, current_owner_id),
      // and by the UTC month they ended in (not while the summaries wait: restoreSummaries counts them all then).
      if (summaries.deltas) {
        const teamsAndOwners = [completed.map((v) => changes.opportunities.get(v.opportunityId)!.teamId), completed.map((v) => changes.opportunities.get(v.opportunityId)!.ownerId)];
        q(
          `INSERT INTO ${s}.stage_duration_dim_buckets AS t (dim, dim_id, process_id, stage_id, bucket, visits, ms_sum)
           SELECT d.dim, d.dim_id, v.process_id, v.stage_id, ${s}.duration_bucket(v.seconds), count(*), sum(v.ms)
           FROM unnest($1::text[], $2::text[], $3::float8[], $4::bigint[], $5::text[], $6::text[]) AS v(process_id, stage_id, seconds, ms, team_id, owner_id)
           CROSS JOIN LATERAL (VALUES ('team', v.team_id), ('owner', v.owner_id)) AS d(dim, dim_id) WHERE d.dim_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5
           ON CONFLICT (dim, dim_id, process_id, stage_id, bucket) DO UPDATE SET visits = t.visits + EXCLUDED.visits, ms_sum = t.ms_sum + EXCLUDED.ms_sum`,
          [...byStage, ...teamsAndOwners],
        );
        // By month: for every visit and again under team and owner.
        q(
          `INSERT INTO ${s}.stage_duration_month_buckets AS t (dim, dim_id, process_id, stage_id, month, bucket, visits, ms_sum)
           SELECT d.dim, d.dim_id, v.process_id, v.stage_id, date_trunc('month', v.left_at AT TIME ZONE 'UTC')::date, ${s}.duration_bucket(v.seconds), count(*), sum(v.ms)
           FROM unnest($1::text[], $2::text[], $3::float8[], $4::bigint[], $5::text[], $6::text[], $7::timestamptz[]) AS v(process_id, stage_id, seconds, ms, team_id, owner_id, left_at)
           CROSS JOIN LATERAL (VALUES ('all', ''), ('team', v.team_id), ('owner', v.owner_id)) AS d(dim, dim_id) WHERE d.dim_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6
           ON CONFLICT (dim, dim_id, process_id, stage_id, month, bucket) DO UPDATE SET visits = t.visits + EXCLUDED.visits, ms_sum = t.ms_sum + EXCLUDED.ms_sum`,
          [...byStage, ...teamsAndOwners, completed.map((v) => iso(v.leftMs))],
        );
      }
    }

    // Begun in this batch: copied in. Begun before: upserted (only their end changes).
    const newSegments = [...changes.segments.values()].filter((g) => g.startedPosition > fresh.from);
    if (newSegments.length > 0) {
      copy(
        copyOf(`${s}.board_segments`, SEGMENT_COLUMNS, newSegments, (g) => {
          const filing = periodFiling(g.startMs, g.endMs);
          return `${g.startedPosition}\t${t(g.opportunityId)}\t${t(g.processId)}\t${t(this.stageId(g.stageKey))}\t${t(iso(g.startMs))}\t${t(iso(g.endMs))}\t${n(g.probability)}\t${n(g.amount)}\t${t(g.currency)}\t${t(g.teamId)}\t${t(g.ownerId)}\t${t(iso(g.enteredMs))}\t${t(g.title)}\t${t(dateOrNull(g.expectedDay))}\t${n(filing.level)}\t${n(filing.block)}\t${copyBool(g.setBack)}`;
        }),
      );
    }
    const storedSegments = newSegments.length === changes.segments.size ? [] : [...changes.segments.values()].filter((g) => g.startedPosition <= fresh.from);
    if (storedSegments.length > 0) {
      const rows = storedSegments;
      // Where the index of standing periods files each one, computed here rather than by PostgreSQL for every row (see periodFiling).
      const filings = rows.map((g) => periodFiling(g.startMs, g.endMs));
      q(
        `INSERT INTO ${s}.board_segments (started_position, opportunity_id, process_id, stage_id, valid_from, valid_to, probability, amount, currency, team_id, owner_id, stage_entered_at, title, expected_close_date,
           period_level, period_block, set_back)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::float8[], $8::float8[], $9::text[], $10::text[], $11::text[], $12::timestamptz[], $13::text[], $14::date[],
           $15::int[], $16::bigint[], $17::bool[])
         ON CONFLICT (started_position) DO UPDATE SET valid_to = EXCLUDED.valid_to, period_level = EXCLUDED.period_level, period_block = EXCLUDED.period_block`,
        [
          rows.map((g) => g.startedPosition),
          rows.map((g) => g.opportunityId),
          rows.map((g) => g.processId),
          rows.map((g) => this.stageId(g.stageKey)),
          rows.map((g) => iso(g.startMs)),
          rows.map((g) => iso(g.endMs)),
          rows.map((g) => g.probability),
          rows.map((g) => g.amount),
          rows.map((g) => g.currency),
          rows.map((g) => g.teamId),
          rows.map((g) => g.ownerId),
          rows.map((g) => iso(g.enteredMs)),
          rows.map((g) => g.title),
          rows.map((g) => dateOrNull(g.expectedDay)),
          filings.map((f) => f.level),
          filings.map((f) => f.block),
          // (Only a row not stored yet takes it: set_back is the segment's from its first event on.)
          rows.map((g) => g.setBack),
        ],
      );
    }

    // Every transition and closing of a batch is new (keyed by its position in the log).
    if (changes.transitions.length > 0) {
      copy(
        copyOf(`${s}.transitions`, 'position, opportunity_id, process_id, from_stage, to_stage, kind, occurred_at, pair_no', changes.transitions, (x) =>
          `${x.position}\t${t(x.opportunityId)}\t${t(x.processId)}\t${t(this.stageId(x.from))}\t${t(this.stageId(x.to))}\t${t(x.kind)}\t${t(iso(x.atMs))}\t${x.pairNo}`,
        ),
      );
    }
    if (changes.outcomes.length > 0) {
      copy(
        copyOf(`${s}.outcomes`, 'closing_position, opportunity_id, process_id, outcome, stage_id, reason, amount, currency, closed_at, team_id, owner_id', changes.outcomes, (o) =>
          `${o.position}\t${t(o.opportunityId)}\t${t(o.processId)}\t${t(o.outcome)}\t${o.stageKey < 0 ? '\\N' : t(this.stageId(o.stageKey))}\t${t(o.reason)}\t${n(o.amount)}\t${t(o.currency)}\t${t(iso(o.closedMs))}\t${t(o.teamId)}\t${t(o.ownerId)}`,
        ),
      );
    }
    // The learned win probability (read-side.learned.ts): each deal's first setback, then the labels of this batch's closings.
    // (`opportunities.set_back` is written with the deal's row: the fold keeps it in the record.)
    const setbacks = changes.transitions.filter((t) => t.kind === 'backward' || t.kind === 'reopened');
    if (setbacks.length > 0) q(keepSetbacksSql(s), [setbacks.map((t) => t.opportunityId), setbacks.map((t) => t.position), setbacks.map((t) => iso(t.atMs))]);
    // Once a segment's times go back, board_segments.set_back is not trusted again until a rebuild (the fold's keepTimeOrder).
    if (changes.timesUnordered) q(`UPDATE ${s}.checkpoint SET times_unordered = true WHERE NOT times_unordered`, []);
    if (changes.outcomes.length > 0) q(keepLearnedSql(s), [changes.outcomes.map((o) => o.position)]);
    if (changes.reopened.size > 0) {
      const entries = [...changes.reopened.entries()];
      q(`UPDATE ${s}.outcomes o SET reopened_at = r.at FROM unnest($1::bigint[], $2::timestamptz[]) AS r(position, at) WHERE o.closing_position = r.position`, [
        entries.map(([position]) => position),
        entries.map(([, at]) => iso(at)),
      ]);
    }

    if (changes.pairs.size > 0) {
      const pairs = [...changes.pairs].map((pairNo) => this.state.pairs[pairNo]!);
      q(
        `INSERT INTO ${s}.transition_pairs (pair_no, process_id, from_stage, to_stage, transitions) SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::bigint[])
         ON CONFLICT (pair_no) DO UPDATE SET transitions = EXCLUDED.transitions`,
        [
          pairs.map((p) => p.pairNo),
          pairs.map((p) => catalog.stages[p.from >= 0 ? p.from : p.to >= 0 ? p.to : 0]?.processId ?? ''),
          pairs.map((p) => this.stageId(p.from)),
          pairs.map((p) => this.stageId(p.to)),
          pairs.map((p) => p.count),
        ],
      );
    }
    if (changes.visitTotals.size > 0) {
      const keys = [...changes.visitTotals];
      q(
        `INSERT INTO ${s}.stage_visit_totals (process_id, stage_id, completed, seconds_sum) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[])
         ON CONFLICT (process_id, stage_id) DO UPDATE SET completed = EXCLUDED.completed, seconds_sum = EXCLUDED.seconds_sum`,
        [keys.map((key) => catalog.stages[key]!.processId), keys.map((key) => catalog.stages[key]!.stageId), keys.map((key) => this.state.visitTotals.get(key)!.count), keys.map((key) => this.state.visitTotals.get(key)!.sum)],
      );
    }
    if (changes.catalogChanged) this.encodeCatalog(q);
    for (const statement of summaries.deltas?.statements(s) ?? []) q(statement.sql, statement.values);
    return statements;
  }

  /** The catalog as tables for people (small: rewritten whenever it changes). */
  private encodeCatalog(q: (sql: string, values: unknown[]) => void): void {
    const s = this.schema;
    const { catalog } = this.state;
    q(`DELETE FROM ${s}.processes; DELETE FROM ${s}.process_versions; DELETE FROM ${s}.stages; DELETE FROM ${s}.version_stages`, []);
    const processes = [...catalog.processes.values()];
    q(`INSERT INTO ${s}.processes SELECT * FROM unnest($1::text[], $2::text[])`, [processes.map((p) => p.processId), processes.map((p) => p.latest?.version ?? null)]);
    q(`INSERT INTO ${s}.process_versions SELECT * FROM unnest($1::text[], $2::text[], $3::bool[])`, [
      catalog.versions.map((v) => v.process.processId),
      catalog.versions.map((v) => v.version),
      catalog.versions.map((v) => v.recorded),
    ]);
    const stages = processes.flatMap((process) => {
      const order = stageOrderOf(process);
      const chain = process.latest ? process.latest.stageKeys.length : order.length;
      return order.map((key, index) => ({ stage: catalog.stages[key]!, index, inChain: index < chain }));
    });
    q(`INSERT INTO ${s}.stages (process_id, stage_id, name, probability, display_order, in_chain, rot_after_days) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::int[], $6::bool[], $7::int[])`, [
      stages.map((x) => x.stage.processId),
      stages.map((x) => x.stage.stageId),
      stages.map((x) => x.stage.name),
      stages.map((x) => x.stage.probability),
      stages.map((x) => x.index),
      stages.map((x) => x.inChain),
      stages.map((x) => x.stage.rotAfterDays ?? null),
    ]);
    const versionStages = catalog.versions.flatMap((version) => version.stageKeys.map((key, rank) => ({ version, key, rank })));
    q(`INSERT INTO ${s}.version_stages SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::float8[])`, [
      versionStages.map((x) => x.version.process.processId),
      versionStages.map((x) => x.version.version),
      versionStages.map((x) => catalog.stages[x.key]!.stageId),
      versionStages.map((x) => x.rank),
      versionStages.map((x) => x.version.probabilityByKey.get(x.key) ?? 0),
    ]);
  }
}

const dateOrNull = (day: number | null): string | null => (day === null ? null : calendarDateOf(day));

/**
 * A value as an SQL literal: E'' strings escape their backslashes and quotes whatever
 * standard_conforming_strings says; numbers (positions, counts, floats) as JavaScript writes them.
 */
function literalOf(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : `'${String(value)}'`;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return `E'${String(value).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** A statement with its parameters written in as literals (each `$n` is followed by its cast). */
const inlined = ({ sql, values }: Statement): string => sql.replace(/\$(\d+)/g, (_, index: string) => literalOf(values[Number(index) - 1]));

const OPPORTUNITY_COLUMNS =
  'opportunity_id, opened_position, process_id, process_version, title, team_id, owner_id, amount, currency, opened_at, status, stage_id, stage_entered_at, probability, closed_at, lost_reason, won_amount, won_currency, furthest_rank, ever_won, visits, segment_started_position, segment_started_at, segment_probability, last_closing_position, updated_position, expected_close_date, won_reason, next_steps, criteria_met, set_back, entered_ranks, search_text, search_fold';
const VISIT_COLUMNS = 'opportunity_id, visit_no, process_id, process_version, stage_id, entered_at, left_at, left_to, duration_seconds, ended_position, team_id, owner_id, amount, currency, current_team_id, current_owner_id, duration_ms, entered_stage_id, entered_process_version';
const SEGMENT_COLUMNS = 'started_position, opportunity_id, process_id, stage_id, valid_from, valid_to, probability, amount, currency, team_id, owner_id, stage_entered_at, title, expected_close_date, period_level, period_block, set_back';

/** Events folded between two turns of the event loop. */
const FOLD_SLICE = 2_000;

/** One statement of a batch, its parameters already encoded. */
interface Statement {
  readonly sql: string;
  readonly values: readonly unknown[];
  /** A COPY … FROM STDIN's rows (read-side.copy.ts). */
  readonly copy?: Buffer;
}

const NUMBER_TYPES = new Set(['float8', 'bigint', 'int']);
const TEXT_TYPES = new Set(['text', 'timestamptz', 'date', 'jsonb', 'numeric']);

/**
 * Encodes each array parameter as the literal of the type the statement casts it to (`$n::type[]`),
 * in one pass (read-side.encoding.ts), rather than through the driver's per-element conversion.
 */
function statementOf(sql: string, values: readonly unknown[]): Statement {
  const types = new Map<number, string>();
  for (const [, index, type] of sql.matchAll(/\$(\d+)::(\w+)\[\]/g)) types.set(Number(index) - 1, type!);
  return {
    sql,
    values: values.map((value, index) => {
      const type = types.get(index);
      if (!Array.isArray(value) || type === undefined) return value;
      if (NUMBER_TYPES.has(type)) return numberArray(value as (number | null)[]);
      if (TEXT_TYPES.has(type)) return textArray(value as (string | null)[]);
      if (type === 'bool') return boolArray(value as boolean[]);
      throw new Error(`No array encoding for ${type}[]`);
    }),
  };
}

/** An event the read side cannot fold in: the projector stops, visibly, as an in-memory projection does. */
export class FoldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FoldError';
  }
}

function lastAnchorOf(events: readonly WrittenEvent[]): LogAnchor | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const { position, id } = events[i]!;
    if (id !== undefined) return { position, eventId: id };
  }
  return undefined;
}

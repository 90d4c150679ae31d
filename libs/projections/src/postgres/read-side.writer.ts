import { calendarDateOf } from '@stagecraft/opportunity';
import type { ClientBase } from 'pg';
import type { ProjectedEvent } from '../projection.types';
import {
  createReadSideState,
  emptyChanges,
  foldEvent,
  LOST_END,
  opportunityIdsOf,
  restoreReadSideState,
  serializeReadSideState,
  WON_END,
  type OpportunityRecord,
  type ReadSideChanges,
  type ReadSideState,
  type SerializedReadSideState,
} from './read-side.fold';
import { stageOrderOf } from '../process-catalog';

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
  readonly failed: string | null;
}

const iso = (ms: number | null): string | null => (ms === null || !Number.isFinite(ms) ? null : new Date(ms).toISOString());
const ms = (column: string) => `(EXTRACT(EPOCH FROM ${column}) * 1000)::double precision`;

export class ReadSideWriter {
  private state: ReadSideState = createReadSideState();
  private checkpoint: Checkpoint = { position: 0, logId: '', failed: null };
  private stateRevision = 0;
  /** Recently used records, oldest first (a Map keeps insertion order). */
  private readonly cache = new Map<string, OpportunityRecord>();

  constructor(
    private readonly client: ClientBase,
    readonly schema: string,
    private readonly cacheSize = 50_000,
  ) {}

  get position(): number {
    return this.checkpoint.position;
  }

  get current(): Checkpoint {
    return this.checkpoint;
  }

  /** Reads the checkpoint and the small state back (after a start, a crash or a failed batch). */
  async load(): Promise<Checkpoint> {
    const s = this.schema;
    this.cache.clear();
    const { rows } = await this.client.query<{ position: string; log_id: string; failed: string | null; state: SerializedReadSideState | null; state_revision: string; counters: SerializedCounters | null }>(
      `SELECT position, log_id, failed, state, state_revision, counters FROM ${s}.checkpoint`,
    );
    const row = rows[0]!;
    this.checkpoint = { position: Number(row.position), logId: row.log_id, failed: row.failed };
    this.stateRevision = Number(row.state_revision);
    if (row.state === null) {
      this.state = createReadSideState();
      return this.checkpoint;
    }
    const counters = row.counters ?? { pairs: [], visitTotals: [] };
    this.state = restoreReadSideState(
      row.state,
      counters.pairs.map(([from, to, count], pairNo) => ({ pairNo, from, to, count })),
      counters.visitTotals.map(([stageKey, count, sum]) => ({ stageKey, count, sum })),
    );
    return this.checkpoint;
  }

  /** Empties every table and the checkpoint: the read side starts again from position 0 of `logId`. */
  async reset(logId: string): Promise<void> {
    const s = this.schema;
    await this.client.query('BEGIN');
    try {
      await this.client.query(
        `TRUNCATE ${s}.opportunities, ${s}.stage_visits, ${s}.stage_visit_totals, ${s}.stage_duration_buckets, ${s}.outcomes, ${s}.transitions, ${s}.transition_pairs, ${s}.board_segments, ${s}.processes, ${s}.process_versions, ${s}.stages, ${s}.version_stages`,
      );
      await this.client.query(`UPDATE ${s}.checkpoint SET position = 0, log_id = $1, failed = NULL, state = NULL, counters = NULL, state_revision = state_revision + 1, updated_at = now()`, [logId]);
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
  async apply(events: readonly ProjectedEvent[], passed: number, logId: string): Promise<void> {
    const fresh = events.filter((event) => event.position > this.checkpoint.position);
    const target = Math.max(passed, fresh.length > 0 ? fresh[fresh.length - 1]!.position : 0, this.checkpoint.position);
    if (target === this.checkpoint.position && fresh.length === 0) return;
    await this.loadRecords([...opportunityIdsOf(fresh)].filter((id) => !this.cache.has(id)));
    const changes = emptyChanges();
    try {
      for (const event of fresh) foldEvent(this.state, changes, (id) => this.cache.get(id), event);
    } catch (error) {
      // The in-memory state may be half-changed: read it back before anything else.
      await this.load();
      throw new FoldError(`event at position ${fresh.find(() => true)?.position ?? target}… could not be folded in: ${(error as Error).message}`);
    }
    const client = this.client;
    await client.query('BEGIN');
    try {
      await this.write(changes);
      const counters = changes.pairs.size > 0 || changes.visitTotals.size > 0 ? JSON.stringify(this.counters()) : null;
      const moved = await client.query(
        `UPDATE ${this.schema}.checkpoint SET position = $1, log_id = $2, updated_at = now(), counters = COALESCE($4::jsonb, counters)${changes.catalogChanged ? ', state = $5, state_revision = state_revision + 1' : ''} WHERE position = $3`,
        changes.catalogChanged ? [target, logId, this.checkpoint.position, counters, JSON.stringify(serializeReadSideState(this.state))] : [target, logId, this.checkpoint.position, counters],
      );
      // Another writer moved the checkpoint (it cannot while we hold the lock, but never count twice).
      if (moved.rowCount !== 1) throw new Error(`the checkpoint of ${this.schema} moved under this projector; it stops rather than count events twice`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      await this.load();
      throw error;
    }
    if (changes.catalogChanged) this.stateRevision += 1;
    this.checkpoint = { position: target, logId, failed: this.checkpoint.failed };
    for (const record of changes.opportunities.values()) this.remember(record);
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

  private async loadRecords(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const { rows } = await this.client.query<Record<string, unknown>>(
      `SELECT opportunity_id, opened_position, process_id, process_version, title, team_id, owner_id, amount, currency, ${ms('opened_at')} AS opened_ms, status, stage_id,
        ${ms('stage_entered_at')} AS stage_entered_ms, probability, ${ms('closed_at')} AS closed_ms, lost_reason, won_amount, won_currency, won_reason, next_steps, furthest_rank, ever_won, visits,
        segment_started_position, ${ms('segment_started_at')} AS segment_started_ms, segment_probability, last_closing_position, updated_position,
        (expected_close_date - DATE '1970-01-01') AS expected_day, criteria_met
       FROM ${this.schema}.opportunities WHERE opportunity_id = ANY($1::text[])`,
      [ids],
    );
    const { catalog } = this.state;
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
        everWon: row.ever_won as boolean,
        visits: row.visits as number,
        segmentPosition: row.segment_started_position === null ? null : Number(row.segment_started_position),
        segmentStartMs: (row.segment_started_ms as number | null) ?? NaN,
        segmentProbability: row.segment_probability as number,
        lastClosingPosition: row.last_closing_position === null ? null : Number(row.last_closing_position),
        updatedPosition: Number(row.updated_position),
        expectedDay: row.expected_day === null ? null : Number(row.expected_day),
        criteriaMet: [...((row.criteria_met as string[] | null) ?? [])],
      };
      this.remember(record);
    }
  }

  private stageId(key: number): string {
    return key === WON_END ? 'won' : key === LOST_END ? 'lost' : this.state.catalog.stages[key]!.stageId;
  }

  private async write(changes: ReadSideChanges): Promise<void> {
    const s = this.schema;
    const { catalog } = this.state;
    const q = (sql: string, values: unknown[]) => this.client.query(sql, values);

    if (changes.opportunities.size > 0) {
      const rows = [...changes.opportunities.values()];
      const column = <T>(pick: (record: OpportunityRecord) => T) => rows.map(pick);
      await q(
        `INSERT INTO ${s}.opportunities (opportunity_id, opened_position, process_id, process_version, title, team_id, owner_id, amount, currency, opened_at, status, stage_id,
           stage_entered_at, probability, closed_at, lost_reason, won_amount, won_currency, furthest_rank, ever_won, visits, segment_started_position, segment_started_at,
           segment_probability, last_closing_position, updated_position, expected_close_date, won_reason, next_steps, criteria_met)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::text[], $10::timestamptz[], $11::text[], $12::text[],
           $13::timestamptz[], $14::float8[], $15::timestamptz[], $16::text[], $17::float8[], $18::text[], $19::int[], $20::bool[], $21::int[], $22::bigint[], $23::timestamptz[],
           $24::float8[], $25::bigint[], $26::bigint[], $27::date[], $28::text[], $29::text[], $30::jsonb[])
         ON CONFLICT (opportunity_id) DO UPDATE SET process_version = EXCLUDED.process_version, title = EXCLUDED.title, team_id = EXCLUDED.team_id, owner_id = EXCLUDED.owner_id,
           amount = EXCLUDED.amount, currency = EXCLUDED.currency, status = EXCLUDED.status, stage_id = EXCLUDED.stage_id, stage_entered_at = EXCLUDED.stage_entered_at,
           probability = EXCLUDED.probability, closed_at = EXCLUDED.closed_at, lost_reason = EXCLUDED.lost_reason, won_amount = EXCLUDED.won_amount, won_currency = EXCLUDED.won_currency,
           furthest_rank = EXCLUDED.furthest_rank, ever_won = EXCLUDED.ever_won, visits = EXCLUDED.visits, segment_started_position = EXCLUDED.segment_started_position,
           segment_started_at = EXCLUDED.segment_started_at, segment_probability = EXCLUDED.segment_probability, last_closing_position = EXCLUDED.last_closing_position,
           updated_position = EXCLUDED.updated_position, expected_close_date = EXCLUDED.expected_close_date, won_reason = EXCLUDED.won_reason, next_steps = EXCLUDED.next_steps, criteria_met = EXCLUDED.criteria_met`,
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
        ],
      );
    }

    if (changes.visits.size > 0) {
      const rows = [...changes.visits.values()];
      await q(
        `INSERT INTO ${s}.stage_visits (opportunity_id, visit_no, process_id, process_version, stage_id, entered_at, left_at, left_to, duration_seconds, ended_position, team_id, owner_id, amount, currency)
         SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::text[], $9::float8[], $10::bigint[], $11::text[], $12::text[], $13::float8[], $14::text[])
         ON CONFLICT (opportunity_id, visit_no) DO UPDATE SET process_version = EXCLUDED.process_version, stage_id = EXCLUDED.stage_id, left_at = EXCLUDED.left_at, left_to = EXCLUDED.left_to,
           duration_seconds = EXCLUDED.duration_seconds, ended_position = EXCLUDED.ended_position, team_id = EXCLUDED.team_id, owner_id = EXCLUDED.owner_id, amount = EXCLUDED.amount, currency = EXCLUDED.currency`,
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
        ],
      );
    }

    // Visits completed in this batch (a completed visit is never written again): counted per bucket.
    const completed = [...changes.visits.values()].filter((v) => v.leftMs !== null);
    if (completed.length > 0) {
      await q(
        `INSERT INTO ${s}.stage_duration_buckets (process_id, stage_id, bucket, visits)
         SELECT process_id, stage_id, ${s}.duration_bucket(seconds), count(*) FROM unnest($1::text[], $2::text[], $3::float8[]) AS v(process_id, stage_id, seconds) GROUP BY 1, 2, 3
         ON CONFLICT (process_id, stage_id, bucket) DO UPDATE SET visits = ${s}.stage_duration_buckets.visits + EXCLUDED.visits`,
        [completed.map((v) => v.processId), completed.map((v) => this.stageId(v.stageKey)), completed.map((v) => v.seconds)],
      );
    }

    if (changes.segments.size > 0) {
      const rows = [...changes.segments.values()];
      await q(
        `INSERT INTO ${s}.board_segments (started_position, opportunity_id, process_id, stage_id, valid_from, valid_to, probability, amount, currency, team_id, owner_id, stage_entered_at, title, expected_close_date)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::float8[], $8::float8[], $9::text[], $10::text[], $11::text[], $12::timestamptz[], $13::text[], $14::date[])
         ON CONFLICT (started_position) DO UPDATE SET valid_to = EXCLUDED.valid_to`,
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
        ],
      );
    }

    if (changes.transitions.length > 0) {
      const rows = changes.transitions;
      await q(
        `INSERT INTO ${s}.transitions (position, opportunity_id, process_id, from_stage, to_stage, kind, occurred_at, pair_no)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::int[])`,
        [
          rows.map((t) => t.position),
          rows.map((t) => t.opportunityId),
          rows.map((t) => t.processId),
          rows.map((t) => this.stageId(t.from)),
          rows.map((t) => this.stageId(t.to)),
          rows.map((t) => t.kind),
          rows.map((t) => iso(t.atMs)),
          rows.map((t) => t.pairNo),
        ],
      );
    }

    if (changes.outcomes.length > 0) {
      const rows = changes.outcomes;
      await q(
        `INSERT INTO ${s}.outcomes (closing_position, opportunity_id, process_id, outcome, stage_id, reason, amount, currency, closed_at, team_id, owner_id)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::text[], $9::timestamptz[], $10::text[], $11::text[])`,
        [
          rows.map((o) => o.position),
          rows.map((o) => o.opportunityId),
          rows.map((o) => o.processId),
          rows.map((o) => o.outcome),
          rows.map((o) => (o.stageKey < 0 ? null : this.stageId(o.stageKey))),
          rows.map((o) => o.reason),
          rows.map((o) => o.amount),
          rows.map((o) => o.currency),
          rows.map((o) => iso(o.closedMs)),
          rows.map((o) => o.teamId),
          rows.map((o) => o.ownerId),
        ],
      );
    }
    if (changes.reopened.size > 0) {
      const entries = [...changes.reopened.entries()];
      await q(`UPDATE ${s}.outcomes o SET reopened_at = r.at FROM unnest($1::bigint[], $2::timestamptz[]) AS r(position, at) WHERE o.closing_position = r.position`, [
        entries.map(([position]) => position),
        entries.map(([, at]) => iso(at)),
      ]);
    }

    if (changes.pairs.size > 0) {
      const pairs = [...changes.pairs].map((pairNo) => this.state.pairs[pairNo]!);
      await q(
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
      await q(
        `INSERT INTO ${s}.stage_visit_totals (process_id, stage_id, completed, seconds_sum) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[])
         ON CONFLICT (process_id, stage_id) DO UPDATE SET completed = EXCLUDED.completed, seconds_sum = EXCLUDED.seconds_sum`,
        [keys.map((key) => catalog.stages[key]!.processId), keys.map((key) => catalog.stages[key]!.stageId), keys.map((key) => this.state.visitTotals.get(key)!.count), keys.map((key) => this.state.visitTotals.get(key)!.sum)],
      );
    }
    if (changes.catalogChanged) await this.writeCatalog();
  }

  /** The catalog as tables for people (small: rewritten whenever it changes). */
  private async writeCatalog(): Promise<void> {
    const s = this.schema;
    const { catalog } = this.state;
    await this.client.query(`DELETE FROM ${s}.processes; DELETE FROM ${s}.process_versions; DELETE FROM ${s}.stages; DELETE FROM ${s}.version_stages;`);
    const processes = [...catalog.processes.values()];
    await this.client.query(`INSERT INTO ${s}.processes SELECT * FROM unnest($1::text[], $2::text[])`, [processes.map((p) => p.processId), processes.map((p) => p.latest?.version ?? null)]);
    await this.client.query(`INSERT INTO ${s}.process_versions SELECT * FROM unnest($1::text[], $2::text[], $3::bool[])`, [
      catalog.versions.map((v) => v.process.processId),
      catalog.versions.map((v) => v.version),
      catalog.versions.map((v) => v.recorded),
    ]);
    const stages = processes.flatMap((process) => {
      const order = stageOrderOf(process);
      const chain = process.latest ? process.latest.stageKeys.length : order.length;
      return order.map((key, index) => ({ stage: catalog.stages[key]!, index, inChain: index < chain }));
    });
    await this.client.query(`INSERT INTO ${s}.stages (process_id, stage_id, name, probability, display_order, in_chain, rot_after_days) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::int[], $6::bool[], $7::int[])`, [
      stages.map((x) => x.stage.processId),
      stages.map((x) => x.stage.stageId),
      stages.map((x) => x.stage.name),
      stages.map((x) => x.stage.probability),
      stages.map((x) => x.index),
      stages.map((x) => x.inChain),
      stages.map((x) => x.stage.rotAfterDays ?? null),
    ]);
    const versionStages = catalog.versions.flatMap((version) => version.stageKeys.map((key, rank) => ({ version, key, rank })));
    await this.client.query(`INSERT INTO ${s}.version_stages SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::float8[])`, [
      versionStages.map((x) => x.version.process.processId),
      versionStages.map((x) => x.version.version),
      versionStages.map((x) => catalog.stages[x.key]!.stageId),
      versionStages.map((x) => x.rank),
      versionStages.map((x) => x.version.probabilityByKey.get(x.key) ?? 0),
    ]);
  }
}

const dateOrNull = (day: number | null): string | null => (day === null ? null : calendarDateOf(day));

/** An event the read side cannot fold in: the projector stops, visibly, as an in-memory projection does. */
export class FoldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FoldError';
  }
}

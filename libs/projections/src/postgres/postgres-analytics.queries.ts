import type {
  OpportunitySearchResult,
  CohortsResult,
  ForecastAccuracyResult,
  ForecastResult,
  RottingResult,
  ClosedOpportunity,
  ClosedSection,
  FunnelResult,
  PipelineOpportunity,
  PipelineResult,
  PipelineStage,
  StageDurationStats,
  StageDurationsResult,
  TransitionsResult,
  VelocityResult,
  WaterfallResult,
  WinLossFigures,
  WinLossGroup,
  WinLossGroupBy,
  WinLossResult,
  WinProbabilityCalibrationResult,
} from '@stagecraft/contracts';
import { requireInstant } from '@stagecraft/opportunity';
import { escapeLiteral, type Pool, type PoolClient, type QueryResult } from 'pg';
import { forecastDaysOf, ForecastAccuracyFigures, ForecastFigures, RottingList, standsAtPeriodStart } from '../forecast.figures';
import type { ForecastQuery, RottingQuery } from '../forecast.queries';
import { funnelFromHistograms } from '../funnel.projection';
import { cardsPerColumnOf, closedWindow, type PipelineFilter, type PipelineQueryOptions } from '../pipeline.projection';
import { dealMatches, ownerMatcher, SearchCursorError, SearchPage, searchLimitOf, searchNeedle, type OpportunitySearchQuery } from '../opportunity-search';
import { compareIds, criteriaProgressOf, processesOf, stageOrderOf } from '../process-catalog';
import { dictionary, NO_CURRENCY, parseFilter, soleCurrencyTotal } from '../projection.helpers';
import { winLossFiguresOf } from '../win-loss.projection';
import type { AnalyticsFilter } from '../projection.types';
import { ageOf, withCards } from '../stage-totals';
import { meanSecondsOf } from '../stage-durations.projection';
import { rebuildInstruction, type ProjectionStatus } from '../runner/read-models.port';
import { ReadModelUnavailableError, type AnalyticsQueries } from '../queries/analytics-queries.port';
import { readAtPosition } from '../queries/answer-position';
import type { LearnedForecastFigures, LearnedPipelineFigures } from '../win-probability.model';
import type { LearnedForecastQuery, LearnedPipelineQuery } from '../win-probability.queries';
import { pagesOf, PostgresWinProbabilityQueries } from './postgres-win-probability.queries';
import { SEARCH_FOLD } from './read-side.search-fold';
import { postgresUnreachable } from './postgres-unreachable';
import { NO_DAY } from '../stage-intervals.projection';
import { valueOfUnitsText } from '../exact-amounts';
import { WaterfallTally, type SegmentWalker, type WaterfallSegments } from '../waterfall.figures';
import type { WaterfallQuery, WindowQuery } from '../waterfall.queries';
import { VelocityTally } from '../velocity.figures';
import { cohortsResult, daysBetween, type CohortInput } from '../cohorts.figures';
import type { VelocityQuery } from '../velocity.queries';
import { queryAll, withoutSorting, WITHOUT_SORTING_LENGTH, WITHOUT_SORTING_RESULT, type Statement } from './read-side.batch';
import { standingAt, standingSegments } from './read-side.standing';
import { instantParameter, isoOf, ms } from './read-side.encoding';
import { monthCover } from './read-side.month-cover';
import { QUERY_LOCK_TIMEOUT_MS, QUERY_READ_TIMEOUT_MESSAGE, QUERY_STATEMENT_TIMEOUT_MS } from './read-side.read-bounds';
import { amountUnitsSum } from './read-side.amounts';
import { readSavedReadSideState, savedCountersProblem, UnreadableReadSideStateError } from './read-side.saved-state';
import { periodCover, SUMMARIES_NOTE, closedAmount, closedCurrency, closedReason, wholeAmount, type PeriodCover } from './read-side.summaries';
import { LOST_END, restoreReadSideState, WON_END, type ReadSideState, type SerializedReadSideState } from './read-side.fold';

// The analytics answered from the PostgreSQL read side, the same JSON as the in-memory models
// (queries/in-memory-analytics.queries.ts) for the same log. Sums of amounts are exact, in whole
// minor units (read-side.amounts.ts), so any order gives them. Where a figure is a float sum (a
// weighted amount), SQL adds in the order the in-memory query adds (row order; segments by the
// position that started them); where an answer lists keys, TypeScript builds the
// object in the in-memory order (currencies and reasons by first appearance, groups by key,
// stages in process order from the catalog). Medians and p90s pick values by exact integer rank.
// The stage-duration mean is no float sum: the exact (numeric) sum of whole ms, rounded once.
// Each answer reads one snapshot (REPEATABLE READ): the figures and the checkpoint agree.

/** What a reader of the read side needs to know about where it stands. */
export interface ReadSidePosition {
  position(): number;
  waitFor(position: number, timeoutMs: number): Promise<boolean>;
  status(): ProjectionStatus[];
  /** Set where another process projects (PostgresReadSideFollower): a stop names its command (rebuildInstruction). */
  readonly projectedElsewhere?: true;
}

interface Snapshot {
  readonly client: PoolClient;
  readonly state: ReadSideState;
  readonly position: number;
  /** checkpoint.state_revision: moved on by a reset (to another log, or the same folded again) and by a rebuild's swap, so with the position it names what the tables hold. */
  readonly revision: number;
  /** Whether the summary tables are kept (not while a catch-up from position 0 defers them), and are to be used. */
  readonly summaries: boolean;
  /**
   * Runs statements in this same snapshot on a second connection of the pool while `client` runs
   * others (read({ beside: true }) only; at most once an answer); on `client` itself, after what
   * it runs, when the pool had no idle connection to spare (never waiting for one).
   */
  readonly beside: (statements: readonly (Statement | string)[]) => Promise<QueryResult[]>;
}

interface Counters {
  readonly pairs: readonly (readonly [number, number, number])[];
  readonly visitTotals: readonly (readonly [number, number, number])[];
}

const isoDate = (column: string) => `to_char(${column}, 'YYYY-MM-DD')`;
// A bound past what a timestamptz holds (a filter's end a day on, say) is before or after everything, as in memory.
const isoOrNull = (value: number | null) => (value === null ? null : instantParameter(value));

/** What rankedFromBuckets reads: rows (process_id, stage_id, bucket, visits, ms_sum), one per bucket, and which visits (alias v) they count. */
interface DurationHistogram {
  readonly source: string;
  readonly visits: string;
  /** The source is one table's rows of one (dim, dim_id), read through its primary key in (process, stage, bucket) order. */
  readonly inKeyOrder?: boolean;
}

/** work_mem of a query's transaction: at most a few such sorts run at once per connection of the pool. */
const QUERY_WORK_MEM = '32MB';
// Room to sort and hash a whole table's closings in memory (the default 4 MB spills them to disk),
// for this transaction only.
// No parallel workers: a few queries add floats in the order of a sorted subquery, which workers would split.
const QUERY_SETTINGS = [`SET LOCAL work_mem = '${QUERY_WORK_MEM}'`, 'SET LOCAL max_parallel_workers_per_gather = 0'];

export { QUERY_STATEMENT_TIMEOUT_MS } from './read-side.read-bounds';

/** Builds WHERE clauses with numbered parameters. */
/** Rows the search's scan fetches at a time (three short columns each): a search that finds nothing reads every deal in ~1 round trip per 10,000. */
const SEARCH_PAGE_ROWS = 10_000;
/** The first page is short: words most titles hold are found in it, without reading 10,000 rows. */
const SEARCH_FIRST_PAGE_ROWS = 500;

class Where {
  readonly values: unknown[] = [];
  private readonly clauses: string[];
  constructor(...fixed: string[]) {
    this.clauses = [...fixed];
  }
  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
  add(clause: string): this {
    this.clauses.push(clause);
    return this;
  }
  eq(column: string, value: string | undefined): this {
    if (value !== undefined) this.clauses.push(`${column} = ${this.param(value)}`);
    return this;
  }
  toString(): string {
    return this.clauses.length === 0 ? '' : `WHERE ${this.clauses.join(' AND ')}`;
  }
}

export class PostgresAnalyticsQueries implements AnalyticsQueries {
  private cached?: { revision: number; state: SerializedReadSideState | null };

  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    private readonly readSide: ReadSidePosition,
    /**
     * summaries false: win-loss, funnel and transitions always take the general queries (tests compare the two). statementTimeoutMs: QUERY_STATEMENT_TIMEOUT_MS.
     * lockTimeoutMs: QUERY_LOCK_TIMEOUT_MS.
     * searchPageRows: the rows the search's scan fetches at a time (tests make them few, so that small logs span pages).
     */
    private readonly options: { summaries?: boolean; statementTimeoutMs?: number; lockTimeoutMs?: number; searchPageRows?: { readonly first: number; readonly next: number } } = {},
  ) {}

  private get lockTimeoutMs(): number {
    return Math.trunc(this.options.lockTimeoutMs ?? QUERY_LOCK_TIMEOUT_MS);
  }

  /** The transaction's settings: QUERY_SETTINGS, the statement timeout and the lock wait (a shorter one the role or database sets kept; pg_settings says it in ms). */
  private get settings(): string[] {
    return [
      ...QUERY_SETTINGS,
      `SET LOCAL statement_timeout = ${Math.trunc(this.options.statementTimeoutMs ?? QUERY_STATEMENT_TIMEOUT_MS)}`,
      `SELECT set_config('lock_timeout', LEAST(NULLIF(setting::bigint, 0), ${this.lockTimeoutMs})::text, true) FROM pg_settings WHERE name = 'lock_timeout'`,
    ];
  }

  position(): number {
    return this.readSide.position();
  }

  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    return this.readSide.waitFor(position, timeoutMs);
  }

  status(): ProjectionStatus[] {
    return this.readSide.status();
  }

  rebuildInstruction(names: readonly string[]): string {
    return rebuildInstruction(names, this.readSide);
  }

  async pipeline(filter: PipelineFilter, options: PipelineQueryOptions = {}): Promise<PipelineResult> {
    const cap = cardsPerColumnOf(options);
    const window = options.closed ? closedWindow(options.closed) : undefined;
    return this.read(
      async ({ client, state, beside }) => {
        const s = this.schema;
        const where = () => new Where('stage_id IS NOT NULL').eq('process_id', filter.processId).eq('team_id', filter.teamId).eq('owner_id', filter.ownerId);
        // The open columns' statements go in one round trip (read-side.batch.ts), the closed sections'
        // in another, run beside it on a second connection in the same snapshot (each took about
        // half of the server's time at 1M events: ~3 + 1.6 ms and ~3 + 1 ms); each `at` below is its
        // result's index in its round trip.
        const batch: (Statement | string)[] = [];
        const add = (...statements: (Statement | string)[]) => batch.push(...statements) - statements.length;
        const closedBatch: (Statement | string)[] = [];
        const addClosed = (...statements: (Statement | string)[]) => closedBatch.push(...statements) - statements.length;
        const totalsAt = add(this.stageTotalsStatement('opportunities', where(), 'opened_position'));
        const rottingStatement = options.nowMs === undefined ? undefined : this.rottingStatement(state, where(), 'opportunities', options.nowMs);
        const rottingAt = rottingStatement ? add(rottingStatement) : -1;
        const byPerson = filter.teamId !== undefined || filter.ownerId !== undefined;
        const cardStatements = options.includeOpportunities ? this.openCardsStatements(state, where(), 'opportunities', cap, true, byPerson) : undefined;
        const cardsAt = cardStatements ? add(...cardStatements.statements) + cardStatements.rows : -1;

        const outcomes = options.closed ? [...new Set(options.closed.outcomes)] : [];
        const closedWhere = () => {
          const w = new Where('stage_id IS NULL', `status <> 'open'`).eq('process_id', filter.processId).eq('team_id', filter.teamId).eq('owner_id', filter.ownerId);
          return w.add(`status = ANY(${w.param(outcomes)}::text[])`).add(`closed_at >= ${w.param(window!.from)}::timestamptz`).add(`closed_at <= ${w.param(window!.to)}::timestamptz`);
        };
        const sectionsOf = (): Statement => {
          const figures = closedWhere();
          return {
            // One group per currency; a section's count is the sum of its currencies' counts (grouping
            // sets for the section as well cost a second pass of the hash aggregate over every closing).
            sql: `SELECT process_id, status, currency, count(*)::int AS n, ${amountUnitsSum(s, 'amount')} AS amount,
                 min(opened_position) FILTER (WHERE amount IS NOT NULL) AS first
               FROM ${s}.opportunities ${figures} GROUP BY process_id, status, currency`,
            values: figures.values,
          };
        };
        const sectionsAt = window ? addClosed(sectionsOf()) : -1;
        let closedCardsAt = -1;
        if (window && options.includeOpportunities) {
          // The latest `limit` closings of each (process, outcome), each walked back from the window's end
          // through the index of closings by section (migration 13) instead of ranking every closing in
          // the window: the latest `limit` and any tied with the last, ordered with the id as tie-break.
          const w = closedWhere();
          const processIds = [...state.catalog.processes.keys()];
          const sectionProcesses = w.param(processIds.flatMap((processId) => outcomes.map(() => processId)));
          const sectionOutcomes = w.param(processIds.flatMap(() => outcomes));
          const limit = w.param(window.limit);
          w.add('process_id = section_process').add('status = section_status');
          const cardColumns = `o.opportunity_id, o.title, o.owner_id, o.team_id, o.amount, o.currency, ${ms('o.closed_at')} AS closed_ms, o.lost_reason, o.next_steps, o.process_version,
                 (SELECT oc.stage_id FROM ${s}.outcomes oc WHERE oc.closing_position = o.last_closing_position) AS closed_in_stage`;
          // Without a team or owner every closing walked is listed: the walk reads each one's page at
          // once. With one, the walk stays in the index (it holds the team and owner; reading the page
          // of every closing walked took 30–60 ms for a team at 1M events) and only the rows listed are
          // read, by their unique opened_position. The closing's stage is read from the primary key of
          // outcomes, which holds it (migration 13).
          const latest = byPerson
            ? `(SELECT opened_position FROM ${s}.opportunities ${w} ORDER BY closed_at DESC FETCH FIRST ${limit} ROWS WITH TIES) latest
                 JOIN ${s}.opportunities o ON o.opened_position = latest.opened_position`
            : `(SELECT * FROM ${s}.opportunities ${w} ORDER BY closed_at DESC FETCH FIRST ${limit} ROWS WITH TIES) o`;
          closedCardsAt = addClosed({
            // Each card says its section by number (section_no::int) rather than by its process and outcome: two texts fewer a card.
            sql: `SELECT section_no::int, closings.* FROM unnest(${sectionProcesses}::text[], ${sectionOutcomes}::text[]) WITH ORDINALITY AS section_of(section_process, section_status, section_no)
               CROSS JOIN LATERAL (SELECT ${cardColumns} FROM ${latest}
                 ORDER BY o.closed_at DESC, o.opportunity_id COLLATE "C" LIMIT ${limit}) closings
               ORDER BY section_no`,
            values: w.values,
          });
        }
        const [results, closedResults] = await Promise.all([queryAll(client, batch), beside(closedBatch)]);

        const { totals } = this.stageTotalsOf(state, results[totalsAt]!.rows);
        const rotting = options.nowMs === undefined ? undefined : rottingAt < 0 ? new Map<number, number>() : this.rottingOf(state, results[rottingAt]!.rows);
        const stages = this.stageFigures(state, totals, rotting);
        const cards = cardStatements ? this.openCardsOf(state, results[cardsAt]!.rows, true, options.nowMs) : undefined;

        let closed: ((processId: string) => { won?: ClosedSection; lost?: ClosedSection }) | undefined;
        if (window) {
          const sections = closedResults[sectionsAt]!;
          const closedCards = new Map<string, ClosedOpportunity[]>();
          // The sections in the order of the statement's section_no (process by process, outcome by outcome).
          const sectionLists = [...state.catalog.processes.keys()].flatMap((processId) =>
            outcomes.map((outcome) => {
              const list: ClosedOpportunity[] = [];
              closedCards.set(`${processId}\u0000${outcome}`, list);
              return { lost: outcome === 'lost', list };
            }),
          );
          for (const row of closedCardsAt < 0 ? [] : closedResults[closedCardsAt]!.rows) {
            const { lost, list } = sectionLists[(row.section_no as number) - 1]!;
            // One object literal per card, keys in the in-memory order (spreading a card into another cost ~1.5 µs a card).
            const closedAt = new Date(row.closed_ms).toISOString();
            const closedInStage = (row.closed_in_stage as string | null) ?? null;
            const nextSteps = row.next_steps ?? null;
            const processVersion = row.process_version as string;
            const [id, title, ownerId, teamId, amount, currency] = cardFields(row);
            list.push(
              lost
                ? { id, title, ownerId, teamId, amount, currency, closedAt, closedInStage, lostReason: row.lost_reason ?? null, nextSteps, processVersion }
                : { id, title, ownerId, teamId, amount, currency, closedAt, closedInStage, nextSteps, processVersion },
            );
          }
          const byKey = new Map<string, { n: number; currencies: { currency: string; amount: number; first: number }[] }>();
          for (const row of sections.rows) {
            const key = `${row.process_id}\u0000${row.status}`;
            const entry = byKey.get(key) ?? { n: 0, currencies: [] };
            byKey.set(key, entry);
            entry.n += row.n;
            if (row.amount !== null) entry.currencies.push({ currency: row.currency ?? NO_CURRENCY, amount: valueOfUnitsText(row.amount), first: Number(row.first) });
          }
          const section = (processId: string, outcome: 'won' | 'lost'): ClosedSection => {
            const key = `${processId}\u0000${outcome}`;
            const entry = byKey.get(key);
            // Keys in the order their first row (in row order) came, as the in-memory loop meets them.
            const amountsByCurrency = dictionary<number>();
            for (const { currency, amount } of [...(entry?.currencies ?? [])].sort((a, b) => a.first - b.first)) amountsByCurrency[currency] = amount;
            const figures = { count: entry?.n ?? 0, amount: soleCurrencyTotal(amountsByCurrency), amountsByCurrency };
            return options.includeOpportunities ? { ...figures, opportunities: closedCards.get(key) ?? [] } : figures;
          };
          closed = (processId) => ({ ...(outcomes.includes('won') ? { won: section(processId, 'won') } : {}), ...(outcomes.includes('lost') ? { lost: section(processId, 'lost') } : {}) });
        }

        const result: PipelineResult = {
          processes: processesOf(state.catalog, filter.processId).map((process) => ({
            processId: process.processId,
            stages: stageOrderOf(process).map((key) => (cards ? withCards(stages(key), cards.get(key) ?? [], cap) : stages(key))),
            ...(closed ? closed(process.processId) : {}),
          })),
        };
        return window ? { ...result, closed: window } : result;
      },
      { beside: window !== undefined },
    );
  }

  /**
   * GET /opportunities?q= (opportunity-search.ts): the rows the filters and the needle keep, newest
   * first, through a cursor a page at a time, each matched here by the rule the in-memory side
   * applies; it stops one past the limit.
   */
  async searchOpportunities(query: OpportunitySearchQuery): Promise<OpportunitySearchResult> {
    const needle = searchNeedle(query.q);
    const page = new SearchPage(searchLimitOf(query));
    return this.read(async ({ client }) => {
      const s = this.schema;
      const scope = () => new Where().eq('process_id', query.processId).eq('team_id', query.teamId).eq('owner_id', query.ownerId);
      const w = scope();
      if (query.statuses !== undefined) w.add(`status = ANY(${w.param([...query.statuses])}::text[])`);
      if (query.after !== undefined) {
        // The cursor is a deal of the question's filters, as in memory (it may have been won or renamed since its page).
        const c = scope();
        c.add(`opportunity_id = ${c.param(query.after)}`);
        const { rows } = await client.query(`SELECT opened_position FROM ${s}.opportunities ${c}`, c.values);
        if (rows.length === 0) throw new SearchCursorError(query.after);
        w.add(`opened_position < ${w.param(rows[0].opened_position)}::bigint`);
      }
      // PostgreSQL keeps the rows whose fold holds the needle (opportunities.search_text, kept by the
      // projector: dealSearchText), and those whose fold it does not know (null) or was made another
      // way (search_fold: another rule or Unicode version, as in a rolling upgrade); JavaScript decides
      // on each, by the rule the in-memory side applies. The scan reads only what is matched (id,
      // title, owner): the rows found are read whole after it, by id.
      w.add(`(search_text IS NULL OR search_fold IS DISTINCT FROM ${w.param(SEARCH_FOLD)}::text OR strpos(search_text, ${w.param(needle)}::text) > 0)`);
      const found: string[] = [];
      const wanted = searchLimitOf(query) + 1;
      const ownerHolds = ownerMatcher(needle);
      scan: for await (const rows of pagesOf(client, `SELECT opportunity_id, title, owner_id FROM ${s}.opportunities ${w} ORDER BY opened_position DESC`, w.values, this.options.searchPageRows?.next ?? SEARCH_PAGE_ROWS, this.options.searchPageRows?.first ?? SEARCH_FIRST_PAGE_ROWS)) {
        for (const row of rows) {
          if (!dealMatches(needle, ownerHolds(row.owner_id), row.title, row.opportunity_id)) continue;
          found.push(row.opportunity_id);
          if (found.length === wanted) break scan;
        }
      }
      if (found.length === 0) return page.result();
      const { rows } = await client.query(
        `SELECT opportunity_id, title, process_id, process_version, status, stage_id, ${ms('closed_at')} AS closed_ms, owner_id, team_id, amount, currency
         FROM ${s}.opportunities WHERE opportunity_id = ANY($1::text[])`,
        [found],
      );
      const byId = new Map(rows.map((row) => [row.opportunity_id as string, row]));
      for (const id of found) {
        const row = byId.get(id)!;
        const open = row.status === 'open';
        page.add({
          id,
          title: row.title,
          processId: row.process_id,
          processVersion: row.process_version,
          status: row.status,
          stageId: open ? row.stage_id : null,
          closedAt: open ? null : new Date(row.closed_ms).toISOString(),
          ownerId: row.owner_id,
          teamId: row.team_id,
          amount: row.amount,
          currency: row.currency,
        });
      }
      return page.result();
    });
  }

  async pipelineAsOf(atMs: number, filter: PipelineFilter, options: PipelineQueryOptions = {}): Promise<PipelineResult> {
    const cap = cardsPerColumnOf(options);
    return this.read(async ({ client, state }) => {
      const where = () => {
        const w = new Where().eq('process_id', filter.processId).eq('team_id', filter.teamId).eq('owner_id', filter.ownerId);
        return w.add(standingAt(atMs, (value) => w.param(value)));
      };
      // The segments standing at the instant found once, from the indexes of standing periods alone
      // (migrations 11 and 13), for the totals and the rotting counts, sorted once for every sum; the cards
      // in the same round trip. (The GiST index of periods found them too, but read a table page
      // for each: ~7,000 pages at 1M events. A covering GiST index was slower still.)
      const cardStatements = options.includeOpportunities ? this.openCardsStatements(state, where(), 'board_segments', cap) : undefined;
      const standing = await this.standingTotals(client, state, filter, atMs, cardStatements?.statements ?? []);
      const { totals, rotting } = this.stageTotalsOf(state, standing.rows);
      const stages = this.stageFigures(state, totals, rotting);
      const cards = cardStatements ? this.openCardsOf(state, standing.also[cardStatements.rows]!.rows, false, atMs) : undefined;
      return {
        processes: processesOf(state.catalog, filter.processId).map((process) => ({
          processId: process.processId,
          stages: stageOrderOf(process).map((key) => (cards ? withCards(stages(key), cards.get(key) ?? [], cap) : stages(key))),
        })),
      };
    });
  }

  // Forecast, accuracy and rotting (forecast.queries.ts): the rows are selected here, in the order
  // of the positions that made them, and added up by the same accumulators as the in-memory model.

  forecast(query: ForecastQuery): Promise<ForecastResult> {
    return this.forecastAt(undefined, query);
  }

  forecastAsOf(atMs: number, query: ForecastQuery): Promise<ForecastResult> {
    return this.forecastAt(atMs, query);
  }

  async forecastAccuracy(query: ForecastQuery): Promise<ForecastAccuracyResult> {
    const parsed = parseFilter(query);
    const figures = new ForecastAccuracyFigures(query.period, forecastDaysOf(query));
    return this.read(async ({ client }) => {
      const s = this.schema;
      const unit = query.period === 'quarter' ? 'quarter' : 'month';
      const w = new Where('expected_close_date IS NOT NULL').eq('process_id', parsed.processId).eq('team_id', parsed.teamId).eq('owner_id', parsed.ownerId);
      w.add(`tstzrange(valid_from, valid_to) @> (date_trunc('${unit}', expected_close_date::timestamp) AT TIME ZONE 'UTC')`);
      const segments = await client.query(
        `SELECT opportunity_id, (expected_close_date - DATE '1970-01-01') AS day, amount, probability, currency, ${ms('valid_from')} AS start_ms, ${ms('valid_to')} AS end_ms
         FROM ${s}.board_segments ${w} ORDER BY started_position`,
        w.values,
      );
      for (const row of segments.rows) {
        const day = Number(row.day);
        if (!standsAtPeriodStart(row.start_ms ?? NaN, row.end_ms ?? Infinity, day, query.period)) continue;
        figures.addForecast(row.opportunity_id, day, row.amount ?? NaN, row.probability, row.currency);
      }
      const wins = this.standingWins(undefined, parsed);
      for (const row of (await client.query(wins.sql, wins.values)).rows) figures.addWon(row.opportunity_id, row.closed_ms ?? NaN, row.amount ?? NaN, row.currency);
      return figures.result();
    });
  }

  rotting(nowMs: number, query: RottingQuery): Promise<RottingResult> {
    return this.rottingAt(nowMs, true, query);
  }

  rottingAsOf(atMs: number, query: RottingQuery): Promise<RottingResult> {
    return this.rottingAt(atMs, false, query);
  }

  /**
   * The waterfall from the board segments overlapping [from, to] (positive length only: an empty
   * range overlaps nothing), in the order of the positions that started them, handed to the same
   * tally as the in-memory model (waterfall.queries.ts).
   */
  async waterfall(query: WaterfallQuery): Promise<WaterfallResult> {
    return this.read(async ({ client, state }) => {
      let tally: WaterfallTally | undefined;
      await this.walkBoardSegments(client, state, query, (reader) => (tally = new WaterfallTally(reader, query)));
      return tally!.result(state.catalog, query.processId, query.fromMs, query.toMs);
    });
  }

  /** Sales velocity from the same walk as the waterfall (velocity.figures.ts). */
  async velocity(query: VelocityQuery): Promise<VelocityResult> {
    return this.read(async ({ client, state }) => {
      let tally: VelocityTally | undefined;
      await this.walkBoardSegments(client, state, query, (reader) => (tally = new VelocityTally(reader, query.groupBy)));
      return tally!.result(query.fromMs, query.toMs);
    });
  }

  /** Cohorts by month of opening: the funnel's histograms per month, and each won deal's first win from outcomes. */
  async cohorts(filter: AnalyticsFilter): Promise<CohortsResult> {
    const parsed = parseFilter(filter);
    return this.read(async ({ client, state }) => {
      const s = this.schema;
      const w = new Where('o.opened_at IS NOT NULL').eq('o.process_id', parsed.processId).eq('o.team_id', parsed.teamId).eq('o.owner_id', parsed.ownerId);
      if (filter.from !== undefined) w.add(`o.opened_at >= ${w.param(isoOrNull(parsed.fromMs))}::timestamptz`);
      if (filter.to !== undefined) w.add(`o.opened_at <= ${w.param(isoOrNull(parsed.toMs))}::timestamptz`);
      const month = `to_char(o.opened_at AT TIME ZONE 'UTC', 'YYYY-MM')`;
      const histogramRows = await client.query(
        `SELECT ${month} AS cohort, process_id, process_version, furthest_rank, ever_won, count(*)::int AS n FROM ${s}.opportunities o ${w} GROUP BY 1, process_id, process_version, furthest_rank, ever_won`,
        w.values,
      );
      const wins = await client.query(
        `SELECT ${month} AS cohort, ${ms('o.opened_at')} AS opened_ms, (SELECT ${ms('min(x.closed_at)')} FROM ${s}.outcomes x WHERE x.opportunity_id = o.opportunity_id AND x.outcome = 'won') AS won_ms
         FROM ${s}.opportunities o ${w} AND o.ever_won`,
        w.values,
      );
      const { catalog } = state;
      const cohorts = new Map<string, { histograms: Float64Array[]; opened: number; daysToWin: number[] }>();
      const cohortOf = (key: string) => {
        let cohort = cohorts.get(key);
        if (!cohort) cohorts.set(key, (cohort = { histograms: catalog.versions.map((version) => new Float64Array(version.stageKeys.length + 1)), opened: 0, daysToWin: [] }));
        return cohort;
      };
      for (const row of histogramRows.rows) {
        const cohort = cohortOf(row.cohort);
        const version = catalog.processes.get(row.process_id)!.versions.get(row.process_version)!;
        const histogram = cohort.histograms[version.code]!;
        histogram[row.ever_won ? histogram.length - 1 : row.furthest_rank] += row.n;
        cohort.opened += row.n;
      }
      for (const row of wins.rows) if (row.won_ms !== null) cohortOf(row.cohort).daysToWin.push(daysBetween(row.opened_ms, row.won_ms));
      const inputs = [...cohorts].map(([key, { histograms, opened, daysToWin }]): CohortInput => ({
        cohort: key,
        opened,
        daysToWin,
        funnel: funnelFromHistograms(catalog, parsed.processId, (code) => histograms[code]!),
      }));
      return cohortsResult(inputs);
    });
  }

  /** The walk of walkStageIntervals (waterfall.queries.ts) over board_segments: a deal's rows follow each other in valid_from order. */
  private async walkBoardSegments(client: PoolClient, state: ReadSideState, query: WindowQuery, walkerFor: (reader: WaterfallSegments) => SegmentWalker): Promise<void> {
    const { fromMs, toMs } = query;
    if (!(fromMs <= toMs)) throw new RangeError(`The window's from (${fromMs}) must not be after its to (${toMs}).`);
    const s = this.schema;
    const w = new Where('b.valid_from IS NOT NULL').eq('b.process_id', query.processId);
    const from = w.param(instantParameter(fromMs));
    const to = w.param(instantParameter(toMs));
    w.add(`tstzrange(b.valid_from, b.valid_to) && tstzrange(${from}::timestamptz, ${to}::timestamptz, '[]')`);
    const { rows } = await client.query(
      `SELECT b.opportunity_id, b.process_id, b.stage_id, ${ms('b.valid_from')} AS start_ms, ${ms('b.valid_to')} AS end_ms, b.probability, b.amount, b.currency,
         b.team_id, b.owner_id, b.title, (b.expected_close_date - DATE '1970-01-01') AS day, ${ms('o.opened_at')} AS opened_ms
       FROM ${s}.board_segments b JOIN ${s}.opportunities o ON o.opportunity_id = b.opportunity_id ${w} ORDER BY b.started_position`,
      w.values,
    );
    const wins = await client.query(
      `SELECT opportunity_id, ${ms('closed_at')} AS closed_ms FROM ${s}.outcomes
       WHERE outcome = 'won' AND closed_at > $1::timestamptz AND closed_at <= $2::timestamptz AND (reopened_at IS NULL OR reopened_at > closed_at)`,
      [instantParameter(fromMs), instantParameter(toMs)],
    );
    const wonAt = new Set(wins.rows.map((row) => `${row.opportunity_id}@${row.closed_ms}`));
    const { catalog } = state;
    const stageKeys = rows.map((row) => catalog.processes.get(row.process_id)!.keyByStageId.get(row.stage_id)!);
    const startMs = rows.map((row) => row.start_ms as number);
    const endMs = rows.map((row) => (row.end_ms ?? Infinity) as number);
    const walker = walkerFor({
      stageKey: (i) => stageKeys[i]!,
      amount: (i) => rows[i]!.amount ?? NaN,
      currency: (i) => rows[i]!.currency ?? null,
      probability: (i) => rows[i]!.probability,
      expectedDay: (i) => (rows[i]!.day === null ? NO_DAY : Number(rows[i]!.day)),
      id: (i) => rows[i]!.opportunity_id,
      title: (i) => rows[i]!.title,
      processId: (i) => rows[i]!.process_id,
      teamId: (i) => rows[i]!.team_id ?? null,
      ownerId: (i) => rows[i]!.owner_id ?? null,
      openedMs: (i) => rows[i]!.opened_ms ?? NaN,
    });
    const counts = (i: number) => (query.teamId === undefined || rows[i]!.team_id === query.teamId) && (query.ownerId === undefined || rows[i]!.owner_id === query.ownerId);
    // Each deal's rows in time order: the neighbours of a row within its deal.
    const previous = new Int32Array(rows.length).fill(-1);
    const next = new Int32Array(rows.length).fill(-1);
    const last = new Map<string, number>();
    rows.forEach((row, i) => {
      const before = last.get(row.opportunity_id);
      if (before !== undefined) [previous[i], next[before]] = [before, i];
      last.set(row.opportunity_id, i);
    });
    for (let i = 0; i < rows.length; i++) {
      const [start, end] = [startMs[i]!, endMs[i]!];
      const counted = counts(i);
      if (counted) walker.overlapping(i);
      if (counted && start <= fromMs) walker.standing('start', i);
      if (counted && toMs < end) walker.standing('end', i);
      if (fromMs < start) {
        const p = previous[i]!;
        if (p >= 0 && endMs[p] === start) {
          const wasCounted = counts(p);
          if (wasCounted && counted) walker.changed(p, i, start);
          else if (counted) walker.entered(i, start, 'movedIn');
          else if (wasCounted) walker.left(p, start, 'movedOut');
        } else if (counted) {
          walker.entered(i, start, start === rows[i]!.opened_ms ? 'created' : 'reopened');
        }
      }
      if (counted && end <= toMs) {
        const n = next[i]!;
        if (n < 0 || startMs[n] !== end) walker.left(i, end, wonAt.has(`${rows[i]!.opportunity_id}@${end}`) ? 'won' : 'lost');
      }
    }
  }

  private async forecastAt(atMs: number | undefined, query: ForecastQuery): Promise<ForecastResult> {
    const parsed = parseFilter(query);
    const figures = new ForecastFigures(query.period, forecastDaysOf(query));
    return this.read(async ({ client }) => {
      const w = this.segmentsAt(atMs, parsed);
      const segments = await client.query(
        `SELECT (expected_close_date - DATE '1970-01-01') AS day, amount, probability, currency FROM ${this.schema}.board_segments ${w} ORDER BY started_position`,
        w.values,
      );
      for (const row of segments.rows) figures.addOpen(row.day === null ? undefined : Number(row.day), row.amount ?? NaN, row.probability, row.currency);
      const wins = this.standingWins(atMs, parsed);
      for (const row of (await client.query(wins.sql, wins.values)).rows) figures.addWon(row.closed_ms ?? NaN, row.amount ?? NaN, row.currency);
      return figures.result(atMs === undefined ? null : new Date(atMs).toISOString());
    });
  }

  private async rottingAt(atMs: number, live: boolean, query: RottingQuery): Promise<RottingResult> {
    const list = new RottingList(atMs);
    return this.read(async ({ client, state }) => {
      const s = this.schema;
      const w = this.segmentsAt(live ? undefined : atMs, query);
      w.add(`EXISTS (SELECT 1 FROM ${s}.stages st WHERE st.process_id = b.process_id AND st.stage_id = b.stage_id AND st.rot_after_days IS NOT NULL)`);
      const { rows } = await client.query(
        `SELECT opportunity_id, title, process_id, stage_id, ${ms('stage_entered_at')} AS entered_ms, owner_id, team_id, amount, currency,
           to_char(expected_close_date, 'YYYY-MM-DD') AS expected_close_date
         FROM ${s}.board_segments b ${w} ORDER BY started_position`,
        w.values,
      );
      for (const row of rows) {
        const key = state.catalog.processes.get(row.process_id)?.keyByStageId.get(row.stage_id);
        list.add({
          id: row.opportunity_id,
          title: row.title,
          processId: row.process_id,
          stageId: row.stage_id,
          enteredMs: row.entered_ms ?? NaN,
          rotAfterDays: key === undefined ? null : state.catalog.stages[key]!.rotAfterDays,
          ownerId: row.owner_id,
          teamId: row.team_id,
          amount: row.amount,
          currency: row.currency,
          expectedCloseDate: row.expected_close_date,
        });
      }
      return list.result(query.limit);
    });
  }

  /** The board segments standing now (undefined) or at an instant, of the process, team and owner asked (team and owner then). */
  private segmentsAt(atMs: number | undefined, filter: PipelineFilter): Where {
    const w = new Where().eq('process_id', filter.processId).eq('team_id', filter.teamId).eq('owner_id', filter.ownerId);
    return atMs === undefined ? w.add('valid_to IS NULL') : w.add(`tstzrange(valid_from, valid_to) @> ${w.param(instantParameter(atMs))}::timestamptz`);
  }

  /** Wins standing now (not reopened) or at an instant, team and owner at the win, in the order they were made. */
  private standingWins(atMs: number | undefined, filter: PipelineFilter): { sql: string; values: unknown[] } {
    const w = new Where(`outcome = 'won'`).eq('process_id', filter.processId).eq('team_id', filter.teamId).eq('owner_id', filter.ownerId);
    if (atMs === undefined) w.add('reopened_at IS NULL');
    else {
      const at = w.param(instantParameter(atMs));
      w.add(`closed_at <= ${at}::timestamptz`).add(`(reopened_at IS NULL OR reopened_at > ${at}::timestamptz)`);
    }
    return {
      sql: `SELECT opportunity_id, ${ms('closed_at')} AS closed_ms, amount, currency FROM ${this.schema}.outcomes ${w} ORDER BY closing_position`,
      values: w.values,
    };
  }

  // The learned win probability: counted in SQL, estimated as in memory (postgres-win-probability.queries.ts).
  private learnedQueries?: PostgresWinProbabilityQueries;
  private get learned(): PostgresWinProbabilityQueries {
    return (this.learnedQueries ??= new PostgresWinProbabilityQueries(this.schema));
  }

  /**
   * Runs `work` in one transaction: each query it asks of `queries` reads the snapshot of that
   * transaction, not one of its own, so a batch the projector commits between two of them is in
   * neither (the board and its learned figures were two transactions: a card closed in between had
   * no learned probability, a stage's learned amount counted deals its column did not list).
   */
  async oneSnapshot<T>(work: (queries: AnalyticsQueries) => Promise<T>, options: { sideBySide?: boolean } = {}): Promise<T> {
    return this.read((snapshot, counters) => work(this.pinnedTo(snapshot, counters)), { beside: options.sideBySide === true });
  }

  /** These queries, each reading `snapshot` (an error of one named as read() names it, the transaction then of no further use). */
  private pinnedTo(snapshot: Snapshot, counters: Counters): PostgresAnalyticsQueries {
    // Made here first, so that the pinned queries share it (its kept counts and estimators) instead
    // of making one of their own each answer, which the next would not find.
    void this.learned;
    const pinned = Object.create(this) as PostgresAnalyticsQueries;
    pinned.read = async <U>(query: (snapshot: Snapshot, counters: Counters) => Promise<U>): Promise<U> => {
      try {
        return await query(snapshot, counters);
      } catch (error) {
        throw this.unavailableOr(error);
      }
    };
    return pinned;
  }

  async learnedPipeline(query: LearnedPipelineQuery): Promise<LearnedPipelineFigures> {
    return this.read(({ client, position, state }) => this.learned.learnedPipeline(client, position, query, state.catalog));
  }

  async learnedForecast(query: LearnedForecastQuery): Promise<LearnedForecastFigures> {
    return this.read(({ client, position }) => this.learned.learnedForecast(client, position, query));
  }

  async winProbabilityCalibration(filter: AnalyticsFilter): Promise<WinProbabilityCalibrationResult> {
    return this.read(({ client, position, revision }) => this.learned.calibration(client, { revision, position }, filter));
  }

  async winLoss(filter: AnalyticsFilter, groupBy?: WinLossGroupBy): Promise<WinLossResult> {
    const parsed = parseFilter(filter);
    const [group, inGroup] = groupingOf(groupBy);
    return this.read(async ({ client, state, summaries }) => {
      const summed = summaries ? await this.winLossSummed(client, filter, groupBy) : undefined;
      if (summed) return winLossAnswer(state, groupBy, summed.total, summed.slots);
      // status <> 'open' as well: the planner then sees that the index of closings covers these rows.
      const w = new Where(`status IN ('won', 'lost')`, `status <> 'open'`).eq('process_id', parsed.processId).eq('team_id', parsed.teamId).eq('owner_id', parsed.ownerId);
      if (filter.from !== undefined) w.add(`closed_at >= ${w.param(isoOrNull(parsed.fromMs))}::timestamptz`);
      if (filter.to !== undefined) w.add(`closed_at <= ${w.param(isoOrNull(parsed.toMs))}::timestamptz`);
      // Without groupBy every row is outside the groups (in_group false), so those sets are skipped.
      const sets = '(), (won_currency), (lost_reason), (in_group, grp), (in_group, grp, won_currency), (in_group, grp, lost_reason)';
      // Amounts won per currency, exactly (read-side.amounts.ts).
      const { rows } = await client.query(
        `WITH kept AS (SELECT status, won_amount, won_currency, lost_reason, ${group} AS grp, ${inGroup} AS in_group FROM ${this.schema}.opportunities ${w})
         SELECT GROUPING(in_group, grp) = 0 AS grouped, GROUPING(won_currency) = 0 AS by_currency, GROUPING(lost_reason) = 0 AS by_reason, in_group, grp, won_currency, lost_reason,
           count(*) FILTER (WHERE status = 'won')::int AS won, count(*) FILTER (WHERE status = 'lost')::int AS lost,
           ${amountUnitsSum(this.schema, 'won_amount', `status = 'won' AND won_amount IS NOT NULL`)} AS currency_sum,
           count(*) FILTER (WHERE status = 'won' AND won_amount IS NOT NULL)::int AS currency_wins
         FROM kept GROUP BY GROUPING SETS (${sets})`,
        w.values,
      );
      // Amount lost per currency (exactly, as above) and wins per won reason.
      const lostAndWhy = await client.query(
        `WITH kept AS (SELECT status, amount, currency, won_reason, ${group} AS grp, ${inGroup} AS in_group FROM ${this.schema}.opportunities ${w})
         SELECT GROUPING(in_group, grp) = 0 AS grouped, GROUPING(currency) = 0 AS by_currency, in_group, grp, currency, won_reason,
           ${amountUnitsSum(this.schema, 'amount', `status = 'lost' AND amount IS NOT NULL`)} AS lost_sum,
           count(*) FILTER (WHERE status = 'lost' AND amount IS NOT NULL)::int AS lost_with_amount,
           count(*) FILTER (WHERE status = 'won' AND won_reason IS NOT NULL)::int AS won_with_reason
         FROM kept GROUP BY GROUPING SETS ((currency), (won_reason), (in_group, grp, currency), (in_group, grp, won_reason))`,
        w.values,
      );
      const slots = new Map<string | null, WinLossSlot>();
      const total: WinLossSlot = emptySlot();
      const slotOf = (key: string | null) => {
        let slot = slots.get(key);
        if (!slot) slots.set(key, (slot = emptySlot()));
        return slot;
      };
      for (const row of lostAndWhy.rows) {
        if (row.grouped && !row.in_group) continue;
        const slot = row.grouped ? slotOf(row.grp) : total;
        if (row.by_currency) {
          if (row.lost_with_amount > 0) slot.lostCurrencies.set(row.currency, valueOfUnitsText(row.lost_sum));
        } else if (row.won_with_reason > 0) slot.wonReasons.set(row.won_reason, row.won_with_reason);
      }
      for (const row of rows) {
        if (row.grouped && !row.in_group) continue; // won deals when grouping by reason
        const slot = row.grouped ? slotOf(row.grp) : total;
        if (row.by_currency) {
          if (row.currency_wins > 0) slot.currencies.set(row.won_currency, valueOfUnitsText(row.currency_sum));
        } else if (row.by_reason) {
          if (row.lost > 0) slot.reasons.set(row.lost_reason, row.lost);
        } else {
          Object.assign(slot, { won: row.won, lost: row.lost });
        }
      }
      return winLossAnswer(state, groupBy, total, slots);
    });
  }

  /**
   * Win/loss from the summary rows (whole months and days) and the closings in the pieces of days
   * at either end; undefined when the summaries cannot say (a filter on both team and owner, a
   * bound no date holds) or when an amount is not whole (the summaries add whole amounts only):
   * then the general query adds the amounts.
   */
  private async winLossSummed(client: PoolClient, filter: AnalyticsFilter, groupBy: WinLossGroupBy | undefined): Promise<{ total: WinLossSlot; slots: Map<string | null, WinLossSlot> } | undefined> {
    const parsed = parseFilter(filter);
    const plan = summaryPlan(filter, groupBy);
    if (!plan) return undefined;
    const s = this.schema;
    const dimColumn = plan.dim === 'owner' ? 'o.owner_id' : 'o.team_id';
    // The summary rows' parameters first: the closings' filters are only written (and numbered) when there are edges.
    const w = new Where(`o.status IN ('won', 'lost')`, `o.status <> 'open'`);
    const rows = summaryRows(w, plan, parsed);
    const amount = closedAmount('o');
    let edges = '';
    if (plan.cover.edges.length > 0) {
      w.eq('o.process_id', parsed.processId).eq('o.team_id', parsed.teamId).eq('o.owner_id', parsed.ownerId);
      const { where, sign } = edgesOf(w, plan.cover, 'o.closed_at');
      edges = `UNION ALL SELECT o.process_id, ${dimColumn}, date_trunc('month', o.closed_at AT TIME ZONE 'UTC')::date, o.status, ${closedCurrency('o')}, ${closedReason('o')}, sign, sign * (${amount} IS NOT NULL)::int,
           sign * CASE WHEN ${wholeAmount(amount)} THEN ${amount}::bigint ELSE 0 END::numeric, sign * CASE WHEN ${wholeAmount(amount)} THEN abs(${amount})::bigint ELSE 0 END::numeric,
           sign * (${amount} IS NOT NULL AND NOT COALESCE(${wholeAmount(amount)}, false))::int
         FROM ${s}.opportunities o CROSS JOIN LATERAL (SELECT ${sign} AS sign) e ${w.add(where)}`;
    }
    const [group, inGroup] = summaryGroupingOf(groupBy);
    const { rows: cells } = await client.query(
      `SELECT ${group} AS grp, ${inGroup} AS in_group, outcome, currency, reason, sum(closings)::int AS closings, sum(with_amount)::int AS with_amount,
         sum(whole_sum)::text AS whole_sum, sum(fractional)::int AS fractional
       FROM (SELECT process_id, dim_id, period_start, outcome, currency, reason, closings, with_amount, whole_sum, abs_sum, fractional FROM ${s}.win_loss_summary WHERE ${rows}
         ${edges}) c
       GROUP BY 1, 2, 3, 4, 5`,
      w.values,
    );
    // Whole amounts are summed exactly here (a bigint of whole units), as the in-memory models sum them.
    if (cells.some((cell) => cell.fractional !== 0)) return undefined;
    type Sums = { won: number; lost: number; wonSums: Map<string | null, [number, bigint]>; lostSums: Map<string | null, [number, bigint]>; reasons: Map<string | null, number>; wonReasons: Map<string, number> };
    const emptySums = (): Sums => ({ won: 0, lost: 0, wonSums: new Map(), lostSums: new Map(), reasons: new Map(), wonReasons: new Map() });
    const total = emptySums();
    const groups = new Map<string | null, Sums>();
    const add = (sums: Map<string | null, [number, bigint]>, key: string | null, n: number, sum: bigint) => {
      const was = sums.get(key) ?? [0, 0n];
      sums.set(key, [was[0] + n, was[1] + sum]);
    };
    for (const cell of cells) {
      let group: Sums | undefined;
      if (cell.in_group) {
        group = groups.get(cell.grp);
        if (!group) groups.set(cell.grp, (group = emptySums()));
      }
      for (const into of group ? [total, group] : [total]) {
        if (cell.outcome === 'won') {
          into.won += cell.closings;
          add(into.wonSums, cell.currency, cell.with_amount, BigInt(cell.whole_sum));
          if (cell.reason !== null) into.wonReasons.set(cell.reason, (into.wonReasons.get(cell.reason) ?? 0) + cell.closings);
        } else {
          into.lost += cell.closings;
          add(into.lostSums, cell.currency, cell.with_amount, BigInt(cell.whole_sum));
          into.reasons.set(cell.reason, (into.reasons.get(cell.reason) ?? 0) + cell.closings);
        }
      }
    }
    // As the general query: a currency only when some closing had an amount, a reason only when counted.
    const slotOf = (sums: Sums): WinLossSlot => {
      // The double nearest to the whole sum, as valueOfUnits gives it.
      const amounts = (by: Map<string | null, [number, bigint]>) => new Map([...by].filter(([, [n]]) => n > 0).map(([key, [, sum]]) => [key, Number(sum)]));
      const counted = <K>(by: Map<K, number>) => new Map([...by].filter(([, n]) => n > 0));
      return { won: sums.won, lost: sums.lost, currencies: amounts(sums.wonSums), lostCurrencies: amounts(sums.lostSums), reasons: counted(sums.reasons), wonReasons: counted(sums.wonReasons) };
    };
    return { total: slotOf(total), slots: new Map([...groups].map(([key, sums]) => [key, slotOf(sums)])) };
  }

  async stageDurations(filter: AnalyticsFilter, now: string): Promise<StageDurationsResult> {
    const parsed = parseFilter(filter);
    const nowMs = requireInstant(now, 'now');
    return this.read(async ({ client, state, summaries }) => {
      // The completed visits' count, exact sum of ms and picked ranks per stage: from the bucket counts
      // (of every visit, or one team's or one owner's; over a period, by month), else from the visits the filters keep.
      const histogram = this.durationHistogram(parsed, summaries);
      const ranked = histogram ? this.rankedFromBuckets(histogram) : [this.rankedFromVisits(filter, parsed)];
      const results = await queryAll(client, [...ranked, this.openVisitsStatement(state, parsed)]);
      // One result per statement; the SETs around the ranked statement each give one.
      const completed = results[ranked.findIndex((statement) => typeof statement !== 'string')];
      const openRows = results[results.length - 1];
      const keyOf = (row: { process_id: string; stage_id: string }) => state.catalog.processes.get(row.process_id)?.keyByStageId.get(row.stage_id);
      const done = new Map<number, StageDurationStats['completed']>();
      for (const row of completed!.rows) {
        const key = keyOf(row);
        if (key === undefined) continue;
        const n: number = row.n;
        const median = n % 2 === 1 ? row.middle : (row.lower_middle + row.upper_middle) / 2;
        // The exact sum (numeric, as text) to the nearest double, as the in-memory model rounds its exact sum.
        done.set(key, { count: n, meanSeconds: meanSecondsOf(Number(row.ms_sum), n), medianSeconds: median, p90Seconds: row.p90 });
      }
      const opened = new Map<number, { n: number; oldest: number }>();
      for (const row of openRows!.rows) {
        const key = keyOf(row);
        if (key !== undefined) opened.set(key, { n: row.n, oldest: row.oldest });
      }
      return {
        processes: processesOf(state.catalog, parsed.processId).map((process) => ({
          processId: process.processId,
          stages: stageOrderOf(process).map((key): StageDurationStats => {
            const here = opened.get(key);
            return {
              stageId: state.catalog.stages[key]!.stageId,
              completed: { ...(done.get(key) ?? { count: 0, meanSeconds: null, medianSeconds: null, p90Seconds: null }) },
              open: { count: here?.n ?? 0, oldestAgeSeconds: here === undefined ? null : Math.max(0, nowMs - here.oldest) / 1000 },
            };
          }),
        })),
      };
    });
  }

  async funnel(filter: AnalyticsFilter): Promise<FunnelResult> {
    const parsed = parseFilter(filter);
    return this.read(async ({ client, state, summaries }) => {
      const w = new Where();
      const s = this.schema;
      const summed = summaries ? summaryPlan(filter) : undefined;
      let sql: string;
      if (summed) {
        // The summary rows of whole months and days, and the opportunities opened in the pieces of days at either end.
        const rows = summaryRows(w, summed, parsed);
        const edges = summed.cover.edges.length > 0 ? edgesOf(w.eq('process_id', parsed.processId).eq('team_id', parsed.teamId).eq('owner_id', parsed.ownerId), summed.cover, 'opened_at') : undefined;
        sql = `SELECT process_id, process_version, furthest_rank, ever_won, sum(n)::int AS n FROM (
            SELECT process_id, process_version, furthest_rank, ever_won, opportunities AS n FROM ${s}.funnel_summary WHERE ${rows}
            ${edges ? `UNION ALL SELECT process_id, process_version, furthest_rank, ever_won, ${edges.sign} FROM ${s}.opportunities ${w.add(edges.where)}` : ''}
          ) c GROUP BY process_id, process_version, furthest_rank, ever_won`;
      } else {
        w.eq('process_id', parsed.processId).eq('team_id', parsed.teamId).eq('owner_id', parsed.ownerId);
        if (filter.from !== undefined) w.add(`opened_at >= ${w.param(isoOrNull(parsed.fromMs))}::timestamptz`);
        if (filter.to !== undefined) w.add(`opened_at <= ${w.param(isoOrNull(parsed.toMs))}::timestamptz`);
        sql = `SELECT process_id, process_version, furthest_rank, ever_won, count(*)::int AS n FROM ${s}.opportunities ${w} GROUP BY process_id, process_version, furthest_rank, ever_won`;
      }
      const { rows } = await client.query(sql, w.values);
      const { catalog } = state;
      // Per version: how many got at most to rank r, and how many were won (funnel.projection.ts).
      const histograms = catalog.versions.map((version) => new Float64Array(version.stageKeys.length + 1));
      for (const row of rows) {
        const version = catalog.processes.get(row.process_id)!.versions.get(row.process_version)!;
        const histogram = histograms[version.code]!;
        histogram[row.ever_won ? histogram.length - 1 : row.furthest_rank] += row.n;
      }
      return funnelFromHistograms(catalog, parsed.processId, (code) => histograms[code]!);
    });
  }

  async transitions(filter: AnalyticsFilter): Promise<TransitionsResult> {
    const parsed = parseFilter(filter);
    return this.read(async ({ client, state, summaries }, counters) => {
      const s = this.schema;
      let counts: Map<number, number>;
      const summed = summaries ? summaryPlan(filter) : undefined;
      if (parsed.teamId === undefined && parsed.ownerId === undefined && !parsed.bounded) {
        counts = new Map(counters.pairs.map(([, , count], pairNo) => [pairNo, count]));
      } else if (summed) {
        // Whole months and days from the summary; the moves in the pieces of days at either end from the table.
        const w = new Where();
        const rows = summaryRows(w, summed, { ...parsed, processId: undefined });
        const edges = summed.cover.edges.length > 0 ? edgesOf(w.eq('o.team_id', parsed.teamId).eq('o.owner_id', parsed.ownerId), summed.cover, 't.occurred_at') : undefined;
        const { rows: found } = await client.query(
          `SELECT pair_no, sum(n)::int AS n FROM (
             SELECT pair_no, transitions AS n FROM ${s}.transition_summary WHERE ${rows}
             ${edges ? `UNION ALL SELECT t.pair_no, ${edges.sign} FROM ${s}.transitions t
               -- each move's deal by its key (OFFSET 0 keeps it a lookup, not a scan of the whole team)
               CROSS JOIN LATERAL (SELECT team_id, owner_id FROM ${s}.opportunities d WHERE d.opportunity_id = t.opportunity_id OFFSET 0) o ${w.add(edges.where)}` : ''}
           ) c GROUP BY pair_no`,
          w.values,
        );
        counts = new Map(found.map((row) => [row.pair_no as number, row.n as number]));
      } else {
        const people = parsed.teamId !== undefined || parsed.ownerId !== undefined;
        const w = new Where().eq('o.team_id', parsed.teamId).eq('o.owner_id', parsed.ownerId);
        if (filter.from !== undefined) w.add(`t.occurred_at >= ${w.param(isoOrNull(parsed.fromMs))}::timestamptz`);
        if (filter.to !== undefined) w.add(`t.occurred_at <= ${w.param(isoOrNull(parsed.toMs))}::timestamptz`);
        const { rows } = await client.query(
          `SELECT t.pair_no, count(*)::int AS n FROM ${s}.transitions t ${people ? `JOIN ${s}.opportunities o ON o.opportunity_id = t.opportunity_id` : ''} ${w} GROUP BY t.pair_no`,
          w.values,
        );
        counts = new Map(rows.map((row) => [row.pair_no as number, row.n as number]));
      }
      const { catalog } = state;
      const processes = processesOf(catalog, parsed.processId);
      const matrices = new Map<string, Record<string, Record<string, number>>>();
      for (const process of processes) matrices.set(process.processId, dictionary());
      const idOf = (code: number): string => (code === WON_END ? 'won' : code === LOST_END ? 'lost' : catalog.stages[code]!.stageId);
      counters.pairs.forEach(([from, to], pairNo) => {
        const count = counts.get(pairNo) ?? 0;
        if (count === 0 || (from < 0 && to < 0)) return; // closed twice: only a corrupt stream says so
        const matrix = matrices.get(catalog.stages[from >= 0 ? from : to]!.processId);
        if (matrix) (matrix[idOf(from)] ??= dictionary<number>())[idOf(to)] = count;
      });
      return {
        processes: processes.map((process) => ({
          processId: process.processId,
          stages: stageOrderOf(process).map((key) => catalog.stages[key]!.stageId),
          matrix: matrices.get(process.processId)!,
        })),
      };
    });
  }

  /**
   * Runs a query on one snapshot of the read side, with the catalog and counters of that snapshot.
   * `beside`: the query runs part of its statements on a second connection (Snapshot.beside), which
   * imports this transaction's snapshot (pg_export_snapshot, SET TRANSACTION SNAPSHOT): it sees
   * exactly what this one sees, whatever the projector commits in between.
   */
  private async read<T>(query: (snapshot: Snapshot, counters: Counters) => Promise<T>, options: { beside?: boolean } = {}): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw new ReadModelUnavailableError('PROJECTIONS.UNAVAILABLE', `The read models' PostgreSQL database cannot be reached (${(error as Error).message}); retry shortly.`);
    }
    // Asked for now, so that it is ready when this transaction's snapshot is.
    let spare = options.beside ? this.spareConnection() : undefined;
    let broken: Error | undefined;
    let besideRun: Promise<QueryResult[]> | undefined;
    try {
      // One round trip for the transaction, its settings and the checkpoint (the revision is a number this process holds).
      // The state held when asking: the one this answer's snapshot has when it sends none. Another
      // answer may replace this.cached meanwhile (with an older revision's, if it comes back later).
      const held = this.cached;
      const cachedRevision = held?.revision ?? -1;
      const results = (await client.query(
        `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${this.settings.join('; ')};
         SELECT position, failed, state_revision, CASE WHEN state_revision <> ${Math.trunc(cachedRevision)} THEN state END AS state, counters,
           NOT EXISTS (SELECT 1 FROM ${this.schema}.deferred_indexes WHERE index_name = '${SUMMARIES_NOTE}') AS summaries${spare ? ', pg_export_snapshot() AS snapshot' : ''} FROM ${this.schema}.checkpoint`,
      )) as unknown as QueryResult[];
      const row = results[results.length - 1]!.rows[0];
      if (!row) throw new ReadModelUnavailableError('PROJECTIONS.UNAVAILABLE', `The schema ${this.schema} holds no read models yet; start the projector.`);
      if (row.failed) throw new ReadModelUnavailableError('PROJECTIONS.FAILED', `The read models stopped (${row.failed}); an operator must fix the cause, then rebuild them${rebuildInstruction(['pipeline'], this.readSide)} (one schema: any name rebuilds them all).`);
      // The figures are this snapshot's: the log up to its checkpoint, wherever the projector is by the time they are sent.
      readAtPosition(Number(row.position));
      const revision = Number(row.state_revision);
      const saved = revision === cachedRevision ? held!.state : row.state;
      if (revision !== cachedRevision) this.cached = { revision, state: row.state };
      const state = saved === null ? restoreReadSideState({ catalog: { stages: [], versions: [], processes: [] }, currencies: [], reasons: [] }, [], []) : this.stateOf(revision, saved);
      // Checked against this snapshot's catalog: a pair naming a stage it lacks would fail the query as a TypeError.
      const countersProblem = savedCountersProblem(row.counters, state.catalog.stages.length);
      if (countersProblem !== undefined) throw this.unreadable(new UnreadableReadSideStateError(countersProblem));
      const counters: Counters = row.counters ?? { pairs: [], visitTotals: [] };
      const beside = (statements: readonly (Statement | string)[]): Promise<QueryResult[]> => {
        if (!spare || besideRun || statements.length === 0) return queryAll(client, statements);
        besideRun = this.inSnapshot(spare, row.snapshot as string, statements);
        spare = undefined;
        return besideRun;
      };
      return await query({ client, state, position: Number(row.position), revision, summaries: row.summaries === true && this.options.summaries !== false, beside }, counters);
    } catch (error) {
      // A statement left unanswered (query_timeout): the connection still waits for its answer,
      // and would hand it to the next read; it is let go instead.
      if ((error as Error).message === QUERY_READ_TIMEOUT_MESSAGE) broken = error as Error;
      throw this.unavailableOr(error);
    } finally {
      // A spare never used goes back; one in use imports this snapshot, which ends with this transaction:
      // it must have finished first (it has, unless the query failed before awaiting it).
      spare?.then((second) => second.release(), () => undefined);
      if (besideRun) await besideRun.catch(() => undefined);
      // Not awaited: the connection runs the COMMIT before anything its next user sends (one queue per connection).
      if (broken === undefined) client.query('COMMIT').catch(() => undefined);
      client.release(broken);
    }
  }

  /**
   * What a query's failure is to the caller: PostgreSQL out of reach, a table gone, a timeout: the
   * read side unavailable (PROJECTIONS.UNAVAILABLE, or FAILED for a schema an older version laid out);
   * anything else as it is.
   */
  private unavailableOr(error: unknown): unknown {
    if (error instanceof ReadModelUnavailableError || error instanceof RangeError) return error;
    const code = (error as { code?: string }).code;
    // 42703: a column this version reads is not there: the schema is as an older version left it
    // (PROJECTIONS=external, the API upgraded before the projector, which migrates it when it starts).
    if (code === '42703') {
      return new ReadModelUnavailableError('PROJECTIONS.FAILED', `The read models in PostgreSQL are laid out by an older version of Stagecraft (${(error as Error).message}); upgrade the projector, which migrates them when it starts.`);
    }
    // 42P01: the schema's tables are gone (a database reset); 08xxx / 57P0x: the connection or the server went away;
    // 57014: the statement timeout ran out (a lock held, a stuck server) or an operator cancelled it.
    // A DBA's own timeouts on the role or database: 55P03 gave up waiting for a lock (lock_timeout),
    // 25P03 ended the session (idle_in_transaction_session_timeout).
    // Or no code at all: the connection lost without a word from the server (postgresUnreachable).
    if (code === '55P03') {
      return new ReadModelUnavailableError('PROJECTIONS.UNAVAILABLE', `The read models in PostgreSQL cannot be read right now: the query waited for a lock another PostgreSQL session holds on the read models' tables (${(error as Error).message}: at most ${this.lockTimeoutMs} ms, less where the role or database sets a shorter lock_timeout), a LOCK TABLE or ALTER TABLE in an open transaction (pg_locks and pg_stat_activity name it); retry shortly.`);
    }
    if ((error as Error).message === QUERY_READ_TIMEOUT_MESSAGE) {
      return new ReadModelUnavailableError('PROJECTIONS.UNAVAILABLE', `The read models' PostgreSQL did not answer within ${String((this.pool.options as { query_timeout?: number }).query_timeout)} ms (a network that drops packets, a server that hangs); retry shortly.`);
    }
    if (code === '42P01' || code?.startsWith('08') || code?.startsWith('57P') || code === '57014' || code === '55P03' || code === '25P03' || postgresUnreachable(error) !== undefined) {
      return new ReadModelUnavailableError('PROJECTIONS.UNAVAILABLE', `The read models in PostgreSQL cannot be read right now (${(error as Error).message}); retry shortly.`);
    }
    return error;
  }

  /**
   * A second connection for Snapshot.beside when the pool has one idle (taken at once, never waited
   * for); else none, and when the pool has room, one is opened and left idle for later answers
   * (opening a connection takes longer than the statements it would run).
   */
  private spareConnection(): Promise<PoolClient> | undefined {
    const pool = this.pool;
    if (pool.waitingCount > 0) return undefined;
    if (pool.idleCount > 0) return pool.connect();
    if (pool.totalCount < (pool.options.max ?? 10)) pool.connect().then((opened) => opened.release(), () => undefined);
    return undefined;
  }

  /** The statements in one round trip on `spare`, in a read-only transaction that imports the exported snapshot `snapshotId`. */
  private async inSnapshot(spare: Promise<PoolClient>, snapshotId: string, statements: readonly (Statement | string)[]): Promise<QueryResult[]> {
    const second = await spare;
    try {
      // SET TRANSACTION SNAPSHOT must come before the transaction's first query.
      const opening = [`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`, `SET TRANSACTION SNAPSHOT ${escapeLiteral(snapshotId)}`, ...this.settings];
      const results = await queryAll(second, [...opening, ...statements, 'COMMIT']);
      // One result per statement sent: the opening's come first.
      return results.slice(opening.length, opening.length + statements.length);
    } catch (error) {
      second.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      second.release();
    }
  }

  /**
   * The open visits of each stage column the filter keeps: their count and their oldest entry, in
   * rows of (process_id, stage_id, n, oldest ms), stages without one left out. Stage by stage (the
   * catalog's), each from its range of the index of open deals by (process, stage, entry), which
   * holds the team and owner: the count reads the range in the index alone, and the oldest is its
   * first entry (ORDER BY … LIMIT 1: nulls last, so the earliest known entry, as min() gives). One
   * grouping of every open deal read through another index cost most of this answer (17k deals at 1M events).
   */
  private openVisitsStatement(state: ReadSideState, parsed: ReturnType<typeof parseFilter>): Statement {
    const stages = state.catalog.stages.filter((stage) => parsed.processId === undefined || stage.processId === parsed.processId);
    const open = new Where('o.stage_id IS NOT NULL', 'o.process_id = c.process_id', 'o.stage_id = c.stage_id').eq('o.team_id', parsed.teamId).eq('o.owner_id', parsed.ownerId);
    const column = `unnest(${open.param(stages.map((stage) => stage.processId))}::text[], ${open.param(stages.map((stage) => stage.stageId))}::text[]) AS c(process_id, stage_id)`;
    return {
      // The conversion to milliseconds once a stage, not once a deal.
      sql: `SELECT c.process_id, c.stage_id, x.n, ${ms('x.oldest')} AS oldest FROM ${column}
        CROSS JOIN LATERAL (SELECT count(*)::int AS n, (SELECT o.stage_entered_at FROM ${this.schema}.opportunities o ${open} ORDER BY o.stage_entered_at LIMIT 1) AS oldest
          FROM ${this.schema}.opportunities o ${open}) x
        WHERE x.n > 0`,
      values: open.values,
    };
  }

  /**
   * Where the counts per duration bucket of the visits a filter keeps are (undefined: nowhere, the
   * visits answer): without a period, stage_duration_buckets (every visit) or
   * stage_duration_dim_buckets (a team's or an owner's); over a period, the rows of whole months in
   * stage_duration_month_buckets and the visits of the pieces of months at either end (monthCover).
   * A team and an owner together are not counted anywhere; the counts per team, owner and month
   * only once they are complete (`summaries`: not while a long first fold defers them).
   */
  private durationHistogram(parsed: ReturnType<typeof parseFilter>, summaries: boolean): DurationHistogram | undefined {
    const s = this.schema;
    if (parsed.teamId !== undefined && parsed.ownerId !== undefined) return undefined;
    if (!summaries && (parsed.bounded || parsed.teamId !== undefined || parsed.ownerId !== undefined)) return undefined;
    const [dim, dimId, visits] =
      parsed.teamId !== undefined
        ? ['team', parsed.teamId, `v.current_team_id = ${escapeLiteral(parsed.teamId)}`]
        : parsed.ownerId !== undefined
          ? ['owner', parsed.ownerId, `v.current_owner_id = ${escapeLiteral(parsed.ownerId)}`]
          : ['all', '', 'true'];
    const process = parsed.processId === undefined ? '' : ` AND process_id = ${escapeLiteral(parsed.processId)}`;
    if (!parsed.bounded) {
      return {
        source: dim === 'all' ? `SELECT process_id, stage_id, bucket, visits, ms_sum FROM ${s}.stage_duration_buckets WHERE true${process}` : `SELECT process_id, stage_id, bucket, visits, ms_sum FROM ${s}.stage_duration_dim_buckets WHERE dim = '${dim}' AND dim_id = ${escapeLiteral(dimId)}${process}`,
        visits: `${visits} AND v.left_at IS NOT NULL`,
        inKeyOrder: true,
      };
    }
    const cover = monthCover(parsed.fromMs, parsed.toMs);
    if (!cover) return undefined;
    const at = (ms: number) => `${escapeLiteral(isoOf(ms)!)}::timestamptz`;
    const months = cover.months.map(([from, to]) => `(${from === null ? 'true' : `month >= ${escapeLiteral(from)}::date`} AND ${to === null ? 'true' : `month < ${escapeLiteral(to)}::date`})`);
    const parts = [
      ...(months.length === 0 ? [] : [`SELECT process_id, stage_id, bucket, visits, ms_sum FROM ${s}.stage_duration_month_buckets WHERE dim = '${dim}' AND dim_id = ${escapeLiteral(dimId)}${process} AND (${months.join(' OR ')})`]),
      ...(cover.edges.length === 0
        ? []
        : [
            `SELECT v.process_id, v.stage_id, v.duration_bucket, e.sign * count(*), e.sign * sum(v.duration_ms)
             FROM ${s}.stage_visits v JOIN (VALUES ${cover.edges.map(([from, to, sign]) => `(${at(from)}, ${at(to)}, ${sign})`).join(', ')}) AS e(from_at, to_at, sign) ON v.left_at >= e.from_at AND v.left_at < e.to_at
             WHERE ${visits}${process.replace('process_id', 'v.process_id')} GROUP BY v.process_id, v.stage_id, v.duration_bucket, e.sign`,
          ]),
    ];
    const kept = [`${visits} AND v.left_at IS NOT NULL`];
    if (Number.isFinite(parsed.fromMs)) kept.push(`v.left_at >= ${at(parsed.fromMs)}`);
    if (Number.isFinite(parsed.toMs)) kept.push(`v.left_at <= ${at(parsed.toMs)}`);
    return {
      source:
        parts.length === 0
          ? `SELECT process_id, stage_id, bucket, visits, ms_sum FROM ${s}.stage_duration_buckets WHERE false`
          : `SELECT process_id, stage_id, bucket, sum(visits)::bigint AS visits, sum(ms_sum) AS ms_sum FROM (${parts.join(' UNION ALL ')}) AS p(process_id, stage_id, bucket, visits, ms_sum) GROUP BY 1, 2, 3`,
      visits: kept.join(' AND '),
    };
  }

  /**
   * The completed visits' figures of every stage without reading every visit: the counts per
   * duration bucket (`histogram`) give each stage's count and exact sum of ms, and say which bucket
   * holds the k-th shortest visit; an index on (stage, bucket, duration), or the team's or owner's,
   * finds it within the bucket among the visits kept. One statement; rows of (process_id, stage_id,
   * n, ms_sum, lower_middle, upper_middle, middle, p90), ranks by exact integer arithmetic
   * (order-statistics.ts: lower and upper middle, middle, ceil(0.9 n)).
   */
  private rankedFromBuckets(histogram: DurationHistogram): (Statement | string)[] {
    const s = this.schema;
    // From one table's rows in key order (no period): the running counts and sums in one pass of its
    // primary key, no sort (sorting 2,759 rows by the locale's rules, or even by bytes, then hashing
    // them by stage cost more than the rest: ~7.6 against ~5.3 ms at 1M events); each stage's count
    // and exact sum are its last row's running ones. Sorting is disabled for the statement so that
    // the planner walks the key rather than sort a scan of the table. A period's rows are summed
    // from several sources first: partitioned by bytes (COLLATE "C"), any grouping will do.
    const head = histogram.inKeyOrder
      ? `WITH cumulative AS MATERIALIZED (
          SELECT process_id, stage_id, bucket, visits::bigint AS visits, (sum(visits) OVER w)::bigint AS upto, sum(ms_sum) OVER w AS ms_upto, lead(bucket) OVER w IS NULL AS last
          FROM (${histogram.source}) histogram WINDOW w AS (PARTITION BY process_id, stage_id ORDER BY bucket)
        ), counts AS MATERIALIZED (
          SELECT process_id, stage_id, upto AS n, ms_upto AS ms_sum FROM cumulative WHERE last AND upto > 0`
      : `WITH histogram AS MATERIALIZED (${histogram.source}
        ), counts AS MATERIALIZED (
          SELECT process_id, stage_id, sum(visits)::bigint AS n, sum(ms_sum) AS ms_sum FROM histogram GROUP BY process_id, stage_id HAVING sum(visits) > 0
        ), cumulative AS MATERIALIZED (
          SELECT process_id, stage_id, bucket, (sum(visits) OVER (PARTITION BY process_id COLLATE "C", stage_id COLLATE "C" ORDER BY bucket))::bigint AS upto, visits::bigint AS visits
          FROM histogram WHERE visits <> 0`;
    // A bucket without visits (upto - visits = upto) never holds a rank, so either cumulative may keep them.
    const statement: Statement = {
      sql: `${head}
        ), picks AS MATERIALIZED (
          -- The ranks wanted, each once (the middle is the lower or the upper middle).
          SELECT DISTINCT c.process_id, c.stage_id, r.rank FROM counts c
          CROSS JOIN LATERAL (VALUES (c.n / 2), (c.n / 2 + 1), ((c.n + 1) / 2), ((9 * c.n + 9) / 10)) AS r(rank) WHERE r.rank >= 1 AND r.rank <= c.n
        ), picked AS MATERIALIZED (
          -- The bucket whose visits run from rank upto - visits + 1 to upto holds the rank; within it, the
          -- visit is counted from the nearer end (its index read forwards or backwards).
          SELECT p.process_id, p.stage_id, p.rank, CASE WHEN 2 * (p.rank - (b.upto - b.visits)) <= b.visits + 1
              THEN (SELECT v.duration_seconds FROM ${s}.stage_visits v
                WHERE ${histogram.visits} AND v.process_id = p.process_id AND v.stage_id = p.stage_id AND v.duration_bucket = b.bucket
                ORDER BY v.duration_seconds OFFSET p.rank - (b.upto - b.visits) - 1 LIMIT 1)
              ELSE (SELECT v.duration_seconds FROM ${s}.stage_visits v
                WHERE ${histogram.visits} AND v.process_id = p.process_id AND v.stage_id = p.stage_id AND v.duration_bucket = b.bucket
                ORDER BY v.duration_seconds DESC OFFSET b.upto - p.rank LIMIT 1) END AS d
          FROM picks p JOIN cumulative b ON b.process_id = p.process_id AND b.stage_id = p.stage_id AND b.upto >= p.rank AND b.upto - b.visits < p.rank
        )
        SELECT c.process_id, c.stage_id, c.n::int AS n, c.ms_sum::text AS ms_sum,
          max(d) FILTER (WHERE rank = c.n / 2) AS lower_middle, max(d) FILTER (WHERE rank = c.n / 2 + 1) AS upper_middle,
          max(d) FILTER (WHERE rank = (c.n + 1) / 2) AS middle, max(d) FILTER (WHERE rank = (9 * c.n + 9) / 10) AS p90
        FROM counts c LEFT JOIN picked p ON p.process_id = c.process_id AND p.stage_id = c.stage_id GROUP BY c.process_id, c.stage_id, c.n, c.ms_sum`,
      values: [],
    };
    return histogram.inKeyOrder ? withoutSorting(statement) : [statement];
  }

  /**
   * The same rows from the visits the filters keep: in ascending order of duration, stage by stage
   * (with a team or owner, straight from that index, no sort: a longer duration never has a smaller
   * bucket, so ordering by bucket first changes nothing but lets the index give the order), gathered into one array per stage to
   * pick the ranks from (index 0, for the lower middle of one, is null); their ms summed exactly
   * (bigint into numeric: in any order).
   */
  private rankedFromVisits(filter: AnalyticsFilter, parsed: ReturnType<typeof parseFilter>): Statement {
    const s = this.schema;
    // The deal's current team and owner are on each visit (kept by the projector), read through the indexes by team and by owner.
    const w = new Where('v.left_at IS NOT NULL').eq('v.process_id', parsed.processId).eq('v.current_team_id', parsed.teamId).eq('v.current_owner_id', parsed.ownerId);
    if (filter.from !== undefined) w.add(`v.left_at >= ${w.param(isoOrNull(parsed.fromMs))}::timestamptz`);
    if (filter.to !== undefined) w.add(`v.left_at <= ${w.param(isoOrNull(parsed.toMs))}::timestamptz`);
    return {
      sql: `SELECT process_id, stage_id, n, ms_sum, ds[n / 2] AS lower_middle, ds[n / 2 + 1] AS upper_middle, ds[(n + 1) / 2] AS middle, ds[(9 * n + 9) / 10] AS p90
         FROM (SELECT process_id, stage_id, count(*)::int AS n, sum(ms)::text AS ms_sum, array_agg(d) AS ds
           FROM (SELECT v.process_id, v.stage_id, v.duration_seconds AS d, v.duration_ms AS ms FROM ${s}.stage_visits v ${w} ORDER BY v.process_id, v.stage_id, v.duration_bucket, v.duration_seconds) kept
           GROUP BY process_id, stage_id) sorted`,
      values: w.values,
    };
  }

  // The projector folds the log again when it next starts (postgres.projector.ts, prepare).
  private unreadable(error: UnreadableReadSideStateError): ReadModelUnavailableError {
    return new ReadModelUnavailableError('PROJECTIONS.FAILED', `The read models in schema ${this.schema} cannot be read: ${error.message}; restart the projector, which rebuilds them from the event log.`);
  }

  private parsedState?: { revision: number; state: ReadSideState };
  private stateOf(revision: number, saved: SerializedReadSideState): ReadSideState {
    if (this.parsedState?.revision !== revision) {
      let state: ReadSideState;
      try {
        state = readSavedReadSideState(saved, null);
      } catch (error) {
        throw error instanceof UnreadableReadSideStateError ? this.unreadable(error) : error;
      }
      this.parsedState = { revision, state };
    }
    return this.parsedState.state;
  }

  /**
   * The count, amount and weighted amount of each (process, stage, currency) among the rows `where`
   * selects: the amount exactly (read-side.amounts.ts, as text), the weighted amount added in
   * `order` (the in-memory row order): the rows come sorted by group and then by `order` (from the
   * covering index, or one sort), and a plain sum() adds them one after the other in that order
   * (no ORDER BY inside the aggregate: one sort per sum and group).
   */
  private stageTotalsStatement(table: string, where: Where, order: string): Statement {
    return {
      sql: `SELECT process_id, stage_id, currency, count(*)::int AS n, ${amountUnitsSum(this.schema, 'amount')} AS amount, sum(amount * probability / 100) AS weighted, 0 AS rotting
       FROM (SELECT process_id, stage_id, currency, amount, probability FROM ${this.schema}.${table} ${where} ORDER BY process_id, stage_id, currency, ${order}) kept
       GROUP BY process_id, stage_id, currency`,
      values: where.values,
    };
  }

  /**
   * stageTotalsStatement for the board segments standing at `atMs` that meet `filter` (the two walks of
   * standingSegments, read-side.standing.ts), with each
   * group's rotting segments (rottingStatement's rule) counted in the same pass, so that they are
   * found once. The segments come from their index in no useful order; the weighted sums must add them in
   * started_position order (the in-memory order). They are sorted by started_position alone, and
   * a hash aggregate then adds each group's rows in the order they arrive: one sort on one whole
   * number, no join to the catalog, nothing computed per row but the weighted amount (and the
   * rotting rule, only for stages that rot). Sorting by (stage, currency, position) instead, for a
   * group aggregate, cost about four times as long at 1M events (EXPLAIN ANALYZE: ~20 ms of sort
   * and ~15 ms of join and per-row expressions against ~5 ms for this sort, under load 5).
   * The order holds only if no sort comes between the sorted rows and the sums, and PostgreSQL's
   * sort is not stable: were the planner to group by sorting (it prefers that for a few rows),
   * each group's rows would be reordered. So sorting is disabled for this statement: the sort by
   * `started_position + 0` cannot be done by an index (none holds that expression), so every plan
   * pays for it once, and one that sorted again to group would pay twice: the hash aggregate wins.
   * Rows as stageTotalsStatement's.
   */
  private async standingTotals(client: PoolClient, state: ReadSideState, filter: PipelineFilter, atMs: number, also: readonly (Statement | string)[]): Promise<{ rows: Record<string, unknown>[]; also: QueryResult[] }> {
    const where = new Where();
    const filters = [['process_id', filter.processId], ['team_id', filter.teamId], ['owner_id', filter.ownerId]].flatMap(([column, value]) => (value === undefined ? [] : [`${column} = ${where.param(value)}`]));
    const standing = standingSegments(this.schema, 'started_position, process_id, stage_id, currency, amount, probability, stage_entered_at', atMs, filters, (value) => where.param(value));
    const at = where.param(atMs);
    // The rotting rule for the stages that rot (the catalog the figures are read with), by the stage's own threshold.
    const rotten = state.catalog.stages.filter((stage) => typeof stage.rotAfterDays === 'number');
    const rottenCase =
      rotten.length === 0
        ? 'false'
        : `CASE ${rotten.map((stage) => `WHEN process_id = ${where.param(stage.processId)} AND stage_id = ${where.param(stage.stageId)} THEN ${rottenSql(at, 'stage_entered_at', `${where.param(stage.rotAfterDays)}::int`)}`).join(' ')} ELSE false END`;
    const results = await queryAll(client, [
      ...withoutSorting({
        sql: `SELECT process_id, stage_id, currency, count(*)::int AS n, ${amountUnitsSum(this.schema, 'amount')} AS amount, sum(weighted) AS weighted, count(*) FILTER (WHERE rotten)::int AS rotting
         FROM (SELECT process_id, stage_id, currency, amount, amount * probability / 100 AS weighted, ${rottenCase} AS rotten
           FROM (${standing}) standing
           ORDER BY started_position + 0) kept
         GROUP BY process_id, stage_id, currency`,
        values: where.values,
      }),
      ...also,
    ]);
    return { rows: results[WITHOUT_SORTING_RESULT]!.rows, also: results.slice(WITHOUT_SORTING_LENGTH) };
  }

  /** stageTotalsStatement's rows as stageFigures reads them, with one `whole` row per stage giving its count, and the rotting rows per stage key. */
  private stageTotalsOf(state: ReadSideState, rows: readonly Record<string, unknown>[]): { totals: Record<string, unknown>[]; rotting: Map<number, number> } {
    const counts = new Map<string, { process_id: string; stage_id: string; whole: true; n: number }>();
    const rotting = new Map<number, number>();
    for (const row of rows) {
      const key = `${row.process_id}\u0000${row.stage_id}`;
      const whole = counts.get(key) ?? { process_id: row.process_id as string, stage_id: row.stage_id as string, whole: true as const, n: 0 };
      counts.set(key, whole);
      whole.n += row.n as number;
      if ((row.rotting as number) > 0) {
        const stageKey = state.catalog.processes.get(row.process_id as string)!.keyByStageId.get(row.stage_id as string)!;
        rotting.set(stageKey, (rotting.get(stageKey) ?? 0) + (row.rotting as number));
      }
    }
    return { totals: [...rows.map((row) => ({ ...row, whole: false })), ...counts.values()], rotting };
  }

  /**
   * Rotting deals per stage (rows of process_id, stage_id, n) at `atMs` (the rule of isRotting: more
   * than rotAfterDays × 24 h in the stage), among the rows `where` selects; undefined when no stage
   * rots. Times are whole milliseconds, so the comparison is exact in double precision, as in memory.
   */
  private rottingStatement(state: ReadSideState, where: Where, table: string, atMs: number): Statement | undefined {
    // The thresholds of the catalog the figures are read with (as the in-memory models use theirs).
    const rotten = state.catalog.stages.filter((stage) => typeof stage.rotAfterDays === 'number');
    if (rotten.length === 0) return undefined;
    const at = where.param(atMs);
    const thresholds = `unnest(${where.param(rotten.map((stage) => stage.processId))}::text[], ${where.param(rotten.map((stage) => stage.stageId))}::text[], ${where.param(rotten.map((stage) => stage.rotAfterDays))}::int[])`;
    return {
      sql: `SELECT r.process_id, r.stage_id, count(*)::int AS n
       FROM (SELECT process_id, stage_id, stage_entered_at FROM ${this.schema}.${table} ${where}) r
       JOIN ${thresholds} AS st(process_id, stage_id, rot_after_days) ON st.process_id = r.process_id AND st.stage_id = r.stage_id
       WHERE ${rottenSql(at, 'r.stage_entered_at', 'st.rot_after_days')}
       GROUP BY r.process_id, r.stage_id`,
      values: where.values,
    };
  }

  /** Rotting deals per stage key from the rows of rottingStatement. */
  private rottingOf(state: ReadSideState, rows: readonly Record<string, unknown>[]): Map<number, number> {
    const counts = new Map<number, number>();
    for (const row of rows) counts.set(state.catalog.processes.get(row.process_id as string)!.keyByStageId.get(row.stage_id as string)!, row.n as number);
    return counts;
  }

  /** Each stage column's figures from the grouped rows (totals per stage, sums per currency). */
  private stageFigures(state: ReadSideState, rows: readonly Record<string, unknown>[], rotting?: ReadonlyMap<number, number>): (key: number) => PipelineStage {
    const figures = new Map<number, { n: number; currencies: Map<string | null, [number, number]> }>();
    const { catalog } = state;
    const entryOf = (row: Record<string, unknown>) => {
      const key = catalog.processes.get(row.process_id as string)!.keyByStageId.get(row.stage_id as string)!;
      let entry = figures.get(key);
      if (!entry) figures.set(key, (entry = { n: 0, currencies: new Map() }));
      return entry;
    };
    for (const row of rows) {
      const entry = entryOf(row);
      if (row.whole) entry.n = row.n as number;
      else if (row.amount !== null) entry.currencies.set(row.currency as string | null, [valueOfUnitsText(row.amount as string), row.weighted as number]);
    }
    const perCurrency = (currencies: Map<string | null, [number, number]>, which: 0 | 1) => {
      const result = dictionary<number>();
      if (currencies.has(null)) result[NO_CURRENCY] = currencies.get(null)![which];
      for (const currency of state.currencies) if (currencies.has(currency)) result[currency] = currencies.get(currency)![which];
      return result;
    };
    return (key) => {
      const info = catalog.stages[key]!;
      const entry = figures.get(key);
      const amountsByCurrency = perCurrency(entry?.currencies ?? new Map(), 0);
      const weightedAmountsByCurrency = perCurrency(entry?.currencies ?? new Map(), 1);
      return {
        stageId: info.stageId,
        name: info.name,
        probability: info.probability,
        count: entry?.n ?? 0,
        amount: soleCurrencyTotal(amountsByCurrency),
        amountsByCurrency,
        weightedAmount: soleCurrencyTotal(weightedAmountsByCurrency),
        weightedAmountsByCurrency,
        rotAfterDays: info.rotAfterDays ?? null,
        ...(rotting ? { rotting: rotting.get(key) ?? 0 } : {}),
      };
    };
  }

  /**
   * The statements that list the cards of each stage column, longest in the stage first (ties by
   * id), the first `cap` when capped; the rows (for openCardsOf) are those of the statement at `rows`.
   * `withCriteria`: the live cards (opportunities) carry their criteria progress; board segments (asOf) do not keep criteria.
   * `byPerson`: a team or owner filters the board (`where` says which).
   */
  private openCardsStatements(state: ReadSideState, where: Where, table: string, cap: number | undefined, withCriteria = false, byPerson = true): { statements: (Statement | string)[]; rows: number } {
    const columns = `opportunity_id, title, owner_id, team_id, amount, currency, ${ms('stage_entered_at')} AS entered_ms, process_id, stage_id, ${isoDate('expected_close_date')} AS expected_close_date${withCriteria ? ', process_version, criteria_met' : ''}`;
    if (cap !== undefined && table === 'opportunities') {
      // The live board's first `cap` cards of each column, stage by stage, each through the index of
      // open deals by (process, stage, entry, id): a few hundred rows read instead of every open deal sorted.
      const stages = state.catalog.stages;
      const limit = where.param(cap);
      // Each card says its column by number (column_no::int, the catalog's stage key + 1) rather than by its process and stage ids: two texts fewer a row to transfer and parse, and no lookup by id a card.
      const cardColumns = columns.replace('process_id, stage_id, ', '');
      const column = `unnest(${where.param(stages.map((stage) => stage.processId))}::text[], ${where.param(stages.map((stage) => stage.stageId))}::text[]) WITH ORDINALITY AS column_of(column_process, column_stage, column_no)`;
      where.add('process_id = column_process').add('stage_id = column_stage');
      if (!byPerson) {
        // Every deal of the column is a card: the walk of the index reads each listed row's page
        // straight away, the first `cap` and no more (looking each up again by opened_position, as
        // below, cost an index descent more per card: about half of this statement's time).
        const sql = `SELECT column_no::int, cards.* FROM ${column}
          CROSS JOIN LATERAL (SELECT ${cardColumns} FROM ${this.schema}.opportunities ${where} ORDER BY stage_entered_at, opportunity_id COLLATE "C" LIMIT ${limit}) cards
          ORDER BY column_no`;
        return { statements: [{ sql, values: where.values }], rows: 0 };
      }
      // The team and owner are in that index (migration 11): the walk skips other people's deals there,
      // and only the `cap` rows listed are read from the table, by their unique opened_position.
      const sql = `SELECT column_no::int, cards.* FROM ${column}
        CROSS JOIN LATERAL (SELECT ${cardColumns} FROM (SELECT opened_position FROM ${this.schema}.opportunities ${where}
            ORDER BY stage_entered_at, opportunity_id COLLATE "C" LIMIT ${limit}) listed
          JOIN ${this.schema}.opportunities USING (opened_position)
          ORDER BY stage_entered_at, opportunity_id COLLATE "C") cards
        ORDER BY column_no`;
      // With a team or owner filter the planner would AND a bitmap of every row of that team into each
      // column's walk; walking the column's index in order and skipping the others' rows reads far fewer.
      return { statements: ['SET LOCAL enable_bitmapscan = off', { sql, values: where.values }, 'SET LOCAL enable_bitmapscan = on'], rows: 1 };
    }
    const limit = cap === undefined ? '' : `WHERE rn <= ${where.param(cap)}`;
    const sql = `SELECT * FROM (SELECT ${columns}, row_number() OVER (PARTITION BY process_id, stage_id ORDER BY stage_entered_at, opportunity_id COLLATE "C") AS rn
         FROM ${this.schema}.${table} ${where}) ranked ${limit} ORDER BY process_id, stage_id, rn`;
    return { statements: [{ sql, values: where.values }], rows: 0 };
  }

  /**
   * The cards of each stage column from the rows of openCardsStatements; with `atMs`, aged at that
   * instant as withCards ages them (so withCards is then called without it). One object literal per
   * card, keys in the in-memory order: spreading a card into the next (criteria, then age) cost
   * ~1.5 µs a card each time, most of the time Node spent on 900 cards.
   */
  private openCardsOf(state: ReadSideState, rows: readonly Record<string, unknown>[], withCriteria: boolean, atMs?: number): Map<number, PipelineOpportunity[]> {
    const cards = new Map<number, PipelineOpportunity[]>();
    const { catalog } = state;
    for (const row of rows) {
      // column_no: the catalog's stage key + 1 (the live board's capped cards); else the process and stage ids.
      const stage = row.column_no === undefined ? undefined : catalog.stages[(row.column_no as number) - 1]!;
      const process = catalog.processes.get(stage ? stage.processId : (row.process_id as string))!;
      const key = stage ? stage.key : process.keyByStageId.get(row.stage_id as string)!;
      let list = cards.get(key);
      if (!list) cards.set(key, (list = []));
      const enteredMs = row.entered_ms as number;
      const [id, title, ownerId, teamId, amount, currency] = cardFields(row);
      const stageEnteredAt = Number.isFinite(enteredMs) ? new Date(enteredMs).toISOString() : '';
      const expectedCloseDate = (row.expected_close_date as string | null) ?? null;
      const criteria = withCriteria ? criteriaProgressOf(process.versions.get(row.process_version as string)!, key, (row.criteria_met as string[] | null) ?? []) : undefined;
      const processVersion = row.process_version as string;
      if (atMs === undefined) {
        list.push(criteria ? { id, title, ownerId, teamId, amount, currency, stageEnteredAt, expectedCloseDate, criteria, processVersion } : { id, title, ownerId, teamId, amount, currency, stageEnteredAt, expectedCloseDate });
        continue;
      }
      const { daysInStage, rotting } = ageOf(stageEnteredAt, state.catalog.stages[key]!.rotAfterDays ?? null, atMs);
      list.push(
        criteria
          ? { id, title, ownerId, teamId, amount, currency, stageEnteredAt, expectedCloseDate, criteria, processVersion, daysInStage, rotting }
          : { id, title, ownerId, teamId, amount, currency, stageEnteredAt, expectedCloseDate, daysInStage, rotting },
      );
    }
    return cards;
  }
}

/**
 * isRotting in SQL: more than rotAfterDays × 24 h in the stage at `at` (a parameter, ms). Times are
 * whole milliseconds, so the comparison is exact in double precision, as in memory.
 */
const rottenSql = (at: string, enteredAt: string, rotAfterDays: string) => `${at}::double precision - ${ms(enteredAt)} > ${rotAfterDays} * 86400000.0`;

/** A card's first fields (id, title, owner, team, amount, currency) from its row, as the API names them. */
function cardFields(row: Record<string, unknown>): [string, string, string | null, string | null, number | null, string | null] {
  return [row.opportunity_id as string, row.title as string, (row.owner_id as string | null) ?? null, (row.team_id as string | null) ?? null, (row.amount as number | null) ?? null, (row.currency as string | null) ?? null];
}

/** The grouping column of a win/loss question over summary cells (closings of edges have the same columns). */
function summaryGroupingOf(groupBy: WinLossGroupBy | undefined): [string, string] {
  switch (groupBy) {
    case undefined:
      return ['NULL::text', 'false'];
    case 'team':
    case 'owner':
      return ['dim_id', 'true'];
    case 'process':
      return ['process_id', 'true'];
    case 'reason':
      return ['reason', `outcome = 'lost'`];
    case 'month':
      return [`to_char(period_start, 'YYYY-MM')`, 'true'];
    default: {
      const exhaustive: never = groupBy;
      throw new Error(`Unknown groupBy ${String(exhaustive)}`);
    }
  }
}

/** The grouping column of a win/loss query and whether a row belongs to a group at all. */
function groupingOf(groupBy: WinLossGroupBy | undefined): [string, string] {
  switch (groupBy) {
    case undefined:
      return ['NULL::text', 'false'];
    case 'team':
      return ['team_id', 'true'];
    case 'owner':
      return ['owner_id', 'true'];
    case 'process':
      return ['process_id', 'true'];
    case 'reason':
      return ['lost_reason', `status = 'lost'`];
    case 'month':
      return [`to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM')`, 'true'];
    default: {
      const exhaustive: never = groupBy;
      throw new Error(`Unknown groupBy ${String(exhaustive)}`);
    }
  }
}

/** What win/loss adds up for the total or for one group. */
type WinLossSlot = { won: number; lost: number; currencies: Map<string | null, number>; lostCurrencies: Map<string | null, number>; reasons: Map<string | null, number>; wonReasons: Map<string, number> };
const emptySlot = (): WinLossSlot => ({ won: 0, lost: 0, currencies: new Map(), lostCurrencies: new Map(), reasons: new Map(), wonReasons: new Map() });

/** The win/loss answer from its slots (the total and one per group key), in the in-memory key order. */
function winLossAnswer(state: ReadSideState, groupBy: WinLossGroupBy | undefined, total: WinLossSlot, slots: ReadonlyMap<string | null, WinLossSlot>): WinLossResult {
  const figures = (slot: WinLossSlot): WinLossFigures => {
    // Cell order of the in-memory query: no currency first, then currencies by first appearance.
    const perCurrency = (sums: Map<string | null, number>) => {
      const result = dictionary<number>();
      if (sums.has(null)) result[NO_CURRENCY] = sums.get(null)!;
      for (const currency of state.currencies) if (sums.has(currency)) result[currency] = sums.get(currency)!;
      return result;
    };
    const amountWonByCurrency = perCurrency(slot.currencies);
    const amountLostByCurrency = perCurrency(slot.lostCurrencies);
    const wonReasons = dictionary<number>();
    for (const reason of [...slot.wonReasons.keys()].sort(compareIds)) wonReasons[reason] = slot.wonReasons.get(reason)!;
    const lostReasons = dictionary<number>();
    if (slot.reasons.has(null)) lostReasons[''] = slot.reasons.get(null)!;
    for (const reason of state.reasons) if (slot.reasons.has(reason)) lostReasons[reason] = slot.reasons.get(reason)!;
    return winLossFiguresOf(slot.won, slot.lost, amountWonByCurrency, amountLostByCurrency, lostReasons, wonReasons);
  };
  if (groupBy === undefined) return { total: figures(total) };
  const groups: WinLossGroup[] = [...slots.entries()].filter(([, slot]) => slot.won + slot.lost > 0).map(([key, slot]) => ({ key, ...figures(slot) }));
  groups.sort((a, b) => (a.key === null || b.key === null ? (a.key === b.key ? 0 : a.key === null ? 1 : -1) : compareIds(a.key, b.key)));
  return { total: figures(total), groups };
}

/** Which summary rows answer a filter: one dim (team unless an owner is asked for) and the periods that cover its time range; undefined: the general query answers. */
interface SummaryPlan {
  readonly dim: 'team' | 'owner';
  readonly cover: PeriodCover;
}

function summaryPlan(filter: AnalyticsFilter, groupBy?: WinLossGroupBy): SummaryPlan | undefined {
  const parsed = parseFilter(filter);
  // Rows are kept per team or per owner, not both: a filter (or grouping) on both reads the opportunities.
  const byOwner = parsed.ownerId !== undefined || groupBy === 'owner';
  const byTeam = parsed.teamId !== undefined || groupBy === 'team';
  if (byOwner && byTeam) return undefined;
  const cover = periodCover(parsed.fromMs, parsed.toMs, parsed.bounded);
  return cover && { dim: byOwner ? 'owner' : 'team', cover };
}

/** The WHERE condition (parameters in `w`) of the summary rows a plan reads. */
function summaryRows(w: Where, plan: SummaryPlan, parsed: ReturnType<typeof parseFilter>): string {
  const clauses = [`dim = '${plan.dim}'`];
  if (parsed.processId !== undefined) clauses.push(`process_id = ${w.param(parsed.processId)}`);
  const who = plan.dim === 'owner' ? parsed.ownerId : parsed.teamId;
  if (who !== undefined) clauses.push(`dim_id = ${w.param(who)}`);
  clauses.push(summaryPeriods(w, plan.cover));
  return clauses.join(' AND ');
}

/** The period rows of a cover: every month row without a time filter, else whole months and days in range. */
function summaryPeriods(w: Where, cover: PeriodCover): string {
  if (cover.all) return `period = 'month'`;
  const range = (period: string, [from, to]: readonly [string | null, string | null]) => {
    const parts = [`period = '${period}'`, 'period_start IS NOT NULL'];
    if (from !== null) parts.push(`period_start >= ${w.param(from)}::date`);
    if (to !== null) parts.push(`period_start < ${w.param(to)}::date`);
    return `(${parts.join(' AND ')})`;
  };
  const ranges = [...(cover.months ? [range('month', cover.months)] : []), ...cover.days.map((days) => range('day', days))];
  return ranges.length === 0 ? 'false' : `(${ranges.join(' OR ')})`;
}

/** The base rows of a cover's edges: their WHERE condition on `column` and each row's sign (1 added, -1 taken away from a day row). */
function edgesOf(w: Where, cover: PeriodCover, column: string): { where: string; sign: string } {
  const conditions = cover.edges.map(([from, to]) => `(${column} >= ${w.param(instantParameter(from))}::timestamptz AND ${column} < ${w.param(instantParameter(to))}::timestamptz)`);
  const sign = cover.edges.some(([, , sign]) => sign < 0) ? `CASE ${conditions.map((condition, i) => `WHEN ${condition} THEN ${cover.edges[i]![2]}`).join(' ')} END` : '1';
  return { where: `(${conditions.join(' OR ')})`, sign };
}

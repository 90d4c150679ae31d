import type { ProcessCatalog } from '../process-catalog';
import { isoOf } from './read-side.encoding';
import type { OpportunityRecord, TransitionRow } from './read-side.fold';
import { dims, EXACT_BOUND, periods } from './read-side.summaries';

// The summary tables (read-side.summaries.ts) kept as running counters by the fold, written as
// deltas: what each opportunity a batch touched counted before it and counts after it, and +1 per
// new transition. Before, each batch made PostgreSQL take away every touched deal's contribution
// (a scan of its closings, its row and all its transitions) and add it back; most touches leave
// a deal's contribution as it was, and those now cost nothing. The counts are the ones
// `rebuildSummariesSql` computes from the tables, to the row (read-side.summaries.int-spec.ts).
// Deltas are additive: the statements of a batch may add them in any order.

const DAY_MS = 86_400_000;

/** What one opportunity counts in `win_loss_summary` and `funnel_summary`, and under whom. */
export interface Contribution {
  readonly teamId: string | null;
  readonly ownerId: string | null;
  /** null: open (not counted in win/loss). */
  readonly winLoss: { readonly key: string; readonly withAmount: number; readonly whole: bigint; readonly fractional: number } | null;
  readonly funnelKey: string;
}

/** The UTC day (its first millisecond) of an instant, as `(t AT TIME ZONE 'UTC')::date` says it; null when unknown. */
const dayOf = (ms: number | null): number | null => (ms === null || !Number.isFinite(ms) ? null : Math.floor(ms / DAY_MS) * DAY_MS);

/** What an opportunity counts now, read from its record as the rebuild reads its row. */
export function contributionOf(record: OpportunityRecord, catalog: ProcessCatalog): Contribution {
  const { teamId, ownerId } = record;
  const version = catalog.versions[record.versionCode]!.version;
  const funnelKey = JSON.stringify([record.processId, version, teamId, ownerId, dayOf(record.openedMs), record.maxRank, record.everWon]);
  if (record.status === 'open') return { teamId, ownerId, winLoss: null, funnelKey };
  const won = record.status === 'won';
  const amount = won ? record.wonAmount : record.amount;
  // Added exactly, as `wholeAmount` decides in SQL: whole and below 2^52.
  const whole = amount !== null && Number.isInteger(amount) && Math.abs(amount) < EXACT_BOUND;
  return {
    teamId,
    ownerId,
    funnelKey,
    winLoss: {
      key: JSON.stringify([record.processId, teamId, ownerId, dayOf(record.closedMs), record.status, won ? record.wonCurrency : record.currency, won ? record.wonReason : record.lostReason]),
      withAmount: amount === null ? 0 : 1,
      whole: whole ? BigInt(amount) : 0n,
      fractional: amount !== null && !whole ? 1 : 0,
    },
  };
}

const sameContribution = (a: Contribution, b: Contribution) =>
  a.funnelKey === b.funnelKey &&
  a.teamId === b.teamId &&
  a.ownerId === b.ownerId &&
  (a.winLoss === null || b.winLoss === null
    ? a.winLoss === b.winLoss
    : a.winLoss.key === b.winLoss.key && a.winLoss.withAmount === b.winLoss.withAmount && a.winLoss.whole === b.winLoss.whole && a.winLoss.fractional === b.winLoss.fractional);

interface WinLossDelta {
  closings: number;
  withAmount: number;
  wholeSum: bigint;
  absSum: bigint;
  fractional: number;
}

/** A reassigned deal: its transitions written by earlier batches move from the old team and owner to the new. */
export interface Reassignment {
  readonly opportunityId: string;
  readonly from: { readonly teamId: string | null; readonly ownerId: string | null };
  readonly to: { readonly teamId: string | null; readonly ownerId: string | null };
}

/** Deltas of the three summaries, by key (their day, before the SQL counts each once per dim and per day and month). */
export class SummaryDeltas {
  private readonly winLoss = new Map<string, WinLossDelta>();
  private readonly funnel = new Map<string, number>();
  private readonly transitions = new Map<string, number>();

  /**
   * A batch's changes to one opportunity: nothing when it counts as before. Returns the deal's
   * reassignment, if any (its earlier transitions must move: the caller writes that, reading the table).
   */
  opportunity(before: Contribution | undefined, after: Contribution, opportunityId: string): Reassignment | undefined {
    if (before !== undefined && sameContribution(before, after)) return undefined;
    if (before !== undefined) this.add(before, -1);
    this.add(after, 1);
    if (before === undefined || (before.teamId === after.teamId && before.ownerId === after.ownerId)) return undefined;
    return { opportunityId, from: { teamId: before.teamId, ownerId: before.ownerId }, to: { teamId: after.teamId, ownerId: after.ownerId } };
  }

  /** A new transition, counted under its deal's team and owner at the end of the batch. */
  transition(row: TransitionRow, deal: OpportunityRecord): void {
    const key = JSON.stringify([row.pairNo, deal.teamId, deal.ownerId, dayOf(row.atMs)]);
    this.transitions.set(key, (this.transitions.get(key) ?? 0) + 1);
  }

  /** The upserts that add these deltas to the summary tables (each row once per dim and per day and month). */
  statements(s: string): { sql: string; values: unknown[] }[] {
    const statements: { sql: string; values: unknown[] }[] = [];
    const winLoss = [...this.winLoss].filter(([, d]) => d.closings !== 0 || d.withAmount !== 0 || d.wholeSum !== 0n || d.absSum !== 0n || d.fractional !== 0);
    if (winLoss.length > 0) {
      const keys = winLoss.map(([key]) => JSON.parse(key) as [string, string | null, string | null, number | null, string, string | null, string | null]);
      statements.push({
        sql: upsert(
          s,
          'win_loss_summary',
          ['process_id', 'outcome', 'currency', 'reason'],
          ['closings', 'with_amount', 'whole_sum', 'abs_sum', 'fractional'],
          `unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::numeric[], $11::numeric[], $12::bigint[])
             AS r(process_id, team_id, owner_id, at, outcome, currency, reason, closings, with_amount, whole_sum, abs_sum, fractional)`,
        ),
        values: [
          keys.map((k) => k[0]),
          keys.map((k) => k[1]),
          keys.map((k) => k[2]),
          keys.map((k) => isoOf(k[3])),
          keys.map((k) => k[4]),
          keys.map((k) => k[5]),
          keys.map((k) => k[6]),
          winLoss.map(([, d]) => d.closings),
          winLoss.map(([, d]) => d.withAmount),
          winLoss.map(([, d]) => String(d.wholeSum)),
          winLoss.map(([, d]) => String(d.absSum)),
          winLoss.map(([, d]) => d.fractional),
        ],
      });
    }
    const funnel = [...this.funnel].filter(([, count]) => count !== 0);
    if (funnel.length > 0) {
      const keys = funnel.map(([key]) => JSON.parse(key) as [string, string, string | null, string | null, number | null, number, boolean]);
      statements.push({
        sql: upsert(
          s,
          'funnel_summary',
          ['process_id', 'process_version', 'furthest_rank', 'ever_won'],
          ['opportunities'],
          `unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::int[], $7::bool[], $8::bigint[]) AS r(process_id, process_version, team_id, owner_id, at, furthest_rank, ever_won, opportunities)`,
        ),
        values: [keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2]), keys.map((k) => k[3]), keys.map((k) => isoOf(k[4])), keys.map((k) => k[5]), keys.map((k) => k[6]), funnel.map(([, count]) => count)],
      });
    }
    const transitions = [...this.transitions].filter(([, count]) => count !== 0);
    if (transitions.length > 0) {
      const keys = transitions.map(([key]) => JSON.parse(key) as [number, string | null, string | null, number | null]);
      statements.push({
        sql: upsert(s, 'transition_summary', ['pair_no'], ['transitions'], `unnest($1::int[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[]) AS r(pair_no, team_id, owner_id, at, transitions)`),
        values: [keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2]), keys.map((k) => isoOf(k[3])), transitions.map(([, count]) => count)],
      });
    }
    return statements;
  }

  private add(contribution: Contribution, sign: 1 | -1): void {
    this.funnel.set(contribution.funnelKey, (this.funnel.get(contribution.funnelKey) ?? 0) + sign);
    const closed = contribution.winLoss;
    if (closed === null) return;
    let delta = this.winLoss.get(closed.key);
    if (!delta) this.winLoss.set(closed.key, (delta = { closings: 0, withAmount: 0, wholeSum: 0n, absSum: 0n, fractional: 0 }));
    delta.closings += sign;
    delta.withAmount += sign * closed.withAmount;
    delta.wholeSum += sign === 1 ? closed.whole : -closed.whole;
    delta.absSum += sign === 1 ? abs(closed.whole) : -abs(closed.whole);
    delta.fractional += sign * closed.fractional;
  }
}

const abs = (n: bigint) => (n < 0n ? -n : n);

/** Adds delta rows `r` (keys, team_id, owner_id, at, measures) to a summary: each once per dim and per day and month, grouped (a month may gather several days). */
function upsert(s: string, table: string, keys: readonly string[], measures: readonly string[], rows: string): string {
  const columns = [...keys, 'dim', 'dim_id', 'period', 'period_start'];
  return `INSERT INTO ${s}.${table} AS t (${[...columns, ...measures].join(', ')})
    SELECT ${[...keys.map((k) => `r.${k}`), 'd.dim', 'd.dim_id', 'p.period', 'p.period_start', ...measures.map((m) => `sum(r.${m})`)].join(', ')}
    FROM ${rows} ${dims('r')} ${periods('r.at')} GROUP BY ${columns.map((_, i) => i + 1).join(', ')}
    ON CONFLICT (${columns.join(', ')}) DO UPDATE SET ${measures.map((m) => `${m} = t.${m} + EXCLUDED.${m}`).join(', ')}`;
}

/**
 * Moves the transitions earlier batches wrote for reassigned deals from their old team and owner to
 * the new ones (run before the batch writes its own transitions, which count under the new ones).
 */
export function reassignedTransitionsSql(s: string): string {
  return `INSERT INTO ${s}.transition_summary AS t (pair_no, dim, dim_id, period, period_start, transitions)
    SELECT x.pair_no, d.dim, d.dim_id, p.period, p.period_start, sum(d.sign)
    FROM ${s}.transitions x JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS r(opportunity_id, old_team, old_owner, new_team, new_owner) ON x.opportunity_id = r.opportunity_id
    CROSS JOIN LATERAL (VALUES ('team', r.old_team, -1), ('owner', r.old_owner, -1), ('team', r.new_team, 1), ('owner', r.new_owner, 1)) AS d(dim, dim_id, sign)
    ${periods('x.occurred_at')}
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(d.sign) <> 0
    ON CONFLICT (pair_no, dim, dim_id, period, period_start) DO UPDATE SET transitions = t.transitions + EXCLUDED.transitions`;
}

/** The parameters of `reassignedTransitionsSql`. */
export const reassignedTransitionsValues = (moves: readonly Reassignment[]): unknown[] => [
  moves.map((m) => m.opportunityId),
  moves.map((m) => m.from.teamId),
  moves.map((m) => m.from.ownerId),
  moves.map((m) => m.to.teamId),
  moves.map((m) => m.to.ownerId),
];

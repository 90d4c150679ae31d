import type { PoolClient } from 'pg';
import { allLabelRowsSql, LEARNED_NOTE, rebuildDailyCountsSql, rebuildLearnedSql, rebuildSetbacksSql } from './read-side.learned';
import { rebuildDurationBucketsSql, rebuildSummariesSql, SUMMARIES_NOTE, summaryIndexesSql } from './read-side.summaries';
import { assertReadSideSchema } from './read-side.schema-name';
import { explainNotPermitted } from './read-side.permission';
import { SEARCH_FOLD } from './read-side.search-fold';

// The read side's relational schema, versioned: each migration runs once per schema, in order, in
// one transaction, recorded in <schema>.schema_migrations. Never edit a shipped migration: add the
// next one. Every table and column says what it holds (COMMENT ON), for the analysts who query it
// with psql or a BI tool; docs/read-models-postgres.md describes the same, with examples.
//
// Times of business (occurredAt) are timestamptz. Amounts are double precision, as the events hold
// them: sums of amounts are exact, in whole minor units (amount_units, migration 21); weighted
// amounts are float sums, added in the order the in-memory models add them.

export interface ReadSideMigration {
  readonly version: number;
  readonly name: string;
  sql(schema: string): string;
}

const comments = (schema: string, table: string, about: string, columns: Record<string, string>) =>
  [
    `COMMENT ON TABLE ${schema}.${table} IS ${literal(about)};`,
    ...Object.entries(columns).map(([column, text]) => `COMMENT ON COLUMN ${schema}.${table}.${column} IS ${literal(text)};`),
  ].join('\n');

const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * An index made again with a new definition: dropped and made now, or, while a catch-up defers it
 * (read-side.indexes.ts), its note given the new definition, for the catch-up to make at its end.
 */
const redefinedIndex = (s: string, name: string, definition: string) => `DROP INDEX IF EXISTS ${s}.${name};
UPDATE ${s}.deferred_indexes SET definition = ${literal(definition)} WHERE index_name = '${name}';
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM ${s}.deferred_indexes WHERE index_name = '${name}') THEN EXECUTE ${literal(definition)}; END IF;
END $$;`;

/**
 * Index board_segments_standing as migration 14 makes it: migration 11's, also covering
 * opportunity_id (the learned estimates join each standing deal's setback) and expected_close_date
 * (the learned forecast as of), so that the segments standing at t are read from the index alone.
 */
const STANDING_INDEX = (s: string) => `CREATE INDEX board_segments_standing ON ${s}.board_segments (period_level, period_block, valid_from)
  INCLUDE (valid_to, process_id, stage_id, currency, started_position, amount, probability, team_id, owner_id, stage_entered_at, opportunity_id, expected_close_date)`;

/**
 * Index board_segments_standing as migration 15 makes it: migration 14's, also covering set_back,
 * which the learned win probability as of an instant reads instead of joining deal_setbacks.
 */
const STANDING_INDEX_15 = (s: string) => `CREATE INDEX board_segments_standing ON ${s}.board_segments (period_level, period_block, valid_from)
  INCLUDE (valid_to, process_id, stage_id, currency, started_position, amount, probability, team_id, owner_id, stage_entered_at, opportunity_id, expected_close_date, set_back)`;

/**
 * Index board_segments_standing_ends as migration 16 makes it: migration 13's, also covering what
 * board_segments_standing covers since migration 15 (opportunity_id, expected_close_date,
 * set_back), so that the learned win probability and forecast as of an instant walk the segments
 * standing at t as the board as of t does, both runs from the indexes alone.
 */
const STANDING_ENDS_INDEX_16 = (s: string) => `CREATE INDEX board_segments_standing_ends ON ${s}.board_segments (period_level, period_block, valid_to)
  INCLUDE (process_id, stage_id, currency, started_position, amount, probability, team_id, owner_id, stage_entered_at, opportunity_id, expected_close_date, set_back) WHERE period_level BETWEEN 1 AND 63`;

/**
 * Whether the tables hold an opportunity whose events that begin a board segment (board_segments)
 * or end or close one (transitions: stage changes, closings, reopenings; or a segment begun) have
 * no time, or a time before the previous such event's (by log position): checkpoint.times_unordered
 * as migration 15 computes it, what the fold's keepTimeOrder (read-side.fold.ts) keeps batch by batch.
 */
export const TIMES_UNORDERED = (s: string) => `EXISTS (
  SELECT 1 FROM (SELECT at, lag(at) OVER (PARTITION BY opportunity_id ORDER BY position) AS before
                 FROM (SELECT opportunity_id, position, occurred_at AS at FROM ${s}.transitions
                       UNION ALL SELECT opportunity_id, started_position, valid_from FROM ${s}.board_segments) e) o
  WHERE at IS NULL OR at < before)`;

/** View win_probability_visits: made by migration 7, and again by migration 10 over the deal_setbacks table (the same text). */
const WIN_PROBABILITY_VISITS_VIEW = (s: string) => `
CREATE VIEW ${s}.win_probability_visits AS
  SELECT v.opportunity_id, v.visit_no, v.process_id, v.stage_id, v.entered_at, v.left_at,
    (d.first_position IS NOT NULL AND v.visit_no > (SELECT count(*) FROM ${s}.stage_visits p WHERE p.opportunity_id = v.opportunity_id AND p.ended_position <= d.first_position)) AS flagged,
    COALESCE(vs.probability, 0) AS configured_probability,
    c.closed_at, c.outcome = 'won' AS won
  FROM ${s}.stage_visits v
  JOIN LATERAL (
    SELECT o.closed_at, o.outcome FROM ${s}.outcomes o
    WHERE o.opportunity_id = v.opportunity_id AND o.closing_position >= v.ended_position ORDER BY o.closing_position LIMIT 1
  ) c ON true
  LEFT JOIN ${s}.deal_setbacks d ON d.opportunity_id = v.opportunity_id
  LEFT JOIN ${s}.version_stages vs ON vs.process_id = v.process_id AND vs.version = v.process_version AND vs.stage_id = v.stage_id
  WHERE v.ended_position IS NOT NULL;
COMMENT ON VIEW ${s}.win_probability_visits IS 'What the learned win probability learns from (README, "Learned win probability"): every completed stage visit whose life has closed, labelled with that closing (the first win or loss at or after the visit ended). flagged: the deal had gone backward or been reopened when it entered the visit. configured_probability: the stage''s probability (0-100) in the version the visit ended on. An estimate as of T counts only rows with closed_at < T; each counts in every time-in-stage bucket (0, 7, 30, 90 days) that left_at - entered_at reached.';
`;

/** Whole hours since 1970 of an epoch in seconds (numeric), rounded down: exact, where floor(e / 3600) rounds the quotient first (to 12 decimals in 2026, to 8 after the year 13,380). */
const hoursSql = (epoch: string) => `(div(${epoch}, 3600) - (${epoch} < 0 AND mod(${epoch}, 3600) <> 0)::int)::bigint`;

/**
 * period_level's body (migration 11), written out again inside period_block: a function naming
 * another by its schema would break when a rebuilt shadow schema is renamed into place. The
 * writer computes the same in TypeScript (periodFiling, read-side.standing.ts); these functions
 * fill the rows written before, once, and say what the columns hold.
 */
const PERIOD_LEVEL_SQL = `CASE WHEN valid_from IS NULL THEN NULL WHEN valid_to IS NULL THEN 65 WHEN valid_to <= valid_from THEN 0
    ELSE 65 - position('1' IN ((${hoursSql('EXTRACT(EPOCH FROM valid_from)')} # ${hoursSql('(EXTRACT(EPOCH FROM valid_to) - 0.000001)')})::bit(64)::text || '1')) END`;

export const READ_SIDE_MIGRATIONS: readonly ReadSideMigration[] = [
  {
    version: 1,
    name: 'read models: opportunities, stage visits, outcomes, transitions, board segments, the process catalog, views',
    sql: (s) => `
CREATE TABLE ${s}.checkpoint (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  position bigint NOT NULL DEFAULT 0,
  log_id text NOT NULL DEFAULT '',
  failed text,
  state jsonb,
  state_revision bigint NOT NULL DEFAULT 0,
  counters jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO ${s}.checkpoint DEFAULT VALUES;
${comments(s, 'checkpoint', 'Where the projector is in the event log. One row, written in the same transaction as every batch of rows it describes: the tables hold exactly the events up to position, nothing twice, nothing skipped.', {
  singleton: 'Always true: the table has one row.',
  position: 'The last global log position folded into these tables.',
  log_id: 'Id of the first event of the log these tables were built from; tables built from another log are rebuilt, never mixed.',
  failed: 'Why the projector stopped on an event (it then serves no new figures), or null.',
  state: "The projector's small state: the process catalog (stage keys, orders, ranks) and the currencies and lost reasons in order of first appearance. The API reads it to order its answers exactly as the in-memory models do.",
  state_revision: 'Increases whenever state changes (so readers can cache it).',
  counters: "The projector's running counters by stage key: transition pairs in order of first appearance and completed visits per stage with their seconds added in the order they ended (transition_pairs and stage_visit_totals show the same by stage id).",
  updated_at: 'When the last batch was written (wall clock of the database).',
})}

CREATE TABLE ${s}.processes (
  process_id text PRIMARY KEY,
  latest_version text
);
${comments(s, 'processes', 'Every sales process seen in the log.', {
  process_id: 'The process id (config/processes/<id>.yaml).',
  latest_version: 'The version recorded last: new opportunities open on it, and its stage order leads every report. Null when no version was recorded (only opportunities named it).',
})}

CREATE TABLE ${s}.process_versions (
  process_id text NOT NULL,
  version text NOT NULL,
  recorded boolean NOT NULL,
  PRIMARY KEY (process_id, version)
);
${comments(s, 'process_versions', 'Every version of a process definition (a hash of its content) recorded in the log or named by an opportunity.', {
  process_id: 'The process.',
  version: 'The version: a hash of the definition.',
  recorded: 'False while only opportunities name the version (a log that breaks the promise that versions are recorded first).',
})}

CREATE TABLE ${s}.stages (
  process_id text NOT NULL,
  stage_id text NOT NULL,
  name text NOT NULL,
  probability double precision NOT NULL,
  display_order integer NOT NULL,
  in_chain boolean NOT NULL,
  PRIMARY KEY (process_id, stage_id)
);
${comments(s, 'stages', 'Every stage of every process across all its versions, in the order the API lists them.', {
  process_id: 'The process.',
  stage_id: 'The stage id (identity across versions).',
  name: 'Name in the most recently recorded version that has the stage.',
  probability: 'Probability (0-100) in the most recently recorded version that has the stage: what the board shows beside the stage.',
  display_order: 'Position in reports, from 0: the latest version\'s stages in its order, then stages only older versions have, in order of first appearance.',
  in_chain: 'Whether the stage belongs to the latest version (the funnel\'s conversion chain).',
})}

CREATE TABLE ${s}.version_stages (
  process_id text NOT NULL,
  version text NOT NULL,
  stage_id text NOT NULL,
  rank integer NOT NULL,
  probability double precision NOT NULL,
  PRIMARY KEY (process_id, version, stage_id)
);
${comments(s, 'version_stages', 'The stages of each process version in that version\'s order.', {
  process_id: 'The process.',
  version: 'The version.',
  stage_id: 'The stage.',
  rank: 'Position of the stage in this version, from 0 (what "later" means in the funnel).',
  probability: 'Probability (0-100) of the stage in this version: each open opportunity is weighted by its own version\'s.',
})}

CREATE TABLE ${s}.opportunities (
  opportunity_id text PRIMARY KEY,
  opened_position bigint NOT NULL,
  process_id text NOT NULL,
  process_version text NOT NULL,
  title text NOT NULL,
  team_id text,
  owner_id text,
  amount double precision,
  currency text,
  opened_at timestamptz,
  status text NOT NULL CHECK (status IN ('open', 'won', 'lost')),
  stage_id text,
  stage_entered_at timestamptz,
  probability double precision NOT NULL,
  closed_at timestamptz,
  lost_reason text,
  won_amount double precision,
  won_currency text,
  furthest_rank integer NOT NULL,
  ever_won boolean NOT NULL,
  visits integer NOT NULL,
  segment_started_position bigint,
  segment_started_at timestamptz,
  segment_probability double precision NOT NULL,
  last_closing_position bigint,
  updated_position bigint NOT NULL
);
CREATE UNIQUE INDEX opportunities_row_order ON ${s}.opportunities (opened_position);
CREATE INDEX opportunities_open_by_stage ON ${s}.opportunities (process_id, stage_id, stage_entered_at, opportunity_id COLLATE "C") WHERE stage_id IS NOT NULL;
CREATE INDEX opportunities_closed ON ${s}.opportunities (closed_at) WHERE status <> 'open';
CREATE INDEX opportunities_team ON ${s}.opportunities (team_id);
CREATE INDEX opportunities_owner ON ${s}.opportunities (owner_id);
${comments(s, 'opportunities', 'One row per opportunity: how it stands now (after the last event folded in, see checkpoint.position).', {
  opportunity_id: 'The opportunity id.',
  opened_position: 'Global log position of its OpportunityOpened event (the API adds figures in this order).',
  process_id: 'Its process.',
  process_version: 'The process version it runs on now (the one it opened with, until a migration moved it).',
  title: 'Current title.',
  team_id: 'Current team (the API filters and groups by the current team). Null: none.',
  owner_id: 'Current owner. Null: none.',
  amount: 'Current amount, in currency. Null: no amount (counted, adds nothing).',
  currency: 'Current currency code as the client wrote it. Null: none (the API sums such amounts under "unspecified").',
  opened_at: 'When it was opened (business time, occurredAt).',
  status: 'open, won or lost: its latest outcome (a reopened opportunity is open).',
  stage_id: 'The stage it is in while on the board; null while closed.',
  stage_entered_at: 'When it entered its current (or, when closed, last) stage, business time. A process migration keeps it.',
  probability: 'Probability (0-100) of stage_id in its own process version: amount * probability / 100 is its weighted amount.',
  closed_at: 'When it was last won or lost (business time); also kept after a reopening.',
  lost_reason: 'Reason of the latest loss while status = lost; null otherwise.',
  won_amount: 'Amount counted for its latest win: the win event\'s, else the opportunity\'s then. Null: won without an amount.',
  won_currency: 'Currency of won_amount (the opportunity\'s at the win). Null with an amount: "unspecified".',
  furthest_rank: 'Highest rank (version_stages.rank, in its current version) of any stage it entered: the funnel counts it as having reached every stage up to it.',
  ever_won: 'Whether it was ever won, whatever happened after (the funnel counts it as having passed every stage).',
  visits: 'Number of stage visits so far (stage_visits.visit_no of the latest).',
  segment_started_position: 'Bookkeeping: board_segments.started_position of its current segment; null while closed.',
  segment_started_at: 'Bookkeeping: when its current board segment began.',
  segment_probability: 'Bookkeeping: the probability its current board segment carries.',
  last_closing_position: 'outcomes.closing_position of its latest win or loss; null when never closed.',
  updated_position: 'Global log position of the last event that changed this row.',
})}

CREATE TABLE ${s}.stage_visits (
  opportunity_id text NOT NULL,
  visit_no integer NOT NULL,
  process_id text NOT NULL,
  process_version text NOT NULL,
  stage_id text NOT NULL,
  entered_at timestamptz,
  left_at timestamptz,
  left_to text,
  duration_seconds double precision,
  ended_position bigint,
  team_id text,
  owner_id text,
  amount double precision,
  currency text,
  PRIMARY KEY (opportunity_id, visit_no)
);
CREATE INDEX stage_visits_completed ON ${s}.stage_visits (process_id, stage_id, duration_seconds) WHERE left_at IS NOT NULL;
CREATE INDEX stage_visits_left_at ON ${s}.stage_visits (left_at) WHERE left_at IS NOT NULL;
${comments(s, 'stage_visits', 'One row per visit of an opportunity to a stage: from the event that entered it (opened, moved, reopened) to the one that left it (moved, won, lost). A move back makes a new visit. A process migration relabels the open visit (same entry time); completed visits keep their stage.', {
  opportunity_id: 'The opportunity.',
  visit_no: 'Its visits numbered from 1 in order.',
  process_id: 'The process.',
  process_version: 'The version the opportunity ran on during the visit (at its end, or now while open).',
  stage_id: 'The stage visited.',
  entered_at: 'When the visit began (business time).',
  left_at: 'When it ended; null while the opportunity is still in the stage.',
  left_to: 'Where it went: a stage id, won or lost; null while open.',
  duration_seconds: 'left_at - entered_at in seconds; null while open. The API\'s stage durations are over these.',
  ended_position: 'Global log position of the event that ended the visit.',
  team_id: 'The opportunity\'s team during the visit (at its end, or now while open). The API filters by the opportunity\'s current team instead (opportunities.team_id).',
  owner_id: 'The owner during the visit (at its end, or now while open).',
  amount: 'The amount during the visit (at its end, or now while open).',
  currency: 'The currency during the visit.',
})}

CREATE TABLE ${s}.stage_visit_totals (
  process_id text NOT NULL,
  stage_id text NOT NULL,
  completed bigint NOT NULL,
  seconds_sum double precision NOT NULL,
  PRIMARY KEY (process_id, stage_id)
);
${comments(s, 'stage_visit_totals', 'Per stage: completed visits and the sum of their seconds, added in the order the visits ended (the API\'s unfiltered mean is seconds_sum / completed).', {
  process_id: 'The process.',
  stage_id: 'The stage.',
  completed: 'Completed visits.',
  seconds_sum: 'Sum of their duration_seconds, in the order they ended.',
})}

CREATE TABLE ${s}.outcomes (
  closing_position bigint PRIMARY KEY,
  opportunity_id text NOT NULL,
  process_id text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('won', 'lost')),
  stage_id text,
  reason text,
  amount double precision,
  currency text,
  closed_at timestamptz,
  reopened_at timestamptz,
  team_id text,
  owner_id text
);
CREATE INDEX outcomes_opportunity ON ${s}.outcomes (opportunity_id);
${comments(s, 'outcomes', 'Every win and loss, also those later reopened. The latest closing of an opportunity that is closed now has reopened_at null.', {
  closing_position: 'Global log position of the OpportunityWon / OpportunityLost event.',
  opportunity_id: 'The opportunity.',
  process_id: 'The process.',
  outcome: 'won or lost.',
  stage_id: 'The stage it was closed from.',
  reason: 'The lost reason (null for a win).',
  amount: 'Won: the amount won (the event\'s, else the opportunity\'s). Lost: the opportunity\'s amount then. Null: none.',
  currency: 'The opportunity\'s currency then.',
  closed_at: 'When (business time).',
  reopened_at: 'When it was reopened after this closing; null when not (yet).',
  team_id: 'The team at the closing.',
  owner_id: 'The owner at the closing.',
})}

CREATE TABLE ${s}.transitions (
  position bigint PRIMARY KEY,
  opportunity_id text NOT NULL,
  process_id text NOT NULL,
  from_stage text NOT NULL,
  to_stage text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('forward', 'backward', 'won', 'lost', 'reopened')),
  occurred_at timestamptz,
  pair_no integer NOT NULL
);
CREATE INDEX transitions_occurred_at ON ${s}.transitions (occurred_at);
CREATE INDEX transitions_opportunity ON ${s}.transitions (opportunity_id);
${comments(s, 'transitions', 'Every move of an opportunity: stage to stage (forward, a skip, or backward), stage to won or lost, and won or lost back to a stage (reopened). Opening and process migrations are not moves.', {
  position: 'Global log position of the event.',
  opportunity_id: 'The opportunity.',
  process_id: 'The process.',
  from_stage: 'Where it was: a stage id, or won / lost for a reopening.',
  to_stage: 'Where it went: a stage id, won or lost.',
  kind: 'forward or backward (a stage change, as the event says), won, lost, reopened.',
  occurred_at: 'When (business time).',
  pair_no: 'transition_pairs.pair_no of (from_stage, to_stage).',
})}

CREATE TABLE ${s}.transition_pairs (
  pair_no integer PRIMARY KEY,
  process_id text NOT NULL,
  from_stage text NOT NULL,
  to_stage text NOT NULL,
  transitions bigint NOT NULL
);
${comments(s, 'transition_pairs', 'Each (from, to) pair of transitions, numbered in order of first appearance in the log (the order of the API\'s matrix), with how many there were.', {
  pair_no: 'Number of the pair, from 0, in order of first appearance.',
  process_id: 'The process.',
  from_stage: 'From: a stage id, won or lost.',
  to_stage: 'To: a stage id, won or lost.',
  transitions: 'Transitions of this pair, all time.',
})}

CREATE TABLE ${s}.board_segments (
  started_position bigint PRIMARY KEY,
  opportunity_id text NOT NULL,
  process_id text NOT NULL,
  stage_id text NOT NULL,
  valid_from timestamptz,
  valid_to timestamptz,
  probability double precision NOT NULL,
  amount double precision,
  currency text,
  team_id text,
  owner_id text,
  stage_entered_at timestamptz,
  title text NOT NULL
);
CREATE INDEX board_segments_period ON ${s}.board_segments USING gist (tstzrange(valid_from, valid_to));
${comments(s, 'board_segments', 'The board at any past instant (GET /pipeline?asOf=): each period during which what the board shows about an open opportunity (stage, probability, amount, currency, team, owner, title) stayed the same. The board at t is every row with valid_from <= t < valid_to (valid_to null: still so).', {
  started_position: 'Global log position of the event that began the period.',
  opportunity_id: 'The opportunity.',
  process_id: 'The process.',
  stage_id: 'Its stage during the period.',
  valid_from: 'Start of the period (business time), inclusive.',
  valid_to: 'End of the period, exclusive; null while it lasts.',
  probability: 'Probability (0-100) of the stage in the version it ran on then.',
  amount: 'Amount then; null: none.',
  currency: 'Currency then.',
  team_id: 'Team then (the past board filters by the team at the instant asked).',
  owner_id: 'Owner then.',
  stage_entered_at: 'When it had entered that stage.',
  title: 'Title then.',
})}

CREATE VIEW ${s}.win_loss_closings AS
  SELECT opportunity_id, opened_position, process_id, team_id, owner_id, status AS outcome, closed_at,
    to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, lost_reason, won_amount, won_currency
  FROM ${s}.opportunities WHERE status IN ('won', 'lost');
COMMENT ON VIEW ${s}.win_loss_closings IS 'One row per opportunity whose latest outcome is won or lost (a reopened one counts only once it closes again): what win/loss figures are computed from. month is YYYY-MM of closed_at in UTC.';

CREATE VIEW ${s}.win_loss AS
  WITH grouped AS (
    SELECT 'total' AS group_by, NULL::text AS key, opened_position, outcome, won_amount FROM ${s}.win_loss_closings
    UNION ALL SELECT 'team', team_id, opened_position, outcome, won_amount FROM ${s}.win_loss_closings
    UNION ALL SELECT 'owner', owner_id, opened_position, outcome, won_amount FROM ${s}.win_loss_closings
    UNION ALL SELECT 'process', process_id, opened_position, outcome, won_amount FROM ${s}.win_loss_closings
    UNION ALL SELECT 'month', month, opened_position, outcome, won_amount FROM ${s}.win_loss_closings
    UNION ALL SELECT 'reason', lost_reason, opened_position, outcome, won_amount FROM ${s}.win_loss_closings WHERE outcome = 'lost'
  )
  SELECT group_by, key,
    count(*) FILTER (WHERE outcome = 'won') AS won,
    count(*) FILTER (WHERE outcome = 'lost') AS lost,
    (count(*) FILTER (WHERE outcome = 'won'))::double precision / count(*) AS win_rate,
    COALESCE(sum(won_amount ORDER BY opened_position) FILTER (WHERE outcome = 'won' AND won_amount IS NOT NULL), 0) AS amount_won
  FROM grouped GROUP BY group_by, key;
COMMENT ON VIEW ${s}.win_loss IS 'GET /analytics/win-loss without filters: group_by is total (one row), team, owner, process, month or reason (lost ones only); key the group (null: none); won, lost, win_rate, amount_won (all currencies added up, in the order the API adds them). Filters (a period, a team) go on win_loss_closings.';

CREATE VIEW ${s}.funnel AS
  WITH reached AS (
    SELECT vs.process_id, vs.stage_id, count(*) AS reached
    FROM ${s}.opportunities o
    JOIN ${s}.version_stages vs ON vs.process_id = o.process_id AND vs.version = o.process_version AND (o.ever_won OR o.furthest_rank >= vs.rank)
    GROUP BY vs.process_id, vs.stage_id
  ), won AS (
    SELECT process_id, count(*) FILTER (WHERE ever_won) AS won FROM ${s}.opportunities GROUP BY process_id
  )
  SELECT st.process_id, st.stage_id, st.display_order, COALESCE(r.reached, 0) AS reached,
    CASE WHEN NOT st.in_chain OR COALESCE(r.reached, 0) = 0 THEN NULL
         WHEN nxt.stage_id IS NULL THEN COALESCE(w.won, 0)::double precision / r.reached
         ELSE COALESCE(rn.reached, 0)::double precision / r.reached END AS conversion_to_next,
    COALESCE(w.won, 0) AS won
  FROM ${s}.stages st
  LEFT JOIN reached r ON r.process_id = st.process_id AND r.stage_id = st.stage_id
  LEFT JOIN won w ON w.process_id = st.process_id
  LEFT JOIN ${s}.stages nxt ON nxt.process_id = st.process_id AND nxt.in_chain AND nxt.display_order = st.display_order + 1
  LEFT JOIN reached rn ON rn.process_id = nxt.process_id AND rn.stage_id = nxt.stage_id;
COMMENT ON VIEW ${s}.funnel IS 'GET /analytics/funnel without filters: per process and stage (display_order), reached = opportunities that entered the stage or a later one of their own version, or were won; conversion_to_next to the next stage of the chain (the last stage: to won); won = opportunities ever won in the process.';

CREATE VIEW ${s}.stage_durations AS
  WITH ranked AS (
    SELECT process_id, stage_id, duration_seconds AS d,
      row_number() OVER (PARTITION BY process_id, stage_id ORDER BY duration_seconds) AS rn,
      count(*) OVER (PARTITION BY process_id, stage_id) AS n
    FROM ${s}.stage_visits WHERE left_at IS NOT NULL
  ), completed AS (
    SELECT process_id, stage_id, max(n) AS n,
      CASE WHEN max(n) % 2 = 1 THEN max(d) FILTER (WHERE rn = (n + 1) / 2)
           ELSE (max(d) FILTER (WHERE rn = n / 2) + max(d) FILTER (WHERE rn = n / 2 + 1)) / 2 END AS median,
      max(d) FILTER (WHERE rn = (9 * n + 9) / 10) AS p90
    FROM ranked GROUP BY process_id, stage_id
  ), open AS (
    SELECT process_id, stage_id, count(*) AS open_count, min(stage_entered_at) AS oldest_entered_at
    FROM ${s}.opportunities WHERE stage_id IS NOT NULL GROUP BY process_id, stage_id
  )
  SELECT st.process_id, st.stage_id, st.display_order,
    COALESCE(c.n, 0) AS completed_count, t.seconds_sum / NULLIF(t.completed, 0) AS mean_seconds, c.median AS median_seconds, c.p90 AS p90_seconds,
    COALESCE(o.open_count, 0) AS open_count, o.oldest_entered_at AS oldest_open_entered_at,
    GREATEST(0, EXTRACT(EPOCH FROM now() - o.oldest_entered_at))::double precision AS oldest_open_age_seconds
  FROM ${s}.stages st
  LEFT JOIN completed c ON c.process_id = st.process_id AND c.stage_id = st.stage_id
  LEFT JOIN ${s}.stage_visit_totals t ON t.process_id = st.process_id AND t.stage_id = st.stage_id
  LEFT JOIN open o ON o.process_id = st.process_id AND o.stage_id = st.stage_id;
COMMENT ON VIEW ${s}.stage_durations IS 'GET /analytics/stage-durations without filters: per process and stage, completed visits (count, mean, median = middle value or mean of the two middle ones, p90 = nearest rank sorted[ceil(0.9 n) - 1], in seconds) and open visits (count, oldest entry and its age now).';
`,
  },
  {
    version: 2,
    name: 'deferred_indexes: the query indexes a catch-up from position 0 drops, to create once at the end',
    sql: (s) => `
CREATE TABLE ${s}.deferred_indexes (
  index_name text PRIMARY KEY,
  definition text NOT NULL
);
${comments(s, 'deferred_indexes', 'Indexes that only speed up reading, dropped while the projector folds a long log from position 0 (writing is then several times faster) and created again before it reports caught up. Empty while the read side serves.', {
  index_name: 'The index.',
  definition: 'Its CREATE INDEX statement, as pg_indexes gave it.',
})}
`,
  },
  {
    version: 3,
    name: 'stage_duration_buckets: completed visits counted per stage and duration bucket, to pick medians and p90s without reading every visit',
    sql: (s) => `
CREATE FUNCTION ${s}.duration_bucket(seconds double precision) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $$
  SELECT CASE WHEN seconds = 'NaN'::double precision THEN 2147483647
              WHEN seconds >= 0 THEN floor(ln(1 + seconds) * 64)::integer
              ELSE -floor(ln(1 - seconds) * 64)::integer - 1 END
$$;
COMMENT ON FUNCTION ${s}.duration_bucket(double precision) IS 'Bucket of a duration in seconds: about 1.6 % wide, in the order of the durations (a longer duration never has a smaller bucket; NaN last, as PostgreSQL sorts it).';
ALTER TABLE ${s}.stage_visits ADD COLUMN duration_bucket integer GENERATED ALWAYS AS (${s}.duration_bucket(duration_seconds)) STORED;
COMMENT ON COLUMN ${s}.stage_visits.duration_bucket IS 'duration_bucket(duration_seconds): which row of stage_duration_buckets counts this visit; null while open.';
DROP INDEX ${s}.stage_visits_completed;
CREATE INDEX stage_visits_completed ON ${s}.stage_visits (process_id, stage_id, duration_bucket, duration_seconds) WHERE left_at IS NOT NULL;
CREATE TABLE ${s}.stage_duration_buckets (
  process_id text NOT NULL,
  stage_id text NOT NULL,
  bucket integer NOT NULL,
  visits bigint NOT NULL,
  PRIMARY KEY (process_id, stage_id, bucket)
);
INSERT INTO ${s}.stage_duration_buckets SELECT process_id, stage_id, duration_bucket, count(*) FROM ${s}.stage_visits WHERE left_at IS NOT NULL GROUP BY 1, 2, 3;
${comments(s, 'stage_duration_buckets', 'Completed visits per stage and duration bucket (stage_visits.duration_bucket), kept by the projector: the API finds the bucket of the k-th shortest visit here, then the visit within it through an index, instead of sorting every visit.', {
  process_id: 'The process.',
  stage_id: 'The stage.',
  bucket: 'duration_bucket(duration_seconds) of the visits counted.',
  visits: 'Completed visits of this stage in this bucket.',
})}
`,
  },
  {
    version: 4,
    name: 'covering indexes: the board, the funnel and win/loss answered from indexes alone',
    sql: (s) => `
CREATE INDEX opportunities_open_figures ON ${s}.opportunities (process_id, stage_id, currency) INCLUDE (opened_position, amount, probability, team_id, owner_id, stage_entered_at) WHERE stage_id IS NOT NULL;
CREATE INDEX opportunities_funnel ON ${s}.opportunities (team_id, process_id, process_version, furthest_rank, ever_won) INCLUDE (owner_id, opened_at);
DROP INDEX ${s}.opportunities_closed;
CREATE INDEX opportunities_closed ON ${s}.opportunities (closed_at) INCLUDE (status, stage_id, process_id, opened_position, amount, currency, won_amount, won_currency, lost_reason, team_id, owner_id) WHERE status <> 'open';
`,
  },
  {
    version: 5,
    name: 'forecast: expected close dates on opportunities and board segments, rotAfterDays per stage',
    sql: (s) => `
ALTER TABLE ${s}.opportunities ADD COLUMN expected_close_date date;
ALTER TABLE ${s}.board_segments ADD COLUMN expected_close_date date;
ALTER TABLE ${s}.stages ADD COLUMN rot_after_days integer;
CREATE INDEX board_segments_expected_close ON ${s}.board_segments (expected_close_date) WHERE expected_close_date IS NOT NULL;
COMMENT ON COLUMN ${s}.opportunities.expected_close_date IS 'When the deal is expected to close (a calendar date, set on opening or by a details change: ExpectedCloseDateChanged). Null: none.';
COMMENT ON COLUMN ${s}.board_segments.expected_close_date IS 'Expected close date then; a change starts a new segment. GET /analytics/forecast?asOf= adds the segments standing at the instant by the period of this date.';
COMMENT ON COLUMN ${s}.stages.rot_after_days IS 'rotAfterDays of the stage in the most recently recorded version that has it: an open deal longer in the stage (business time) is rotting. Null: it never rots.';
COMMENT ON COLUMN ${s}.outcomes.reopened_at IS 'When it was reopened after this closing; null when not (yet). A win with reopened_at null still stands: the forecast counts it as won in the period of closed_at (UTC day).';
`,
  },
  {
    version: 6,
    name: 'money never mixed: won reasons and next steps of the latest closing, for win/loss and the closed cards',
    sql: (s) => `
ALTER TABLE ${s}.opportunities ADD COLUMN won_reason text;
ALTER TABLE ${s}.opportunities ADD COLUMN next_steps text;
COMMENT ON COLUMN ${s}.opportunities.won_reason IS 'Won reason of the latest win while status = won (processes that list wonReasons); null otherwise. GET /analytics/win-loss counts wonReasons from it. Rows folded before migration 6 have null until the read side is rebuilt.';
COMMENT ON COLUMN ${s}.opportunities.next_steps IS 'Next steps written on the latest win or loss (nextSteps), shown on the closed cards of GET /pipeline?closed=; null when none was written or while never closed. Rows folded before migration 6 have null until the read side is rebuilt.';
COMMENT ON COLUMN ${s}.opportunities.amount IS 'Current amount; null: none. For a lost deal, the amount it was lost with: GET /analytics/win-loss sums it per currency (amountLostByCurrency), never across currencies.';
DROP VIEW ${s}.win_loss;
DROP VIEW ${s}.win_loss_closings;
CREATE VIEW ${s}.win_loss_closings AS
  SELECT opportunity_id, opened_position, process_id, team_id, owner_id, status AS outcome, closed_at,
    to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, lost_reason, won_amount, won_currency, won_reason, next_steps,
    CASE WHEN status = 'won' THEN won_amount ELSE amount END AS closed_amount,
    CASE WHEN status = 'won' THEN won_currency ELSE currency END AS closed_currency
  FROM ${s}.opportunities WHERE status IN ('won', 'lost');
COMMENT ON VIEW ${s}.win_loss_closings IS 'One row per opportunity whose latest outcome is won or lost (a reopened one counts only once it closes again): what win/loss figures are computed from. month is YYYY-MM of closed_at in UTC; closed_amount and closed_currency are the amount won (won_amount, won_currency) or lost (amount, currency).';
CREATE VIEW ${s}.win_loss AS
  WITH grouped AS (
    SELECT 'total' AS group_by, NULL::text AS key, outcome FROM ${s}.win_loss_closings
    UNION ALL SELECT 'team', team_id, outcome FROM ${s}.win_loss_closings
    UNION ALL SELECT 'owner', owner_id, outcome FROM ${s}.win_loss_closings
    UNION ALL SELECT 'process', process_id, outcome FROM ${s}.win_loss_closings
    UNION ALL SELECT 'month', month, outcome FROM ${s}.win_loss_closings
    UNION ALL SELECT 'reason', lost_reason, outcome FROM ${s}.win_loss_closings WHERE outcome = 'lost'
  )
  SELECT group_by, key,
    count(*) FILTER (WHERE outcome = 'won') AS won,
    count(*) FILTER (WHERE outcome = 'lost') AS lost,
    (count(*) FILTER (WHERE outcome = 'won'))::double precision / count(*) AS win_rate
  FROM grouped GROUP BY group_by, key;
COMMENT ON VIEW ${s}.win_loss IS 'GET /analytics/win-loss without filters: group_by is total (one row), team, owner, process, month or reason (lost ones only); key the group (null: none); won, lost, win_rate. Amounts are in win_loss_amounts, per currency: currencies are never added together (migration 6 dropped amount_won, which added them).';
CREATE VIEW ${s}.win_loss_amounts AS
  SELECT outcome, closed_currency AS currency, count(*) AS closings, sum(closed_amount ORDER BY opened_position) AS amount
  FROM ${s}.win_loss_closings WHERE closed_amount IS NOT NULL GROUP BY outcome, closed_currency;
COMMENT ON VIEW ${s}.win_loss_amounts IS 'GET /analytics/win-loss totals without filters: amount won and amount lost per currency (null: unspecified), in the order the API adds them; closings counts those with an amount.';
`,
  },
  {
    version: 7,
    name: 'learned win probability: the labelled stage visits it learns from, and when each deal first went backward or was reopened',
    sql: (s) => `
CREATE VIEW ${s}.deal_setbacks AS
  SELECT opportunity_id, min(position) AS first_position, min(occurred_at) AS first_at
  FROM ${s}.transitions WHERE kind IN ('backward', 'reopened') GROUP BY opportunity_id;
COMMENT ON VIEW ${s}.deal_setbacks IS 'Per opportunity that ever went backward or was reopened: the first such move (log position, business time). The learned win probability estimates such deals apart.';

${WIN_PROBABILITY_VISITS_VIEW(s)}
`,
  },
  {
    version: 8,
    name: 'criteria on board cards: the exit criteria met in each open deal\'s current visit; the log is folded again to fill them',
    sql: (s) => `
ALTER TABLE ${s}.opportunities ADD COLUMN criteria_met jsonb NOT NULL DEFAULT '[]'::jsonb;
COMMENT ON COLUMN ${s}.opportunities.criteria_met IS 'Exit criterion ids met during the current stage visit, in the order met (ExitCriterionMet / ExitCriterionRevoked): empty after a stage change, a reopening and while closed; a process migration keeps those the target stage also has. GET /pipeline counts those the stage has in the deal''s own process version (checkpoint.state holds each version''s criteria).';
-- Rows and the saved catalog were folded without criteria: a log id no log has makes the projector
-- start again from position 0 (postgres.projector.ts), which fills both.
UPDATE ${s}.checkpoint SET log_id = 'refold: migration 8 (criteria)' WHERE position > 0;
`,
  },
  {
    version: 9,
    name: 'summary tables: win/loss, funnel and transitions counted per filter key and UTC day and month, kept with every batch',
    sql: (s) => `
CREATE TABLE ${s}.win_loss_summary (
  process_id text NOT NULL,
  dim text NOT NULL CHECK (dim IN ('team', 'owner')),
  dim_id text,
  period text NOT NULL CHECK (period IN ('day', 'month')),
  period_start date,
  outcome text NOT NULL CHECK (outcome IN ('won', 'lost')),
  currency text,
  reason text,
  closings bigint NOT NULL,
  with_amount bigint NOT NULL,
  whole_sum numeric NOT NULL,
  abs_sum numeric NOT NULL,
  fractional bigint NOT NULL
);
${comments(s, 'win_loss_summary', 'Closed opportunities (win_loss_closings) counted per process, current team or owner, UTC day and month of closed_at, outcome, currency and reason, kept by the projector in the same transaction as every batch. Each closing is counted four times: once per dim (team, owner) and period (day, month); pick one dim and one period. GET /analytics/win-loss reads it; a reassigned or reopened deal moves or leaves its row.', {
  process_id: 'The process.',
  dim: 'team: dim_id is the opportunity\'s current team (opportunities.team_id); owner: its current owner.',
  dim_id: 'The team or owner id; null: none.',
  period: 'day or month: the span period_start begins.',
  period_start: 'First day of the UTC day or month of closed_at; null when closed_at is unknown.',
  outcome: 'won or lost (the latest outcome).',
  currency: 'Won: won_currency; lost: currency (null: unspecified).',
  reason: 'Won: won_reason; lost: lost_reason (null: none).',
  closings: 'Opportunities counted here (rows a reassignment emptied stay, at 0).',
  with_amount: 'Of those, how many have an amount (won_amount when won, amount when lost).',
  whole_sum: 'Exact sum of those amounts that are whole numbers below 2^52 (the others are only counted in fractional).',
  abs_sum: 'Exact sum of the absolute values of the amounts in whole_sum: below 2^52 overall, adding them in any order gives the same double.',
  fractional: 'Amounts not in whole_sum (not whole, or too large): the API then adds the rows themselves, in row order.',
})}

CREATE TABLE ${s}.funnel_summary (
  process_id text NOT NULL,
  process_version text NOT NULL,
  dim text NOT NULL CHECK (dim IN ('team', 'owner')),
  dim_id text,
  period text NOT NULL CHECK (period IN ('day', 'month')),
  period_start date,
  furthest_rank integer NOT NULL,
  ever_won boolean NOT NULL,
  opportunities bigint NOT NULL
);
${comments(s, 'funnel_summary', 'Opportunities counted per process version, current team or owner, UTC day and month of opened_at, furthest rank and whether ever won, kept by the projector with every batch (each counted once per dim and period). GET /analytics/funnel reads it.', {
  process_id: 'The process.',
  process_version: 'The version the opportunities run on now.',
  dim: 'team: dim_id is the current team; owner: the current owner.',
  dim_id: 'The team or owner id; null: none.',
  period: 'day or month: the span period_start begins.',
  period_start: 'First day of the UTC day or month of opened_at; null when unknown.',
  furthest_rank: 'opportunities.furthest_rank.',
  ever_won: 'opportunities.ever_won.',
  opportunities: 'How many (0 once all have moved elsewhere).',
})}

CREATE TABLE ${s}.transition_summary (
  pair_no integer NOT NULL,
  dim text NOT NULL CHECK (dim IN ('team', 'owner')),
  dim_id text,
  period text NOT NULL CHECK (period IN ('day', 'month')),
  period_start date,
  transitions bigint NOT NULL
);
${comments(s, 'transition_summary', 'Transitions counted per (from, to) pair, the opportunity\'s current team or owner, and UTC day and month of occurred_at, kept by the projector with every batch (each counted once per dim and period): a reassigned deal moves all its transitions. GET /analytics/transitions reads it.', {
  pair_no: 'transition_pairs.pair_no.',
  dim: 'team: dim_id is the opportunity\'s current team; owner: its current owner.',
  dim_id: 'The team or owner id; null: none.',
  period: 'day or month: the span period_start begins.',
  period_start: 'First day of the UTC day or month of occurred_at; null when unknown.',
  transitions: 'How many (0 once all have moved elsewhere).',
})}
${summaryIndexesSql(s)}
CREATE INDEX opportunities_opened_at ON ${s}.opportunities (opened_at);
DROP INDEX ${s}.opportunities_open_figures;
CREATE INDEX opportunities_open_figures ON ${s}.opportunities (process_id, stage_id, currency, opened_position) INCLUDE (amount, probability, team_id, owner_id, stage_entered_at) WHERE stage_id IS NOT NULL;
ALTER TABLE ${s}.stage_visits ADD COLUMN current_team_id text, ADD COLUMN current_owner_id text;
UPDATE ${s}.stage_visits v SET current_team_id = o.team_id, current_owner_id = o.owner_id FROM ${s}.opportunities o WHERE o.opportunity_id = v.opportunity_id;
COMMENT ON COLUMN ${s}.stage_visits.current_team_id IS 'The opportunity''s team now (opportunities.team_id), kept by the projector when the deal is reassigned: GET /analytics/stage-durations?teamId= filters by it. team_id is the team during the visit.';
COMMENT ON COLUMN ${s}.stage_visits.current_owner_id IS 'The opportunity''s owner now (opportunities.owner_id), kept by the projector: GET /analytics/stage-durations?ownerId= filters by it. owner_id is the owner during the visit.';
CREATE INDEX stage_visits_completed_by_team ON ${s}.stage_visits (current_team_id, process_id, stage_id, duration_seconds) INCLUDE (left_at) WHERE left_at IS NOT NULL;
CREATE INDEX stage_visits_completed_by_owner ON ${s}.stage_visits (current_owner_id, process_id, stage_id, duration_seconds) INCLUDE (left_at) WHERE left_at IS NOT NULL;
${rebuildSummariesSql(s)}
ANALYZE ${s}.win_loss_summary, ${s}.funnel_summary, ${s}.transition_summary;
`,
  },
  {
    version: 10,
    name: 'learned win probability kept by the projector: deal_setbacks as a table, the labelled visits counted per stage, bucket, flag, outcome and day',
    sql: (s) => `
DROP VIEW ${s}.win_probability_visits;
DROP VIEW ${s}.deal_setbacks;
CREATE TABLE ${s}.deal_setbacks (
  opportunity_id text PRIMARY KEY,
  first_position bigint NOT NULL,
  first_at timestamptz
);
${comments(s, 'deal_setbacks', 'Per opportunity that ever went backward or was reopened: the first such move, kept by the projector with every batch (migration 10 made it a table; it was a view over transitions). The learned win probability estimates such deals apart.', {
  opportunity_id: 'The opportunity.',
  first_position: 'Global log position of its first backward move or reopening.',
  first_at: 'The earliest business time of its backward moves and reopenings (null: none readable). A deal counts as set back at T when first_at <= T.',
})}
${rebuildSetbacksSql(s)}
${WIN_PROBABILITY_VISITS_VIEW(s)}
CREATE TABLE ${s}.win_probability_daily (
  process_id text NOT NULL,
  stage_id text NOT NULL,
  reached integer NOT NULL,
  flagged boolean NOT NULL,
  won boolean NOT NULL,
  day integer NOT NULL,
  visits bigint NOT NULL,
  PRIMARY KEY (process_id, stage_id, reached, flagged, won, day)
);
${comments(s, 'win_probability_daily', 'The rows of win_probability_visits counted per stage, time-in-stage bucket reached, flag, outcome and UTC day of the closing, kept by the projector with every batch (a closing adds the labels of its life\'s visits, which never change after). The learned win probability as of T adds the days before T\'s day and the visits closed that day before T. Rows with an unknown time are not counted (the API does not learn from them).', {
  process_id: 'The process.',
  stage_id: 'The stage visited.',
  reached: 'The highest time-in-stage bucket (0: 0 days, 1: 7, 2: 30, 3: 90) whose lower bound the visit\'s length (left_at - entered_at) reached: it counts in every bucket up to this one.',
  flagged: 'win_probability_visits.flagged: the deal had gone backward or been reopened when it entered the visit.',
  won: 'Whether the life the visit belongs to closed won.',
  day: 'UTC day of the closing (closed_at), as days since 1970-01-01.',
  visits: 'Labelled visits counted here.',
})}
${rebuildDailyCountsSql(s)}
-- A catch-up from position 0 under way (its indexes deferred): the daily counts wait for its end too.
INSERT INTO ${s}.deferred_indexes (index_name, definition)
  SELECT '${LEARNED_NOTE}', ${literal(rebuildDailyCountsSql(s))} WHERE EXISTS (SELECT 1 FROM ${s}.deferred_indexes WHERE index_name = '${SUMMARIES_NOTE}');
CREATE INDEX outcomes_closed_at ON ${s}.outcomes (closed_at);
ALTER TABLE ${s}.opportunities ADD COLUMN set_back boolean NOT NULL DEFAULT false;
UPDATE ${s}.opportunities o SET set_back = true FROM ${s}.deal_setbacks d WHERE d.opportunity_id = o.opportunity_id;
COMMENT ON COLUMN ${s}.opportunities.set_back IS 'Whether it ever went backward or was reopened (it has a row in deal_setbacks): the learned win probability estimates such deals apart.';
CREATE INDEX opportunities_learned ON ${s}.opportunities (segment_started_position) INCLUDE (opportunity_id, process_id, stage_id, team_id, owner_id, amount, currency, segment_probability, stage_entered_at, expected_close_date, set_back) WHERE stage_id IS NOT NULL;
`,
  },
  {
    version: 11,
    name: 'board_segments_standing: the board as of an instant read from one index, by the aligned block of hours each segment lies in; the open cards of a team or owner filtered in their index',
    sql: (s) => `
CREATE FUNCTION ${s}.period_level(valid_from timestamptz, valid_to timestamptz) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ${PERIOD_LEVEL_SQL}
$$;
COMMENT ON FUNCTION ${s}.period_level(timestamptz, timestamptz) IS 'Level of a period [valid_from, valid_to): the smallest L such that its first and last UTC hour (hours since 1970) lie in one aligned block of 2^L hours; 65 while open (valid_to null), 64 when no block below holds it.';
CREATE FUNCTION ${s}.period_block(valid_from timestamptz, valid_to timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN level >= 64 THEN 0 ELSE ${hoursSql('EXTRACT(EPOCH FROM valid_from)')} >> level END FROM (SELECT ${PERIOD_LEVEL_SQL} AS level) l
$$;
COMMENT ON FUNCTION ${s}.period_block(timestamptz, timestamptz) IS 'Which block of 2^period_level hours holds the period: its first hour since 1970 shifted right by the level; 0 at levels 64 and 65.';
-- Written by the projector with valid_from and valid_to (the same values, computed in TypeScript):
-- as generated columns PostgreSQL spent ~10 µs a row written on the functions' numeric arithmetic.
ALTER TABLE ${s}.board_segments ADD COLUMN period_level integer, ADD COLUMN period_block bigint;
UPDATE ${s}.board_segments SET period_level = ${s}.period_level(valid_from, valid_to), period_block = ${s}.period_block(valid_from, valid_to);
COMMENT ON COLUMN ${s}.board_segments.period_level IS 'period_level(valid_from, valid_to), written by the projector with them: with period_block, where board_segments_standing files the segment. A segment standing at t has period_block = (hours of t since 1970) >> period_level, so the board at t reads 66 short runs of that index (one per level) instead of a range of the whole table.';
COMMENT ON COLUMN ${s}.board_segments.period_block IS 'period_block(valid_from, valid_to), written by the projector with them: see period_level.';
CREATE INDEX board_segments_standing ON ${s}.board_segments (period_level, period_block, valid_from)
  INCLUDE (valid_to, process_id, stage_id, currency, started_position, amount, probability, team_id, owner_id, stage_entered_at);
-- The board's first cards of each column, for a team or an owner: filtered in the index, so that
-- only the rows listed are read from the table (opened_position finds them).
DROP INDEX ${s}.opportunities_open_by_stage;
CREATE INDEX opportunities_open_by_stage ON ${s}.opportunities (process_id, stage_id, stage_entered_at, opportunity_id COLLATE "C") INCLUDE (team_id, owner_id, opened_position) WHERE stage_id IS NOT NULL;
`,
  },
  {
    version: 12,
    name: 'stage durations in whole milliseconds: the mean is the exact sum of ms over count * 1000; completed visits counted per team and owner and duration bucket',
    sql: (s) => `
-- The mean of stage durations is now sum(duration_ms) / (count * 1000), the sum exact, rounded
-- once (README, GET /analytics/stage-durations): it no longer depends on the order visits are added in, so no
-- query sorts visits to add them.
ALTER TABLE ${s}.stage_visits ADD COLUMN duration_ms bigint;
-- As the projector computes it: each instant in ms as a double, then their difference as a double.
UPDATE ${s}.stage_visits SET duration_ms = ((EXTRACT(EPOCH FROM left_at) * 1000)::float8 - (EXTRACT(EPOCH FROM entered_at) * 1000)::float8)::bigint WHERE left_at IS NOT NULL;
COMMENT ON COLUMN ${s}.stage_visits.duration_ms IS 'left_at - entered_at in whole milliseconds; null while open. duration_seconds = duration_ms / 1000. The API''s mean is sum(duration_ms) / (count * 1000).';
COMMENT ON COLUMN ${s}.stage_visits.duration_seconds IS 'duration_ms / 1000 (left_at - entered_at in seconds); null while open. The API''s medians and p90s are picked among these.';
ALTER TABLE ${s}.stage_duration_buckets ADD COLUMN ms_sum numeric;
UPDATE ${s}.stage_duration_buckets b SET ms_sum = v.ms_sum FROM (
  SELECT process_id, stage_id, duration_bucket, sum(duration_ms) AS ms_sum FROM ${s}.stage_visits WHERE left_at IS NOT NULL GROUP BY 1, 2, 3
) v WHERE v.process_id = b.process_id AND v.stage_id = b.stage_id AND v.duration_bucket = b.bucket;
UPDATE ${s}.stage_duration_buckets SET ms_sum = 0 WHERE ms_sum IS NULL;
ALTER TABLE ${s}.stage_duration_buckets ALTER COLUMN ms_sum SET NOT NULL;
COMMENT ON COLUMN ${s}.stage_duration_buckets.ms_sum IS 'Exact sum of these visits'' duration_ms.';
CREATE TABLE ${s}.stage_duration_dim_buckets (
  dim text NOT NULL CHECK (dim IN ('team', 'owner')),
  dim_id text NOT NULL,
  process_id text NOT NULL,
  stage_id text NOT NULL,
  bucket integer NOT NULL,
  visits bigint NOT NULL,
  ms_sum numeric NOT NULL,
  PRIMARY KEY (dim, dim_id, process_id, stage_id, bucket)
);
${comments(s, 'stage_duration_dim_buckets', 'Completed visits per current team (dim team) or current owner (dim owner) of their opportunity, stage and duration bucket, kept by the projector (a reassigned deal moves all its visits): GET /analytics/stage-durations?teamId= or ?ownerId= reads counts and sums here and picks medians and p90s within one bucket, instead of reading every visit of the team.', {
  dim: 'team or owner.',
  dim_id: 'The opportunity\'s current team (stage_visits.current_team_id) or owner (current_owner_id); visits of deals without one are not counted here.',
  process_id: 'The process.',
  stage_id: 'The stage.',
  bucket: 'duration_bucket(duration_seconds) of the visits counted.',
  visits: 'Completed visits.',
  ms_sum: 'Exact sum of their duration_ms.',
})}
CREATE TABLE ${s}.stage_duration_month_buckets (
  dim text NOT NULL CHECK (dim IN ('all', 'team', 'owner')),
  dim_id text NOT NULL,
  process_id text NOT NULL,
  stage_id text NOT NULL,
  month date NOT NULL,
  bucket integer NOT NULL,
  visits bigint NOT NULL,
  ms_sum numeric NOT NULL,
  -- Covering: a period's rows of whole months are read from the index alone (written as visits end, they lie all over the table).
  PRIMARY KEY (dim, dim_id, process_id, stage_id, month, bucket) INCLUDE (visits, ms_sum)
);
${rebuildDurationBucketsSql(s)}
${comments(s, 'stage_duration_month_buckets', 'Completed visits per UTC month they ended in (left_at), stage and duration bucket: of every visit (dim all, dim_id empty), and again per current team and current owner of their opportunity (as stage_duration_dim_buckets), kept by the projector. GET /analytics/stage-durations?from=&to= adds the rows of the whole months in the period and reads only the visits of the pieces of months at either end.', {
  dim: 'all, team or owner.',
  dim_id: 'Empty for all; else the current team or owner (deals without one are not counted under team or owner).',
  process_id: 'The process.',
  stage_id: 'The stage.',
  month: 'First day of the UTC month the visits ended in.',
  bucket: 'duration_bucket(duration_seconds) of the visits counted.',
  visits: 'Completed visits.',
  ms_sum: 'Exact sum of their duration_ms.',
})}
-- The filtered queries read a team's or owner's visits of one stage in duration order, a bucket at a time, from these alone.
DROP INDEX IF EXISTS ${s}.stage_visits_completed_by_team;
DROP INDEX IF EXISTS ${s}.stage_visits_completed_by_owner;
DELETE FROM ${s}.deferred_indexes WHERE index_name IN ('stage_visits_completed_by_team', 'stage_visits_completed_by_owner');
CREATE INDEX stage_visits_completed_by_team ON ${s}.stage_visits (current_team_id, process_id, stage_id, duration_bucket, duration_seconds) INCLUDE (left_at, duration_ms) WHERE left_at IS NOT NULL;
CREATE INDEX stage_visits_completed_by_owner ON ${s}.stage_visits (current_owner_id, process_id, stage_id, duration_bucket, duration_seconds) INCLUDE (left_at, duration_ms) WHERE left_at IS NOT NULL;
DROP INDEX IF EXISTS ${s}.stage_visits_completed;
DELETE FROM ${s}.deferred_indexes WHERE index_name = 'stage_visits_completed';
CREATE INDEX stage_visits_completed ON ${s}.stage_visits (process_id, stage_id, duration_bucket, duration_seconds) INCLUDE (left_at, duration_ms) WHERE left_at IS NOT NULL;
COMMENT ON TABLE ${s}.stage_visit_totals IS 'Per stage: completed visits and the sum of their seconds, added in the order the visits ended. Not what the API''s mean is (that is the exact sum of duration_ms / (completed * 1000), stage_duration_buckets.ms_sum).';
CREATE OR REPLACE VIEW ${s}.stage_durations AS
  WITH ranked AS (
    SELECT process_id, stage_id, duration_seconds AS d,
      row_number() OVER (PARTITION BY process_id, stage_id ORDER BY duration_seconds) AS rn,
      count(*) OVER (PARTITION BY process_id, stage_id) AS n
    FROM ${s}.stage_visits WHERE left_at IS NOT NULL
  ), completed AS (
    SELECT process_id, stage_id, max(n) AS n,
      CASE WHEN max(n) % 2 = 1 THEN max(d) FILTER (WHERE rn = (n + 1) / 2)
           ELSE (max(d) FILTER (WHERE rn = n / 2) + max(d) FILTER (WHERE rn = n / 2 + 1)) / 2 END AS median,
      max(d) FILTER (WHERE rn = (9 * n + 9) / 10) AS p90
    FROM ranked GROUP BY process_id, stage_id
  ), open AS (
    SELECT process_id, stage_id, count(*) AS open_count, min(stage_entered_at) AS oldest_entered_at
    FROM ${s}.opportunities WHERE stage_id IS NOT NULL GROUP BY process_id, stage_id
  ), sums AS (
    SELECT process_id, stage_id, sum(visits) AS completed, sum(ms_sum) AS ms_sum FROM ${s}.stage_duration_buckets GROUP BY process_id, stage_id
  )
  SELECT st.process_id, st.stage_id, st.display_order,
    COALESCE(c.n, 0) AS completed_count, t.ms_sum::float8 / (NULLIF(t.completed, 0) * 1000)::float8 AS mean_seconds, c.median AS median_seconds, c.p90 AS p90_seconds,
    COALESCE(o.open_count, 0) AS open_count, o.oldest_entered_at AS oldest_open_entered_at,
    GREATEST(0, EXTRACT(EPOCH FROM now() - o.oldest_entered_at))::double precision AS oldest_open_age_seconds
  FROM ${s}.stages st
  LEFT JOIN completed c ON c.process_id = st.process_id AND c.stage_id = st.stage_id
  LEFT JOIN sums t ON t.process_id = st.process_id AND t.stage_id = st.stage_id
  LEFT JOIN open o ON o.process_id = st.process_id AND o.stage_id = st.stage_id;
COMMENT ON VIEW ${s}.stage_durations IS 'GET /analytics/stage-durations without filters: per process and stage, completed visits (count, mean = exact sum of duration_ms / (count * 1000), median = middle value or mean of the two middle ones, p90 = nearest rank sorted[ceil(0.9 n) - 1], in seconds) and open visits (count, oldest entry and its age now).';
`,
  },
  {
    version: 13,
    name: 'the closed cards of GET /pipeline?closed= walked by section: closings by (process, outcome, closed_at), and the stage of each closing read from the primary key of outcomes; board_segments_standing_ends: the board as of t reads only segments standing at t',
    sql: (s) => `
-- The latest closings of one (process, outcome) are one run of this index, read backwards from
-- the window's end; it holds the team and owner, so a filtered walk stays in it.
CREATE INDEX opportunities_closed_by_section ON ${s}.opportunities (process_id, status, closed_at) INCLUDE (team_id, owner_id, opened_position) WHERE stage_id IS NULL AND status <> 'open';
-- Each closed card says in which stage it closed: its latest closing's stage_id, found by
-- closing_position. Held in the primary key's index, it is read without the table's page.
CREATE UNIQUE INDEX outcomes_closing_stage ON ${s}.outcomes (closing_position) INCLUDE (stage_id);
ALTER TABLE ${s}.outcomes DROP CONSTRAINT outcomes_pkey, ADD CONSTRAINT outcomes_pkey PRIMARY KEY USING INDEX outcomes_closing_stage;
-- The board as of t: at each level from 1 to 63 a segment straddles the middle of its block, so in
-- the later half of t's block the segments standing are those ending after t (standingRuns in
-- read-side.standing.ts): walked by valid_to here, by valid_from in board_segments_standing.
CREATE INDEX board_segments_standing_ends ON ${s}.board_segments (period_level, period_block, valid_to)
  INCLUDE (process_id, stage_id, currency, started_position, amount, probability, team_id, owner_id, stage_entered_at) WHERE period_level BETWEEN 1 AND 63;
`,
  },
  {
    version: 14,
    name: 'board_segments_standing also covers opportunity_id and expected_close_date: the learned win probability and forecast as of an instant read the standing segments from the index alone',
    // A catch-up that deferred the index (read-side.indexes.ts) makes it from its note: the note is
    // given the new definition instead.
    sql: (s) => `
${redefinedIndex(s, 'board_segments_standing', STANDING_INDEX(s))}
`,
  },
  {
    version: 15,
    name: 'board_segments.set_back: whether the deal had been set back when the segment began, read by the learned win probability as of an instant instead of a join to deal_setbacks; checkpoint.times_unordered: the log breaks the time order that makes it exact',
    // set_back as the writer writes it: a setback at or before the segment's first event. The
    // times are in order when, per opportunity, the events that begin a segment (board_segments)
    // or end one (transitions: stage changes, closings, reopenings; or a segment begun) have times,
    // never earlier than the one before them in the log (the fold's keepTimeOrder, read-side.fold.ts).
    sql: (s) => `
ALTER TABLE ${s}.board_segments ADD COLUMN set_back boolean NOT NULL DEFAULT false;
UPDATE ${s}.board_segments b SET set_back = true FROM ${s}.deal_setbacks d WHERE d.opportunity_id = b.opportunity_id AND d.first_position <= b.started_position;
COMMENT ON COLUMN ${s}.board_segments.set_back IS 'Whether the opportunity had gone backward or been reopened by the event that began this segment, that event included (it had a row in deal_setbacks with first_position <= started_position). While checkpoint.times_unordered is false this is also whether its first setback (deal_setbacks.first_at) is at or before any instant the segment stands at: the learned win probability as of an instant reads it for the deals it estimates apart.';
ALTER TABLE ${s}.checkpoint ADD COLUMN times_unordered boolean NOT NULL DEFAULT false;
UPDATE ${s}.checkpoint SET times_unordered = ${TIMES_UNORDERED(s)};
COMMENT ON COLUMN ${s}.checkpoint.times_unordered IS 'True once an event that begins, ends or closes a board segment of an opportunity has no time or a time before the previous such event of that opportunity (a log the API never writes: it refuses an occurredAt before the stream''s last event). board_segments.set_back then no longer says whether a deal was set back at every instant its segment stands, and the learned win probability as of an instant joins deal_setbacks instead. False again after a rebuild.';
${redefinedIndex(s, 'board_segments_standing', STANDING_INDEX_15(s))}
`,
  },
  {
    version: 16,
    name: 'board_segments_standing_ends also covers opportunity_id, expected_close_date and set_back: the learned win probability and forecast as of an instant read only the segments standing at t, as the board as of t does',
    // As migration 14: a deferred index is made later from its note, given the new definition.
    sql: (s) => `
${redefinedIndex(s, 'board_segments_standing_ends', STANDING_ENDS_INDEX_16(s))}
`,
  },
  {
    version: 17,
    name: 'win_probability_labels: the labelled visits kept one by one with their cell and closing time, so that the learned win probability as of an instant reads the visits closed on its day before it from one index instead of labelling that day\'s closings',
    // Filled now, unless a catch-up defers the learned tables: its note then makes them (labels
    // included) at its end, given the new definition.
    sql: (s) => `
CREATE TABLE ${s}.win_probability_labels (
  process_id text NOT NULL,
  stage_id text NOT NULL,
  reached integer NOT NULL,
  flagged boolean NOT NULL,
  won boolean NOT NULL,
  day integer NOT NULL,
  closed_ms double precision NOT NULL
);
${comments(s, 'win_probability_labels', 'The rows of win_probability_visits with known times, one per labelled visit, kept by the projector with every batch beside win_probability_daily (which counts these rows per cell and day). A label never changes once its life closed. The learned win probability as of T counts here the visits closed on T\'s day before T.', {
  process_id: 'The process.',
  stage_id: 'The stage visited.',
  reached: 'As win_probability_daily.reached: the highest time-in-stage bucket the visit\'s length reached.',
  flagged: 'win_probability_visits.flagged: the deal had gone backward or been reopened when it entered the visit.',
  won: 'Whether the life the visit belongs to closed won.',
  day: 'UTC day of the closing, as days since 1970-01-01.',
  closed_ms: 'When the life closed (the closing\'s closed_at), in ms since 1970: the visit is learned from at any instant after it.',
})}
CREATE INDEX win_probability_labels_closed ON ${s}.win_probability_labels (day, closed_ms) INCLUDE (process_id, stage_id, reached, flagged, won);
UPDATE ${s}.deferred_indexes SET definition = ${literal(rebuildLearnedSql(s))} WHERE index_name = '${LEARNED_NOTE}';
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM ${s}.deferred_indexes WHERE index_name = '${LEARNED_NOTE}') THEN
    EXECUTE ${literal(`SET LOCAL work_mem = '256MB'; INSERT INTO ${s}.win_probability_labels (process_id, stage_id, reached, flagged, won, day, closed_ms) ${allLabelRowsSql(s)}; ANALYZE ${s}.win_probability_labels`)};
  END IF;
END $$;
`,
  },
  {
    version: 18,
    name: 'duration_bucket is no longer declared STRICT (it gives null for null all the same), so that PostgreSQL inlines it: a STRICT SQL function whose body holds a CASE is called row by row',
    // Called, it cost ~3 µs for each visit written to stage_visits (its generated column) and again
    // for each counted in stage_duration_buckets: ~2 s of a 1M-event first fold's PostgreSQL time.
    sql: (s) => `
ALTER FUNCTION ${s}.duration_bucket(double precision) CALLED ON NULL INPUT;
`,
  },
  {
    version: 19,
    name: 'checkpoint.anchor_position, anchor_event_id: the last event folded in, read back at start, so that a store restored from an older backup and written on past the checkpoint is noticed',
    sql: (s) => `
ALTER TABLE ${s}.checkpoint ADD COLUMN anchor_position bigint NOT NULL DEFAULT 0, ADD COLUMN anchor_event_id text NOT NULL DEFAULT '';
COMMENT ON COLUMN ${s}.checkpoint.anchor_position IS 'Log position of the last event folded into these tables (at or before position), 0 before any (or before this column was). At start the projector reads the event there: another event, or none, means the store was replaced or restored from an older backup, and the tables are rebuilt.';
COMMENT ON COLUMN ${s}.checkpoint.anchor_event_id IS 'Id of the event at anchor_position, '''' when there is none.';
`,
  },
  {
    version: 20,
    name: 'the columns of the views say what they hold, as the tables\' do (\\d+ on a view)',
    sql: (s) => `
COMMENT ON COLUMN ${s}.funnel.process_id IS 'Process.';
COMMENT ON COLUMN ${s}.funnel.stage_id IS 'Stage: the latest version''s chain first, then stages only older versions had.';
COMMENT ON COLUMN ${s}.funnel.display_order IS 'Order the API lists the stage in (stages.display_order).';
COMMENT ON COLUMN ${s}.funnel.reached IS 'Opportunities that entered the stage or a later one of their own process version, or were ever won (GET /analytics/funnel reached).';
COMMENT ON COLUMN ${s}.funnel.conversion_to_next IS 'reached of the next stage of the chain / reached (0-1); the last stage: won / reached; null for a stage only older versions had or when reached is 0.';
COMMENT ON COLUMN ${s}.funnel.won IS 'Opportunities of the process ever won, whatever their outcome now (the same on every row of the process).';
COMMENT ON COLUMN ${s}.stage_durations.process_id IS 'Process.';
COMMENT ON COLUMN ${s}.stage_durations.stage_id IS 'Stage.';
COMMENT ON COLUMN ${s}.stage_durations.display_order IS 'Order the API lists the stage in (stages.display_order).';
COMMENT ON COLUMN ${s}.stage_durations.completed_count IS 'Completed visits of the stage (stage_visits with left_at).';
COMMENT ON COLUMN ${s}.stage_durations.mean_seconds IS 'Mean length of the completed visits in seconds: exact sum of duration_ms / (completed_count * 1000); null when none.';
COMMENT ON COLUMN ${s}.stage_durations.median_seconds IS 'Median length in seconds: the middle visit, or the mean of the two middle ones; null when none.';
COMMENT ON COLUMN ${s}.stage_durations.p90_seconds IS '90th percentile in seconds, nearest rank: sorted[ceil(0.9 n) - 1]; null when none.';
COMMENT ON COLUMN ${s}.stage_durations.open_count IS 'Open opportunities in the stage now.';
COMMENT ON COLUMN ${s}.stage_durations.oldest_open_entered_at IS 'When the longest open visit entered the stage (business time); null when none is open.';
COMMENT ON COLUMN ${s}.stage_durations.oldest_open_age_seconds IS 'Age of that visit in seconds against the database''s now() (the API ages against its own clock).';
COMMENT ON COLUMN ${s}.win_loss.group_by IS 'total (one row), team, owner, process, month or reason (lost ones only): pick one, or every closing is counted several times.';
COMMENT ON COLUMN ${s}.win_loss.key IS 'The group: team, owner, process id, YYYY-MM (UTC) of the closing or lost reason; null for total and for closings without one.';
COMMENT ON COLUMN ${s}.win_loss.won IS 'Opportunities of the group whose latest outcome is won.';
COMMENT ON COLUMN ${s}.win_loss.lost IS 'Opportunities of the group whose latest outcome is lost.';
COMMENT ON COLUMN ${s}.win_loss.win_rate IS 'won / (won + lost), 0-1 (the API''s winRate).';
COMMENT ON COLUMN ${s}.win_loss_amounts.outcome IS 'won or lost.';
COMMENT ON COLUMN ${s}.win_loss_amounts.currency IS 'Currency; null: amounts without one (the API''s unspecified).';
COMMENT ON COLUMN ${s}.win_loss_amounts.closings IS 'Closings of this outcome with an amount in this currency.';
COMMENT ON COLUMN ${s}.win_loss_amounts.amount IS 'Their amounts added in the order the API adds them (amountWonByCurrency / amountLostByCurrency), in this currency only.';
COMMENT ON COLUMN ${s}.win_loss_closings.opportunity_id IS 'Opportunity.';
COMMENT ON COLUMN ${s}.win_loss_closings.opened_position IS 'Log position of its opening: the order the API adds amounts in.';
COMMENT ON COLUMN ${s}.win_loss_closings.process_id IS 'Process.';
COMMENT ON COLUMN ${s}.win_loss_closings.team_id IS 'Team now (details cannot change while closed: the team at the latest closing); null: none.';
COMMENT ON COLUMN ${s}.win_loss_closings.owner_id IS 'Owner now (the owner at the latest closing); null: none.';
COMMENT ON COLUMN ${s}.win_loss_closings.outcome IS 'Latest outcome: won or lost.';
COMMENT ON COLUMN ${s}.win_loss_closings.closed_at IS 'Business time of the latest closing: what the API''s from/to bound.';
COMMENT ON COLUMN ${s}.win_loss_closings.month IS 'YYYY-MM of closed_at in UTC.';
COMMENT ON COLUMN ${s}.win_loss_closings.lost_reason IS 'Lost reason while lost; null otherwise.';
COMMENT ON COLUMN ${s}.win_loss_closings.won_amount IS 'What the latest win counted (the win''s amount, or the deal''s then); null while lost or when none.';
COMMENT ON COLUMN ${s}.win_loss_closings.won_currency IS 'Currency of won_amount; null: none.';
COMMENT ON COLUMN ${s}.win_loss_closings.won_reason IS 'Won reason while won (processes that list wonReasons); null otherwise.';
COMMENT ON COLUMN ${s}.win_loss_closings.next_steps IS 'Next steps written on the latest closing; null when none.';
COMMENT ON COLUMN ${s}.win_loss_closings.closed_amount IS 'The amount won (won_amount) or the amount the deal was lost with (amount); null when none.';
COMMENT ON COLUMN ${s}.win_loss_closings.closed_currency IS 'Currency of closed_amount; null: none.';
COMMENT ON COLUMN ${s}.win_probability_visits.opportunity_id IS 'Opportunity.';
COMMENT ON COLUMN ${s}.win_probability_visits.visit_no IS 'The visit (stage_visits.visit_no).';
COMMENT ON COLUMN ${s}.win_probability_visits.process_id IS 'Process.';
COMMENT ON COLUMN ${s}.win_probability_visits.stage_id IS 'Stage visited.';
COMMENT ON COLUMN ${s}.win_probability_visits.entered_at IS 'When the visit began (business time).';
COMMENT ON COLUMN ${s}.win_probability_visits.left_at IS 'When it ended (business time).';
COMMENT ON COLUMN ${s}.win_probability_visits.closed_at IS 'Business time of the first win or loss at or after left_at: the closing that labels the visit.';
COMMENT ON COLUMN ${s}.win_probability_visits.won IS 'Whether that closing was a win.';
COMMENT ON COLUMN ${s}.win_probability_visits.flagged IS 'The deal had gone backward or been reopened when it entered the visit.';
COMMENT ON COLUMN ${s}.win_probability_visits.configured_probability IS 'The stage''s probability (0-100) in the version the visit ended on.';
`,
  },
  {
    version: 21,
    name: 'amounts are added exactly, in whole minor units, as the API adds them',
    // The threshold is FAST_UNITS_BELOW of exact-amounts.ts (MAX_SAFE_INTEGER / 10^4 / 8), written out: a migration never changes.
    // The body names no schema: a rebuild's schema is renamed when it is swapped in, and a SQL
    // function's body is kept as text (the view, parsed once, follows the rename).
    sql: (s) => `
CREATE FUNCTION ${s}.amount_units(amount double precision) RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN abs(amount) < 112589990684.26239::double precision THEN floor(amount * 10000 + 0.5)::bigint::numeric ELSE trunc(amount::text::numeric * 10000) END
$$;
COMMENT ON FUNCTION ${s}.amount_units(double precision) IS 'An amount (at most 4 decimals) as whole minor units (10^-4), exactly: sum(amount_units(amount)) * 0.0001 is the exact decimal sum the API answers (0.1 + 0.2 is 0.3), where sum(amount) adds binary fractions. Null for null. From about 1.1e11 on it reads the digits of the amount''s text, so it needs extra_float_digits >= 1 (the default; 0 or less prints 15 digits).';
CREATE OR REPLACE VIEW ${s}.win_loss_amounts AS
  SELECT outcome, closed_currency AS currency, count(*) AS closings, (sum(${s}.amount_units(closed_amount)) * 0.0001)::double precision AS amount
  FROM ${s}.win_loss_closings WHERE closed_amount IS NOT NULL GROUP BY outcome, closed_currency;
COMMENT ON VIEW ${s}.win_loss_amounts IS 'GET /analytics/win-loss totals without filters: amount won and amount lost per currency (null: unspecified), added exactly as the API adds them; closings counts those with an amount.';
COMMENT ON COLUMN ${s}.win_loss_amounts.amount IS 'Their amounts added exactly (sum(amount_units(closed_amount)) * 0.0001, as the double nearest to it: amountWonByCurrency / amountLostByCurrency), in this currency only.';
COMMENT ON COLUMN ${s}.win_loss_closings.opened_position IS 'Log position of its opening (the row order of the opportunities).';
`,
  },
  {
    version: 22,
    name: 'funnel: each step of the chain among the opportunities whose version has both stages, so that no conversion is above 1',
    // As funnelFromHistograms (funnel.projection.ts): a deal whose version lacks the next stage (one a
    // later version added) could not take the step; reached(next) / reached(stage) counted it above 1.
    sql: (s) => `
CREATE OR REPLACE VIEW ${s}.funnel AS
  WITH reached AS (
    SELECT vs.process_id, vs.stage_id, count(*) AS reached
    FROM ${s}.opportunities o
    JOIN ${s}.version_stages vs ON vs.process_id = o.process_id AND vs.version = o.process_version AND (o.ever_won OR o.furthest_rank >= vs.rank)
    GROUP BY vs.process_id, vs.stage_id
  ), won AS (
    SELECT process_id, count(*) FILTER (WHERE ever_won) AS won FROM ${s}.opportunities GROUP BY process_id
  ), chain AS (
    SELECT st.process_id, st.stage_id, nxt.stage_id AS next_stage_id
    FROM ${s}.stages st
    LEFT JOIN ${s}.stages nxt ON nxt.process_id = st.process_id AND nxt.in_chain AND nxt.display_order = st.display_order + 1
    WHERE st.in_chain
  ), steps AS (
    SELECT c.process_id, c.stage_id,
      count(*) FILTER (WHERE o.ever_won OR o.furthest_rank >= vs.rank) AS base,
      count(*) FILTER (WHERE o.ever_won OR (c.next_stage_id IS NOT NULL AND o.furthest_rank >= vn.rank)) AS converted
    FROM chain c
    JOIN ${s}.version_stages vs ON vs.process_id = c.process_id AND vs.stage_id = c.stage_id
    LEFT JOIN ${s}.version_stages vn ON vn.process_id = vs.process_id AND vn.version = vs.version AND vn.stage_id = c.next_stage_id
    JOIN ${s}.opportunities o ON o.process_id = vs.process_id AND o.process_version = vs.version
    WHERE c.next_stage_id IS NULL OR vn.rank > vs.rank
    GROUP BY c.process_id, c.stage_id
  )
  SELECT st.process_id, st.stage_id, st.display_order, COALESCE(r.reached, 0) AS reached,
    CASE WHEN NOT st.in_chain OR COALESCE(sp.base, 0) = 0 THEN NULL ELSE sp.converted::double precision / sp.base END AS conversion_to_next,
    COALESCE(w.won, 0) AS won
  FROM ${s}.stages st
  LEFT JOIN reached r ON r.process_id = st.process_id AND r.stage_id = st.stage_id
  LEFT JOIN won w ON w.process_id = st.process_id
  LEFT JOIN steps sp ON sp.process_id = st.process_id AND sp.stage_id = st.stage_id;
COMMENT ON COLUMN ${s}.funnel.conversion_to_next IS 'Of the opportunities whose version has this stage and the next stage of the chain after it (the last stage: this stage), the share of those that reached it which reached the next one (the last stage: were won); 0-1, as GET /analytics/funnel; null for a stage only older versions had or when none of them reached it.';
`,
  },
  {
    version: 23,
    name: 'funnel: a migration carries over every stage entered that the new version has, by its id (opportunities.entered_ranks); the log is folded again to correct furthest_rank',
    // As funnel.projection.ts (funnel-reach.ts): the stage mapping moves the open visit, and a past visit
    // keeps its stage id. furthest_rank carried the furthest stage alone, also through the mapping: a deal
    // that went to a dropped stage and back counted as having reached the stage it was mapped to (never
    // entered), and not a kept stage behind the dropped one (entered).
    sql: (s) => `
ALTER TABLE ${s}.opportunities ADD COLUMN IF NOT EXISTS entered_ranks integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN ${s}.opportunities.entered_ranks IS 'The ranks (version_stages.rank, in its current version) of the stages it entered, as bits (bit r: rank r, for ranks below 31): what a process migration carries over by stage id. furthest_rank is the highest.';
-- A log id no log has makes the projector start again from position 0 (postgres.projector.ts).
UPDATE ${s}.checkpoint SET log_id = 'refold: migration 23 (funnel furthest rank)' WHERE position > 0;
`,
  },
  {
    version: 24,
    name: 'stage visits keep the stage and version they were entered in: calibration scores the estimate made at the entry, not the stage a later migration mapped the visit to; the log is folded again',
    // As win-probability.projection.ts (layout 2): a migration relabels the open visit's stage_id and
    // process_version (the model learns the visit in the stage it ended in), but the estimate made
    // when the deal entered it was for the stage and version it entered: calibration scores that one.
    // The rows written before are filled with their labels until the fold written again from position 0
    // gives each visit its entry.
    sql: (s) => `
ALTER TABLE ${s}.stage_visits ADD COLUMN IF NOT EXISTS entered_stage_id text, ADD COLUMN IF NOT EXISTS entered_process_version text;
UPDATE ${s}.stage_visits SET entered_stage_id = stage_id, entered_process_version = process_version WHERE entered_stage_id IS NULL;
ALTER TABLE ${s}.stage_visits ALTER COLUMN entered_stage_id SET NOT NULL, ALTER COLUMN entered_process_version SET NOT NULL;
COMMENT ON TABLE ${s}.stage_visits IS 'One row per visit of an opportunity to a stage: from the event that entered it (opened, moved, reopened) to the one that left it (moved, won, lost). A move back makes a new visit. A process migration relabels the open visit (same entry time: stage_id and process_version); completed visits keep their stage, and every visit keeps the stage and version it was entered in (entered_stage_id, entered_process_version).';
COMMENT ON COLUMN ${s}.stage_visits.entered_stage_id IS 'The stage the visit was entered in: stage_id unless a process migration mapped the open visit to another stage since. GET /analytics/win-probability/calibration scores the estimate made for this stage.';
COMMENT ON COLUMN ${s}.stage_visits.entered_process_version IS 'The version the opportunity ran on when it entered the visit (process_version is the one at its end, or now while open).';
CREATE OR REPLACE VIEW ${s}.win_probability_visits AS
  SELECT v.opportunity_id, v.visit_no, v.process_id, v.stage_id, v.entered_at, v.left_at,
    (d.first_position IS NOT NULL AND v.visit_no > (SELECT count(*) FROM ${s}.stage_visits p WHERE p.opportunity_id = v.opportunity_id AND p.ended_position <= d.first_position)) AS flagged,
    COALESCE(vs.probability, 0) AS configured_probability,
    c.closed_at, c.outcome = 'won' AS won,
    v.entered_stage_id, COALESCE(ve.probability, 0) AS entered_configured_probability
  FROM ${s}.stage_visits v
  JOIN LATERAL (
    SELECT o.closed_at, o.outcome FROM ${s}.outcomes o
    WHERE o.opportunity_id = v.opportunity_id AND o.closing_position >= v.ended_position ORDER BY o.closing_position LIMIT 1
  ) c ON true
  LEFT JOIN ${s}.deal_setbacks d ON d.opportunity_id = v.opportunity_id
  LEFT JOIN ${s}.version_stages vs ON vs.process_id = v.process_id AND vs.version = v.process_version AND vs.stage_id = v.stage_id
  LEFT JOIN ${s}.version_stages ve ON ve.process_id = v.process_id AND ve.version = v.entered_process_version AND ve.stage_id = v.entered_stage_id
  WHERE v.ended_position IS NOT NULL;
COMMENT ON VIEW ${s}.win_probability_visits IS 'What the learned win probability learns from (README, "Learned win probability"): every completed stage visit whose life has closed, labelled with that closing (the first win or loss at or after the visit ended), in the stage it ended in (stage_id: a process migration relabels the open visit). flagged: the deal had gone backward or been reopened when it entered the visit. configured_probability: the stage''s probability (0-100) in the version the visit ended on. entered_stage_id and entered_configured_probability: the stage it was entered in and its probability in the version of the entry, what calibration scores. An estimate as of T counts only rows with closed_at < T; each counts in every time-in-stage bucket (0, 7, 30, 90 days) that left_at - entered_at reached.';
COMMENT ON COLUMN ${s}.win_probability_visits.stage_id IS 'Stage visited, the one it ended in (a process migration relabels the open visit): the stage it is learned in.';
COMMENT ON COLUMN ${s}.win_probability_visits.entered_stage_id IS 'The stage it was entered in (stage_visits.entered_stage_id): the stage of the estimate GET /analytics/win-probability/calibration scores.';
COMMENT ON COLUMN ${s}.win_probability_visits.entered_configured_probability IS 'The entered stage''s probability (0-100) in the version the deal ran on when it entered the visit: the configured estimate calibration scores.';
-- A log id no log has makes the projector start again from position 0 (postgres.projector.ts).
UPDATE ${s}.checkpoint SET log_id = 'refold: migration 24 (stage visits keep their entry)' WHERE position > 0;
`,
  },
  {
    version: 25,
    name: 'stage visits take rows without the stage and version they were entered in, as an older projector writes them: read as entered where they are',
    // A projector of an older version may still write on this schema: a rollback, or during a rolling
    // deploy an old instance taking the projector's lock back. It writes stage visits without the
    // columns of migration 24; NOT NULL refused every batch of it (23502, a value PostgreSQL refused:
    // a stop recorded for good). Like the columns added before (current_team_id, duration_ms), they
    // take null, read as the visit's own stage and version (what calibration scored before 24).
    sql: (s) => `
ALTER TABLE ${s}.stage_visits ALTER COLUMN entered_stage_id DROP NOT NULL, ALTER COLUMN entered_process_version DROP NOT NULL;
COMMENT ON COLUMN ${s}.stage_visits.entered_stage_id IS 'The stage the visit was entered in: stage_id unless a process migration mapped the open visit to another stage since. GET /analytics/win-probability/calibration scores the estimate made for this stage. Null in a row an older projector wrote: read as stage_id.';
COMMENT ON COLUMN ${s}.stage_visits.entered_process_version IS 'The version the opportunity ran on when it entered the visit (process_version is the one at its end, or now while open). Null in a row an older projector wrote: read as process_version.';
CREATE OR REPLACE VIEW ${s}.win_probability_visits AS
  SELECT v.opportunity_id, v.visit_no, v.process_id, v.stage_id, v.entered_at, v.left_at,
    (d.first_position IS NOT NULL AND v.visit_no > (SELECT count(*) FROM ${s}.stage_visits p WHERE p.opportunity_id = v.opportunity_id AND p.ended_position <= d.first_position)) AS flagged,
    COALESCE(vs.probability, 0) AS configured_probability,
    c.closed_at, c.outcome = 'won' AS won,
    COALESCE(v.entered_stage_id, v.stage_id) AS entered_stage_id, COALESCE(ve.probability, 0) AS entered_configured_probability
  FROM ${s}.stage_visits v
  JOIN LATERAL (
    SELECT o.closed_at, o.outcome FROM ${s}.outcomes o
    WHERE o.opportunity_id = v.opportunity_id AND o.closing_position >= v.ended_position ORDER BY o.closing_position LIMIT 1
  ) c ON true
  LEFT JOIN ${s}.deal_setbacks d ON d.opportunity_id = v.opportunity_id
  LEFT JOIN ${s}.version_stages vs ON vs.process_id = v.process_id AND vs.version = v.process_version AND vs.stage_id = v.stage_id
  LEFT JOIN ${s}.version_stages ve ON ve.process_id = v.process_id AND ve.version = COALESCE(v.entered_process_version, v.process_version) AND ve.stage_id = COALESCE(v.entered_stage_id, v.stage_id)
  WHERE v.ended_position IS NOT NULL;
`,
  },
  {
    version: 26,
    name: 'opportunities.search_text: the search reads the deals that may match from PostgreSQL instead of every deal in JavaScript',
    // GET /opportunities?q= read every deal of its filters' title, id and owner into the API and folded
    // each there (searchableText): ~130 ms at 100,000 deals for a search that finds nothing, growing
    // with the deals. The projector now keeps the fold (dealSearchText) and which fold it is
    // (search_fold: the rule's and Unicode's versions), and PostgreSQL keeps the rows that hold the
    // needle; a row of another fold, or none, is read and matched in JavaScript as before. Rows
    // written before are folded here where only the case is to fold (printable ASCII words one space
    // apart, as searchableText's first test; translate lowers ASCII alone, whatever the database's
    // locale: the same under every version); the others stay null until the deal changes or a
    // rebuild. An older projector (a rollback) updates a title or owner without these columns: the
    // trigger empties the fold then, so a stale one never hides a deal. (A rename that folds alike,
    // "Acme" to "ACME", empties it too: that row is read in JavaScript until the deal changes.)
    // The function and trigger are made again if there (an older projector's rebuild carries the
    // function over to its new schema as an object it does not know: read-side.foreign-objects.ts).
    sql: (s) => `
ALTER TABLE ${s}.opportunities ADD COLUMN IF NOT EXISTS search_text text, ADD COLUMN IF NOT EXISTS search_fold text;
UPDATE ${s}.opportunities SET search_fold = ${literal(SEARCH_FOLD)},
    search_text = ${asciiLower('title')} || E'\\n' || ${asciiLower('opportunity_id')} || E'\\n' || COALESCE(${asciiLower('owner_id')}, '')
  WHERE ${plainAscii('title')} AND ${plainAscii('opportunity_id')} AND (owner_id IS NULL OR ${plainAscii('owner_id')});
COMMENT ON COLUMN ${s}.opportunities.search_text IS 'What GET /opportunities?q= searches: title, opportunity_id and owner_id, each folded as the search folds text (case, accents, widths, spaces), one per line. Null where it is not known (rows from before migration 26 with text other than plain ASCII, or a row an older projector changed): the API then reads the row itself.';
COMMENT ON COLUMN ${s}.opportunities.search_fold IS 'Which fold search_text is: the search rule''s version / the Unicode version of the runtime that folded it. The API trusts search_text only under its own; it reads any other row itself.';
CREATE OR REPLACE FUNCTION ${s}.search_text_outdated() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.search_text := NULL; RETURN NEW; END $$;
COMMENT ON FUNCTION ${s}.search_text_outdated() IS 'Empties opportunities.search_text when a writer changes the title or owner without it (a projector older than migration 26).';
DROP TRIGGER IF EXISTS search_text_outdated ON ${s}.opportunities;
CREATE TRIGGER search_text_outdated BEFORE UPDATE ON ${s}.opportunities FOR EACH ROW
  WHEN (NEW.search_text IS NOT DISTINCT FROM OLD.search_text AND (NEW.title IS DISTINCT FROM OLD.title OR NEW.owner_id IS DISTINCT FROM OLD.owner_id))
  EXECUTE FUNCTION ${s}.search_text_outdated();
`,
  },
];

/** Text whose fold (searchableText) is its ASCII lower case: printable ASCII words one space apart (its PLAIN test). */
const plainAscii = (column: string) => `${column} ~ '^([!-~]+( [!-~]+)*)?$'`;
/** ASCII letters lowered, and nothing else: lower() follows the database's locale (a Turkish one lowers I to ı). */
const asciiLower = (column: string) => `translate(${column}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`;

/** Creates the schema if needed and applies the migrations it lacks, one transaction each, under a lock. */
export async function migrateReadSide(client: PoolClient, schema: string): Promise<number> {
  await client.query(`SELECT pg_advisory_lock(hashtext($1))`, [`stagecraft-migrate:${schema}`]);
  try {
    await assertReadSideSchema(client, schema);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    await client.query(`COMMENT ON TABLE ${schema}.schema_migrations IS 'The migrations of this schema applied so far (libs/projections/src/postgres/read-side.migrations.ts).';
      COMMENT ON COLUMN ${schema}.schema_migrations.version IS 'Number of the migration, applied in order.';
      COMMENT ON COLUMN ${schema}.schema_migrations.name IS 'What the migration made.';
      COMMENT ON COLUMN ${schema}.schema_migrations.applied_at IS 'When it was applied.';`);
    const applied = new Set((await client.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations`)).rows.map((row) => row.version));
    let count = 0;
    for (const migration of READ_SIDE_MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql(schema));
        await client.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      count += 1;
    }
    return count;
  } catch (error) {
    // A right the role lacks (CREATE on the database, the schema made by another role): said with the GRANT to run.
    throw await explainNotPermitted(client, schema, error);
  } finally {
    await client.query(`SELECT pg_advisory_unlock(hashtext($1))`, [`stagecraft-migrate:${schema}`]);
  }
}

import { ApiHideProperty, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CARDS_PER_COLUMN_DEFAULT, CARDS_PER_COLUMN_MAX, CLOSED_DEFAULT_LIMIT, CLOSED_MAX_LIMIT, ROTTING_DEFAULT_LIMIT, ROTTING_MAX_LIMIT, SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT, SEARCH_TEXT_MAX_LENGTH, WATERFALL_CHANGES_MAX } from './pipeline.policy';
import { IsIn, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { AsOfParameter } from '../http/as-of.refusal';
import { IsInstant } from '../http/instant.validator';
import { ParametersElsewhere } from '../http/parameters-elsewhere.decorator';
import { WholeNumberParameter } from '../http/whole-number.validator';
import { CLIENT_ID, CLIENT_ID_MAX_LENGTH, CLIENT_ID_RULE, clientIdRule, NAME_MAX_LENGTH } from '@stagecraft/opportunity';

// The filters name ids by the rule of the ids they name (a command's processId, teamId and
// ownerId: libs/opportunity/src/client-id.ts): " direct" or "ana b" is a typo to report (400
// naming the field), not a team a limited caller may not see (403) nor a filter that matches nothing.
const ID_MESSAGE = `$property must be ${CLIENT_ID_RULE}`;

/** What every figure route takes: the filters, read-your-writes and the format. */
export class AnalyticsScopeDto {
  @ApiPropertyOptional({ example: 'standard' })
  @IsOptional()
  @IsString()
  @Length(1, NAME_MAX_LENGTH, { message: `processId must be ${clientIdRule(NAME_MAX_LENGTH)}` })
  @Matches(CLIENT_ID, { message: `processId must be ${clientIdRule(NAME_MAX_LENGTH)}` })
  processId?: string;

  @ApiPropertyOptional({ example: 'direct' })
  @IsOptional()
  @IsString()
  @Length(1, CLIENT_ID_MAX_LENGTH, { message: ID_MESSAGE })
  @Matches(CLIENT_ID, { message: ID_MESSAGE })
  teamId?: string;

  @ApiPropertyOptional({ example: 'ana' })
  @IsOptional()
  @IsString()
  @Length(1, CLIENT_ID_MAX_LENGTH, { message: ID_MESSAGE })
  @Matches(CLIENT_ID, { message: ID_MESSAGE })
  ownerId?: string;

  @IsOptional()
  @WholeNumberParameter({ min: 0, description: 'Wait (up to 2 s) until the read models include this log position, e.g. the position a command answered; 503 if they do not in time.' })
  minPosition?: number;

  @ApiPropertyOptional({ enum: ['json', 'csv'], description: 'csv is also chosen by Accept: text/csv' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

/** The filters of a route whose figures cover a period of business time. */
// Its subclasses that take asOf (the forecast's) declare it, and a declared field is never unknown.
@ParametersElsewhere({ asOf: 'these figures cover a period (from, to); GET /pipeline?asOf=, /analytics/forecast?asOf= and /analytics/rotting?asOf= answer as things stood at an instant' })
export class AnalyticsQueryDto extends AnalyticsScopeDto {
  @ApiPropertyOptional({ description: 'occurredAt on or after (ISO 8601 with a zone)', example: '2026-01-01T00:00:00Z' })
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({ description: 'occurredAt on or before (ISO 8601 with a zone)', example: '2026-03-31T23:59:59Z' })
  @IsOptional()
  @IsInstant()
  to?: string;
}

/**
 * A route with no period (the board is the present or the instant asOf names; rotting is aged at an
 * instant) still reads `from`/`to`, only to refuse them with what to use instead (the controller's
 * message), so they are validated here but left out of the OpenAPI document: it lists only what a
 * route applies.
 */
class PeriodlessQueryDto extends AnalyticsScopeDto {
  @IsOptional()
  @IsInstant()
  from?: string;

  @IsOptional()
  @IsInstant()
  to?: string;
}

export class PipelineQueryDto extends PeriodlessQueryDto {
  @ApiPropertyOptional({ enum: ['opportunities'], description: 'opportunities: list each stage\'s opportunities (the kanban columns), and with `closed` the closed ones' })
  @IsOptional()
  @IsIn(['opportunities'])
  include?: 'opportunities';

  @IsOptional()
  @WholeNumberParameter({
    min: 1,
    max: CARDS_PER_COLUMN_MAX,
    default: CARDS_PER_COLUMN_DEFAULT,
    description: `With include=opportunities: list at most this many cards per stage column (1–${CARDS_PER_COLUMN_MAX}, default ${CARDS_PER_COLUMN_DEFAULT}), the ones longest in the stage first; each column gives opportunitiesOmitted (how many it left out: ask again with a larger cardsPerColumn or a narrower filter), and its count and amounts still cover the whole column`,
    example: 100,
  })
  cardsPerColumn?: number;

  @AsOfParameter('The board as it stood at this instant of business time (occurredAt), from the stage-intervals read model')
  asOf?: string;

  @ApiPropertyOptional({ description: 'Adds per process the opportunities whose latest outcome is won and/or lost, closed in closedFrom…closedTo: count, amount, and with include=opportunities the cards, newest closing first', example: 'won,lost' })
  @IsOptional()
  @IsString()
  @Matches(/^(won|lost)(,(won|lost))?$/, { message: '$property must be won, lost or won,lost' })
  closed?: string;

  @ApiPropertyOptional({ description: 'Closed on or after (business time, ISO 8601 with a zone); default: 30 days before closedTo', example: '2026-03-01T00:00:00Z' })
  @IsOptional()
  @IsInstant()
  closedFrom?: string;

  @ApiPropertyOptional({ description: 'Closed on or before (business time, ISO 8601 with a zone); default: now', example: '2026-03-31T23:59:59Z' })
  @IsOptional()
  @IsInstant()
  closedTo?: string;

  @IsOptional()
  @WholeNumberParameter({
    min: 1,
    max: CLOSED_MAX_LIMIT,
    default: CLOSED_DEFAULT_LIMIT,
    description: `Closed cards listed per outcome and process (1–${CLOSED_MAX_LIMIT}, default ${CLOSED_DEFAULT_LIMIT}); count and amount cover the whole window`,
    example: 50,
  })
  closedLimit?: number;
}

export class WinLossQueryDto extends AnalyticsQueryDto {
  @ApiPropertyOptional({ enum: ['team', 'owner', 'reason', 'month', 'process'] })
  @IsOptional()
  @IsIn(['team', 'owner', 'reason', 'month', 'process'])
  groupBy?: 'team' | 'owner' | 'reason' | 'month' | 'process';
}

export class ForecastQueryDto extends AnalyticsQueryDto {
  @ApiPropertyOptional({ enum: ['month', 'quarter'], description: 'Periods of calendar days (UTC for wins); default month' })
  @IsOptional()
  @IsIn(['month', 'quarter'])
  period?: 'month' | 'quarter';

  @AsOfParameter('The forecast as it stood at this instant of business time (occurredAt)')
  asOf?: string;

  @ApiPropertyOptional({ enum: ['learned'], description: 'learned: add weightedAmountsLearnedByCurrency (amounts weighted by the learned win probability) beside weightedAmountsByCurrency' })
  @IsOptional()
  @IsIn(['learned'])
  include?: 'learned';
}

export class ForecastAccuracyQueryDto extends AnalyticsQueryDto {
  @ApiPropertyOptional({ enum: ['month', 'quarter'], description: 'Periods of calendar days (UTC for wins); default month' })
  @IsOptional()
  @IsIn(['month', 'quarter'])
  period?: 'month' | 'quarter';

  // Taken only to be refused with the reason (the controller's): each period is measured at its
  // own first instant, and the answer compares the configured forecast with what was won.
  @ApiHideProperty()
  @IsOptional()
  asOf?: unknown;

  @ApiHideProperty()
  @IsOptional()
  include?: unknown;
}

/** GET /opportunities?q=: the words, the outcomes, the page. Periodless: from/to are refused with what to use. */
@ParametersElsewhere({ asOf: 'the search finds deals as they are now; GET /opportunities/{id}?asOf= gives one as it was at an instant, GET /pipeline?asOf= the board' })
export class OpportunitySearchQueryDto extends PeriodlessQueryDto {
  @ApiProperty({ description: `Words to find in the title, the owner or the id, however accents, case and spaces are written (1–${SEARCH_TEXT_MAX_LENGTH} characters)`, example: 'acme' })
  @IsString()
  @Length(1, SEARCH_TEXT_MAX_LENGTH, { message: `q must be 1 to ${SEARCH_TEXT_MAX_LENGTH} characters of words to find` })
  q!: string;

  @ApiPropertyOptional({ description: 'Only deals whose latest outcome is one of these (comma-separated); all when absent', example: 'won,lost' })
  @IsOptional()
  @IsString()
  @Matches(/^(open|won|lost)(,(open|won|lost)){0,2}$/, { message: '$property must be open, won or lost, or several of them comma-separated (won,lost)' })
  status?: string;

  @IsOptional()
  @WholeNumberParameter({ min: 1, max: SEARCH_MAX_LIMIT, default: SEARCH_DEFAULT_LIMIT, description: `Deals listed, newest first (1–${SEARCH_MAX_LIMIT}, default ${SEARCH_DEFAULT_LIMIT}); next says where the next page starts`, example: 20 })
  limit?: number;

  @ApiPropertyOptional({ description: 'The next of the previous answer to the same question: the page after it' })
  @IsOptional()
  @IsUUID('all', { message: 'after must be the next of an earlier answer (a deal id)' })
  after?: string;
}

export class RottingQueryDto extends PeriodlessQueryDto {
  @AsOfParameter('The rotting deals as they stood at this instant of business time (occurredAt); default now')
  asOf?: string;

  @IsOptional()
  @WholeNumberParameter({
    min: 1,
    max: ROTTING_MAX_LIMIT,
    default: ROTTING_DEFAULT_LIMIT,
    description: `Deals listed, longest in their stage first (1–${ROTTING_MAX_LIMIT}, default ${ROTTING_DEFAULT_LIMIT}); count covers them all`,
    example: 100,
  })
  limit?: number;
}

export class WaterfallQueryDto extends AnalyticsQueryDto {
  @ApiPropertyOptional({ enum: ['stage'], description: 'stage: the same figures per stage of each process as well (stage moves become stageIn/stageOut)' })
  @IsOptional()
  @IsIn(['stage'])
  by?: 'stage';

  @ApiPropertyOptional({
    enum: ['opportunities'],
    description: `opportunities: list the deals behind each bucket, in pages of at most ${WATERFALL_CHANGES_MAX} changes (limit, fromChange); the figures always cover the whole window`,
  })
  @IsOptional()
  @IsIn(['opportunities'])
  include?: 'opportunities';

  @ApiPropertyOptional({ description: "With include=opportunities: the first change of the page, as the answer's nextFromChange gave it (an opaque cursor, bound to that answer's question; without from and to, the page is of that answer's window); default: the window's first change" })
  @IsOptional()
  @IsString()
  @Length(1, 2000)
  fromChange?: string;

  @IsOptional()
  @WholeNumberParameter({
    min: 1,
    max: WATERFALL_CHANGES_MAX,
    default: WATERFALL_CHANGES_MAX,
    description: `With include=opportunities: changes listed in the page, over every bucket (1–${WATERFALL_CHANGES_MAX}, default ${WATERFALL_CHANGES_MAX})`,
    example: 1000,
  })
  limit?: number;
}

export class VelocityQueryDto extends AnalyticsQueryDto {
  @ApiPropertyOptional({ enum: ['team', 'owner', 'process'], description: 'Groups by the team or owner the deal had then (worked: at each instant; closed: at the closing), or by process' })
  @IsOptional()
  @IsIn(['team', 'owner', 'process'])
  groupBy?: 'team' | 'owner' | 'process';
}

export class CohortsQueryDto extends AnalyticsQueryDto {
  @ApiPropertyOptional({ enum: ['month'], description: 'Cohorts by the UTC month the deals opened (the only one so far)' })
  @IsOptional()
  @IsIn(['month'])
  by?: 'month';
}

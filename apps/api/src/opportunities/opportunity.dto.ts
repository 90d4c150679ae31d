import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, Min, ValidateBy } from 'class-validator';
import { IsAmount } from '../http/amount.validator';
import { WholeNumberParameter } from '../http/whole-number.validator';
import { AsOfParameter } from '../http/as-of.refusal';
import { IsInstant } from '../http/instant.validator';
import { asOfElsewhere, ParametersElsewhere } from '../http/parameters-elsewhere.decorator';
import { IsOmittable } from '../http/omittable.validator';

// Every command field's rule comes from the domain's table (libs/opportunity/src/command-fields.ts),
// which the CLI's import checks too; opportunity.dto.fields.spec.ts proves the decorators below
// refuse exactly what that table refuses, field by field.
import {
  CLIENT_ID as ID,
  CLIENT_ID_MAX_LENGTH,
  CURRENCY_CODE as CURRENCY,
  CURRENCY_RULE,
  EXPECTED_CLOSE_DATE_MAX_LENGTH,
  isStageMapping,
  NAME_MAX_LENGTH,
  NOTE_MAX_LENGTH,
  STAGE_MAPPING_RULE,
  TITLE_MAX_LENGTH,
  VISIBLE_CHARACTER,
} from '@stagecraft/opportunity';

const ID_MESSAGE = '$property must be an id: letters, digits, ".", "_", ":", "@" or "-"';
const CURRENCY_MESSAGE = `currency must be ${CURRENCY_RULE}`;
// A card on the board shows its title: one of spaces only would be an empty card.
const TITLE_MESSAGE = 'title must have a visible character';
// The timeline and the closed card show notes and next steps: spaces or zero-width characters only would record an empty one.
const VISIBLE_MESSAGE = '$property must have a visible character (not only spaces or invisible characters); leave it out for none';

/** Fields every command accepts: concurrency, business time and a client-chosen command id. */
/** Options of every command, also of one spanning many opportunities (which has no single revision). */
export class CommandTimeAndIdDto {
  @ApiPropertyOptional({ description: 'Business time (ISO 8601 with zone) for backfilling; default now. Not before the last event, not in the future.', example: '2026-03-01T09:30:00Z' })
  @IsOmittable()
  @IsInstant()
  occurredAt?: string;

  @ApiPropertyOptional({ description: 'Client-chosen id making the command idempotent; same as the Idempotency-Key header.' })
  @IsOmittable()
  @IsString()
  @Length(1, 200)
  // The Idempotency-Key header's rule, so that one id can be sent either way.
  @Matches(/^[\x21-\x7e]+$/, { message: 'commandId must be visible ASCII characters without spaces, as an Idempotency-Key' })
  commandId?: string;
}

// The bound it checks, named: 1e308 is a whole number of at least 0, and was told it must be one.
const REVISION_MESSAGE = `expectedRevision must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER} (the revision the client read)`;

export class CommandOptionsDto extends CommandTimeAndIdDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: 'Revision the client read; a mismatch answers 409. Same as If-Match.', example: 3 })
  @IsOmittable()
  // One message however it is missed (class-validator reports the first rule broken, in an order
  // that told "3" as a string it "must not be less than 0"); a revision is a safe integer.
  @IsInt({ message: REVISION_MESSAGE })
  @Min(0, { message: REVISION_MESSAGE })
  @Max(Number.MAX_SAFE_INTEGER, { message: REVISION_MESSAGE })
  expectedRevision?: number;
}

export class OpenOpportunityDto extends CommandOptionsDto {
  @ApiPropertyOptional({ description: 'A UUID; generated when absent.', format: 'uuid' })
  @IsOmittable()
  @IsUUID()
  id?: string;

  @ApiProperty({ example: 'ACME renewal 2027' })
  @IsString()
  @Length(1, TITLE_MAX_LENGTH)
  @Matches(VISIBLE_CHARACTER, { message: TITLE_MESSAGE })
  title!: string;

  @ApiProperty({ example: 'standard' })
  @IsString()
  @Length(1, NAME_MAX_LENGTH)
  @Matches(ID, { message: ID_MESSAGE })
  processId!: string;

  @ApiPropertyOptional({ example: 'direct' })
  @IsOmittable()
  @IsString()
  @Length(1, CLIENT_ID_MAX_LENGTH)
  @Matches(ID, { message: ID_MESSAGE })
  teamId?: string;

  @ApiPropertyOptional({ example: 'ana' })
  @IsOmittable()
  @IsString()
  @Length(1, CLIENT_ID_MAX_LENGTH)
  @Matches(ID, { message: ID_MESSAGE })
  ownerId?: string;

  @ApiPropertyOptional({ example: 12000, minimum: 0, maximum: 1e15, description: 'At most 4 decimal places' })
  @IsOmittable()
  @IsAmount()
  amount?: number;

  @ApiPropertyOptional({ example: 'EUR', description: 'ISO 4217 code' })
  @IsOmittable()
  @Matches(CURRENCY, { message: CURRENCY_MESSAGE })
  currency?: string;

  @ExpectedCloseDate()
  expectedCloseDate?: string;
}

export class SetCriterionDto extends CommandOptionsDto {
  @ApiProperty({ example: 'budget-confirmed' })
  @IsString()
  @Length(1, NAME_MAX_LENGTH)
  criterionId!: string;

  @ApiProperty({ description: 'true marks the criterion met, false revokes it' })
  @IsBoolean()
  met!: boolean;

  @Note({ example: 'Budget of 50k confirmed by the CFO' })
  note?: string;
}

export class MoveOpportunityDto extends CommandOptionsDto {
  @ApiProperty({ example: 'qualification' })
  @IsString()
  @Length(1, NAME_MAX_LENGTH)
  stage!: string;

  @Note()
  note?: string;
}

export class WinOpportunityDto extends CommandOptionsDto {
  @Note({ example: 'Contract signed' })
  note?: string;
}

/** Win and lose: what happens next (the seed's last stage asks for it), recorded with the event. */
export class CloseOpportunityDto extends WinOpportunityDto {
  @ApiPropertyOptional({ example: 'Kick-off call on 2 June; invoice after delivery', description: 'What happens next, recorded with the win or loss and shown in the timeline and on the closed card' })
  @IsOmittable()
  @IsString()
  @Length(1, NOTE_MAX_LENGTH)
  @Matches(VISIBLE_CHARACTER, { message: VISIBLE_MESSAGE })
  nextSteps?: string;
}

export class WinWithReasonDto extends CloseOpportunityDto {
  @ApiPropertyOptional({ example: 'relationship', description: "One of the process's wonReasons: required when it lists them, refused when it does not" })
  @IsOmittable()
  @IsString()
  @Length(1, NAME_MAX_LENGTH)
  reason?: string;
}

export class LoseOpportunityDto extends CloseOpportunityDto {
  @ApiProperty({ example: 'competitor' })
  @IsString()
  @Length(1, NAME_MAX_LENGTH)
  reason!: string;
}

export class ReopenOpportunityDto extends WinOpportunityDto {
  @ApiPropertyOptional({ description: 'Stage to return to; the stage it closed in when absent' })
  @IsOmittable()
  @IsString()
  @Length(1, NAME_MAX_LENGTH)
  stage?: string;
}

export class ChangeOpportunityDetailsDto extends CommandOptionsDto {
  @ApiPropertyOptional()
  @IsOmittable()
  @IsString()
  @Length(1, TITLE_MAX_LENGTH)
  @Matches(VISIBLE_CHARACTER, { message: TITLE_MESSAGE })
  title?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: 1e15, description: 'At most 4 decimal places' })
  @IsOmittable()
  @IsAmount()
  amount?: number;

  @ApiPropertyOptional()
  @IsOmittable()
  @Matches(CURRENCY, { message: CURRENCY_MESSAGE })
  currency?: string;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsString()
  @Length(1, CLIENT_ID_MAX_LENGTH)
  @Matches(ID, { message: ID_MESSAGE })
  ownerId?: string;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsString()
  @Length(1, CLIENT_ID_MAX_LENGTH)
  @Matches(ID, { message: ID_MESSAGE })
  teamId?: string;

  @ExpectedCloseDate('; null clears it')
  expectedCloseDate?: string | null;
}

/** Events (or timeline steps) in one answer of GET /opportunities/:id/history, at most and by default. */
export const HISTORY_PAGE_MAX = 10_000;

// The history pages by revision (fromRevision, limit); an instant is GET /opportunities/{id}'s.
@ParametersElsewhere(asOfElsewhere('this history pages by revision, not by time (fromRevision, limit)'))
export class HistoryQueryDto {
  @ApiPropertyOptional({
    enum: ['events', 'timeline'],
    description: 'events (default): the raw event log of the opportunity; timeline: one step per move with stage before/after, time in the stage left, actor, the criteria met at the move, note',
  })
  @IsOmittable()
  @IsIn(['events', 'timeline'])
  view?: 'events' | 'timeline';

  @IsOptional()
  @WholeNumberParameter({
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    default: 0,
    description: "the first revision of the page (default 0): of an event, or of the event that made a timeline step; the answer's nextFromRevision names the next page",
    example: 0,
  })
  fromRevision?: number;

  @IsOptional()
  @WholeNumberParameter({ min: 1, max: HISTORY_PAGE_MAX, default: HISTORY_PAGE_MAX, description: `events (or timeline steps) in the page (1–${HISTORY_PAGE_MAX}, default ${HISTORY_PAGE_MAX})`, example: 100 })
  limit?: number;
}

export class GetOpportunityQueryDto {
  @AsOfParameter('The opportunity as it was at this instant, by business time (occurredAt)', { omittable: true })
  asOf?: string;

  @AsOfParameter('The opportunity as the system knew it at this instant, by recording time (recordedAt)', { omittable: true })
  asOfRecorded?: string;
}

/**
 * An expected close date: text here, judged by the domain (a real calendar date YYYY-MM-DD, or
 * 400 OPPORTUNITY.INVALID_EXPECTED_CLOSE_DATE), the one rule for the API, the CLI and library callers.
 */
function ExpectedCloseDate(extra = ''): PropertyDecorator {
  return applyDecorators(
    // Typed here: the property's design type (string | null) would be documented as an object.
    ApiPropertyOptional({ type: 'string', nullable: true, example: '2026-06-30', format: 'date', description: `When the deal is expected to close, a calendar date YYYY-MM-DD${extra}; each change is recorded as ExpectedCloseDateChanged` }),
    IsOptional(),
    IsString(),
    Length(1, EXPECTED_CLOSE_DATE_MAX_LENGTH),
  );
}

/** An optional free-text note recorded with the event. */
function Note(options: ApiPropertyOptions = {}): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional(options), IsOmittable(), IsString(), Length(1, NOTE_MAX_LENGTH), Matches(VISIBLE_CHARACTER, { message: VISIBLE_MESSAGE }));
}

/** An optional object of stage id → stage id, for migrations. */
function StageMapping(description: string): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ description, example: { qualification: 'discovery' } }), IsOmittable(), IsStageMapping(), KeptAsGiven());
}

/**
 * The object as the client sent it: class-transformer copies a nested plain object key by key and
 * leaves out a key named like a method every object inherits (`toString`, `valueOf`…), so
 * {"valueOf": "zzz"} reached the rules as {} and was recorded as no mapping at all.
 */
function KeptAsGiven(): PropertyDecorator {
  return Transform(({ obj, key }) => (obj as Record<string, unknown>)[key]);
}

/** An object of stage id → stage id. */
function IsStageMapping(): PropertyDecorator {
  return ValidateBy({
    name: 'isStageMapping',
    validator: {
      validate: (value: unknown) => isStageMapping(value),
      defaultMessage: () => `$property must be ${STAGE_MAPPING_RULE}`,
    },
  });
}

export class MigrateOpportunityDto extends CommandOptionsDto {
  @ApiProperty({ description: 'A recorded version of the same process, newer than the one the opportunity runs on (see GET /processes/:id)' })
  @IsString()
  @Length(1, NAME_MAX_LENGTH)
  toVersion!: string;

  @StageMapping('Old stage id → new stage id; needed when the current stage does not exist in the target version')
  stageMapping?: Record<string, string>;

  @Note()
  note?: string;
}

export class MigrateProcessDto extends CommandTimeAndIdDto {
  @ApiProperty({ description: 'Every open opportunity on this version is migrated' })
  @IsString()
  @Length(1, NAME_MAX_LENGTH)
  fromVersion!: string;

  @ApiProperty({ description: 'A newer recorded version of the process' })
  @IsString()
  @Length(1, NAME_MAX_LENGTH)
  toVersion!: string;

  @StageMapping('Old stage id → new stage id')
  stageMapping?: Record<string, string>;

  @Note()
  note?: string;
}

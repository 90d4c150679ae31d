import { canonicalOpportunityId } from '@stagecraft/opportunity';
import { Body, Controller, Get, HttpCode, Inject, Param, Patch, Post, Query, Req, Res, type PipeTransform } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { Allow } from '../auth/roles';
import { CompiledBody } from '../http/compiled-body';
import { HonoursHeaders } from '../http/known-input.guard';
import { asOfElsewhere, ParametersElsewhere } from '../http/parameters-elsewhere.decorator';
import { asOfInstantMs } from '../http/as-of.refusal';
import { ApiProblem } from '../http/problem';
import { UuidPipe } from '../http/uuid.pipe';
import { CLOCK, type Clock } from '../settings/api-settings.token';
import { deterministicUuid, type CommandOutcome } from '@stagecraft/commands';
import type { OpportunityView } from '@stagecraft/contracts';
import { ANALYTICS_QUERIES, ReadModelUnavailableError, type AnalyticsQueries } from '@stagecraft/projections';
import { COMMAND_ANSWER_DOCUMENTED, COMMAND_ANSWERS } from './command-answer.schema';
import { HISTORY_SCHEMA, OPPORTUNITY_VIEW_SCHEMA, VERIFICATION_SCHEMA } from './opportunity.answer-schemas';
import { commandEnvelopeFrom } from './command-envelope.factory';
import { ServedDirectly } from './direct-command.routes';
import {
  ChangeOpportunityDetailsCommand,
  LoseOpportunityCommand,
  MeetExitCriterionCommand,
  MigrateOpportunityCommand,
  MoveOpportunityToStageCommand,
  OpenOpportunityCommand,
  ReopenOpportunityCommand,
  RevokeExitCriterionCommand,
  WinOpportunityCommand,
} from './opportunity.commands';
import {
  ChangeOpportunityDetailsDto,
  GetOpportunityQueryDto,
  HISTORY_PAGE_MAX,
  HistoryQueryDto,
  MigrateOpportunityDto,
  LoseOpportunityDto,
  MoveOpportunityDto,
  OpenOpportunityDto,
  ReopenOpportunityDto,
  SetCriterionDto,
  WinWithReasonDto,
} from './opportunity.dto';
import { GetOpportunityHistoryQuery, GetOpportunityQuery } from './opportunity.queries';
import { GetOpportunityAsOfQuery, GetOpportunityTimelineQuery, VerifyOpportunityQuery } from './opportunity-audit.queries';

const uuid = new UuidPipe(
  () => new ApiProblem('REQUEST.INVALID_ID', 'The opportunity id in the path must be a UUID.', { errors: [{ field: 'id', message: 'id must be a UUID' }] }),
);
/**
 * The id in the path, checked and in its one form (lower case), for every route: the reads too
 * answer with the id the deal has (a timeline, a verdict, a 404 name it), never the capitals asked.
 */
const opportunityId: PipeTransform<unknown, string> = { transform: (value: unknown) => canonicalOpportunityId(uuid.transform(value)) };

const commandHeaders = [
  ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Repeat the same key to retry safely: the command is applied once and the first answer repeated.' }),
  ApiHeader({ name: 'If-Match', required: false, description: 'The revision read, in quotes ("3"): a mismatch answers 409.' }),
  ApiHeader({ name: 'X-Correlation-Id', required: false }),
  ApiHeader({ name: 'X-Actor', required: false, description: 'The person a trusted service acts for (keys allowed to act on behalf only); recorded beside the authenticated actor.' }),
];
const CommandHeaders = (): MethodDecorator => (target, key, descriptor) => {
  for (const decorate of commandHeaders) decorate(target, key, descriptor);
  HonoursHeaders('idempotency-key', 'if-match', 'x-actor')(target, key, descriptor);
};

@ApiTags('opportunities')
@ApiBearerAuth()
@Allow('writer')
@Controller('opportunities')
export class OpportunitiesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ANALYTICS_QUERIES) private readonly analytics: AnalyticsQueries,
  ) {}

  @Post()
  @HttpCode(201)
  @CommandHeaders()
  @ServedDirectly()
  @CompiledBody(OpenOpportunityDto, COMMAND_ANSWERS)
  @ApiCreatedResponse(COMMAND_ANSWER_DOCUMENTED)
  @ApiOperation({ summary: 'Open an opportunity in the first stage of its process' })
  async open(@Body() dto: OpenOpportunityDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const envelope = commandEnvelopeFrom(request, dto, this.clock());
    // A retried open without an id must land on the same opportunity: derive the id from the key.
    const id = dto.id ?? (envelope.clientSuppliedId ? deterministicUuid('opportunity', envelope.commandId) : randomUUID());
    const { title, processId, teamId, ownerId, amount, currency, expectedCloseDate, occurredAt } = dto;
    const outcome = await this.commands.execute(
      new OpenOpportunityCommand({ type: 'OpenOpportunity', opportunityId: id, title, processId, teamId, ownerId, amount, currency, expectedCloseDate, occurredAt }, envelope),
    );
    void reply.header('location', `/opportunities/${outcome.id}`);
    return answer(outcome, reply);
  }

  @Post(':id/criteria')
  @HttpCode(200)
  @CommandHeaders()
  @ServedDirectly()
  @CompiledBody(SetCriterionDto, COMMAND_ANSWERS)
  @ApiOkResponse(COMMAND_ANSWER_DOCUMENTED)
  @ApiOperation({ summary: 'Mark an exit criterion of the current stage as met (met: true) or revoke it (met: false)' })
  async setCriterion(@Param('id', opportunityId) id: string, @Body() dto: SetCriterionDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const envelope = commandEnvelopeFrom(request, dto, this.clock());
    const { criterionId, note, occurredAt } = dto;
    const outcome = await this.commands.execute(
      dto.met
        ? new MeetExitCriterionCommand({ type: 'MeetExitCriterion', opportunityId: id, criterionId, note, occurredAt }, envelope)
        : new RevokeExitCriterionCommand({ type: 'RevokeExitCriterion', opportunityId: id, criterionId, note, occurredAt }, envelope),
    );
    return answer(outcome, reply);
  }

  @Post(':id/move')
  @HttpCode(200)
  @CommandHeaders()
  @ServedDirectly()
  @CompiledBody(MoveOpportunityDto, COMMAND_ANSWERS)
  @ApiOkResponse(COMMAND_ANSWER_DOCUMENTED)
  @ApiOperation({ summary: 'Move to another stage; 422 lists the unmet exit criteria or the rule that forbids it' })
  async move(@Param('id', opportunityId) id: string, @Body() dto: MoveOpportunityDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const envelope = commandEnvelopeFrom(request, dto, this.clock());
    const { stage, note, occurredAt } = dto;
    return answer(await this.commands.execute(new MoveOpportunityToStageCommand({ type: 'MoveOpportunityToStage', opportunityId: id, stage, note, occurredAt }, envelope)), reply);
  }

  @Post(':id/win')
  @HttpCode(200)
  @CommandHeaders()
  @ServedDirectly()
  @CompiledBody(WinWithReasonDto, COMMAND_ANSWERS)
  @ApiOkResponse(COMMAND_ANSWER_DOCUMENTED)
  @ApiOperation({ summary: "Win, from a winFrom stage whose exit criteria are met, with one of the process's wonReasons when it lists them" })
  async win(@Param('id', opportunityId) id: string, @Body() dto: WinWithReasonDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const envelope = commandEnvelopeFrom(request, dto, this.clock());
    const { reason, note, nextSteps, occurredAt } = dto;
    return answer(await this.commands.execute(new WinOpportunityCommand({ type: 'WinOpportunity', opportunityId: id, reason, note, nextSteps, occurredAt }, envelope)), reply);
  }

  @Post(':id/lose')
  @HttpCode(200)
  @CommandHeaders()
  @ServedDirectly()
  @CompiledBody(LoseOpportunityDto, COMMAND_ANSWERS)
  @ApiOkResponse(COMMAND_ANSWER_DOCUMENTED)
  @ApiOperation({ summary: "Lose, with one of the process's lost reasons" })
  async lose(@Param('id', opportunityId) id: string, @Body() dto: LoseOpportunityDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const envelope = commandEnvelopeFrom(request, dto, this.clock());
    const { reason, note, nextSteps, occurredAt } = dto;
    return answer(await this.commands.execute(new LoseOpportunityCommand({ type: 'LoseOpportunity', opportunityId: id, reason, note, nextSteps, occurredAt }, envelope)), reply);
  }

  @Post(':id/reopen')
  @HttpCode(200)
  @CommandHeaders()
  @ServedDirectly()
  @CompiledBody(ReopenOpportunityDto, COMMAND_ANSWERS)
  @ApiOkResponse(COMMAND_ANSWER_DOCUMENTED)
  @ApiOperation({ summary: 'Reopen a won or lost opportunity, in the stage it closed in or the stage given' })
  async reopen(@Param('id', opportunityId) id: string, @Body() dto: ReopenOpportunityDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const envelope = commandEnvelopeFrom(request, dto, this.clock());
    const { stage, note, occurredAt } = dto;
    return answer(await this.commands.execute(new ReopenOpportunityCommand({ type: 'ReopenOpportunity', opportunityId: id, stage, note, occurredAt }, envelope)), reply);
  }

  @Patch(':id')
  @HttpCode(200)
  @CommandHeaders()
  @ServedDirectly()
  @CompiledBody(ChangeOpportunityDetailsDto, COMMAND_ANSWERS)
  @ApiOkResponse(COMMAND_ANSWER_DOCUMENTED)
  @ApiOperation({ summary: 'Change title, amount, currency, owner, team or the expected close date; only changed fields are recorded' })
  async changeDetails(@Param('id', opportunityId) id: string, @Body() dto: ChangeOpportunityDetailsDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const envelope = commandEnvelopeFrom(request, dto, this.clock());
    const { title, amount, currency, ownerId, teamId, expectedCloseDate, occurredAt } = dto;
    return answer(
      await this.commands.execute(
        new ChangeOpportunityDetailsCommand({ type: 'ChangeOpportunityDetails', opportunityId: id, title, amount, currency, ownerId, teamId, expectedCloseDate, occurredAt }, envelope),
      ),
      reply,
    );
  }

  @Post(':id/migrate')
  @HttpCode(200)
  @Allow('admin')
  @CommandHeaders()
  @ServedDirectly()
  @CompiledBody(MigrateOpportunityDto, COMMAND_ANSWERS)
  @ApiOkResponse(COMMAND_ANSWER_DOCUMENTED)
  @ApiOperation({ summary: 'Move an open opportunity to a newer version of its process (recorded as ProcessMigrated); stageMapping maps stages the new version lacks' })
  async migrate(@Param('id', opportunityId) id: string, @Body() dto: MigrateOpportunityDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const envelope = commandEnvelopeFrom(request, dto, this.clock());
    const { toVersion, stageMapping, note, occurredAt } = dto;
    return answer(await this.commands.execute(new MigrateOpportunityCommand({ type: 'MigrateOpportunity', opportunityId: id, toVersion, stageMapping, note, occurredAt }, envelope)), reply);
  }

  @Get(':id')
  @ApiOkResponse({ description: 'The opportunity (ETag: its revision, when not as of an instant)', schema: OPPORTUNITY_VIEW_SCHEMA })
  @Allow('writer', 'analyst', 'auditor')
  @ApiOperation({ summary: 'The opportunity as it is now, or as it was at ?asOf= (business time) or ?asOfRecorded= (what the system knew then)' })
  async get(@Param('id', opportunityId) id: string, @Query() query: GetOpportunityQueryDto, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply) {
    const asOf = asOfOf(query);
    if (asOf) return this.queries.execute(new GetOpportunityAsOfQuery(id, asOf.instant, asOf.axis, principal.teams));
    const view = await this.queries.execute(new GetOpportunityQuery(id, principal.teams));
    void reply.header('etag', `"${view.revision}"`);
    return { ...view, ...(await this.learnedWinProbabilityOf(view)) };
  }

  /**
   * The learned win probability now, from the read models (README, "Learned win probability").
   * Null when closed, when the read models have not folded the opportunity in yet, or cannot answer:
   * the opportunity itself comes from its stream and is answered all the same. The view is read from
   * the log and the figures from the read models, which may lag it (another instance's append not
   * yet polled, a projector behind): the figures are taken only once the models hold the view's last
   * event, else a figure of a stage the deal has left would stand beside it. Not waited for: a
   * caller reading a deal gets it at once, and asks /pipeline with ?minPosition= to wait.
   */
  private async learnedWinProbabilityOf(view: OpportunityView): Promise<Pick<OpportunityView, 'winProbability' | 'configuredProbability'>> {
    if (view.status !== 'open') return { winProbability: null, configuredProbability: null };
    if (this.analytics.position() < view.position) return { winProbability: null, configuredProbability: null };
    try {
      const learned = await this.analytics.learnedPipeline({ atMs: this.clock().getTime(), asOf: false, filter: { processId: view.processId }, cardIds: [view.id] });
      const card = learned.cards[view.id];
      return { winProbability: card?.winProbability ?? null, configuredProbability: card?.configuredProbability ?? null };
    } catch (error) {
      if (error instanceof ReadModelUnavailableError) return { winProbability: null, configuredProbability: null };
      throw error;
    }
  }

  @Get(':id/history')
  @ApiOkResponse({ description: 'A page of the events, or of the timeline steps', schema: HISTORY_SCHEMA })
  // A rep and an analyst see what happened to a deal they may read (the board's timeline); the
  // integrity check (verify) stays the auditor's.
  @Allow('writer', 'analyst', 'auditor')
  @ApiOperation({ summary: 'Every event of the opportunity in order, with its metadata; ?view=timeline gives one readable step per move' })
  history(@Param('id', opportunityId) id: string, @Query() query: HistoryQueryDto, @CurrentPrincipal() principal: Principal) {
    // Both views in pages by revision: a step is named by the revision of the event that made it.
    const page = { fromRevision: query.fromRevision ?? 0, limit: query.limit ?? HISTORY_PAGE_MAX };
    if (query.view === 'timeline') return this.queries.execute(new GetOpportunityTimelineQuery(id, principal.teams, page));
    return this.queries.execute(new GetOpportunityHistoryQuery(id, principal.teams, page));
  }

  @Get(':id/verify')
  @ApiOkResponse({ description: 'The verdict on both chains', schema: VERIFICATION_SCHEMA })
  @Allow('auditor')
  @ApiOperation({ summary: "Recompute the hash chains of the opportunity's stream and its process's stream; report the first broken revision" })
  // The chains are judged as stored now: the state at an instant is GET /opportunities/{id}'s.
  @ParametersElsewhere(asOfElsewhere('verify judges the chains as stored now'))
  verify(@Param('id', opportunityId) id: string, @CurrentPrincipal() principal: Principal) {
    return this.queries.execute(new VerifyOpportunityQuery(id, principal.teams));
  }
}

/** The instant and time axis of an as-of read, or undefined for the current state. */
function asOfOf(query: GetOpportunityQueryDto): { instant: string; axis: 'occurredAt' | 'recordedAt' } | undefined {
  if (query.asOf !== undefined && query.asOfRecorded !== undefined) {
    throw new ApiProblem('REQUEST.AS_OF_CONFLICT', 'Give asOf (business time) or asOfRecorded (recording time), not both.');
  }
  const field = query.asOf !== undefined ? 'asOf' : query.asOfRecorded !== undefined ? 'asOfRecorded' : undefined;
  if (!field) return undefined;
  const ms = asOfInstantMs(field, query[field]!);
  return { instant: new Date(ms).toISOString(), axis: field === 'asOf' ? 'occurredAt' : 'recordedAt' };
}

function answer(outcome: CommandOutcome, reply: FastifyReply) {
  void reply.header('etag', `"${outcome.revision}"`);
  if (outcome.replayed) void reply.header('idempotent-replayed', 'true');
  const { replayed: _replayed, appended: _appended, ...body } = outcome;
  return body;
}

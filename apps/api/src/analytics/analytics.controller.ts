import { canonicalOpportunityId, instantIsAfter } from '@stagecraft/opportunity';
import { Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ANALYTICS_QUERIES, cardIdsOf, SearchCursorError, searchNeedleOf, type SearchStatus, cursorWindow, decodeChangeKey, readingPositions, modelsStoppedForGood, readModelsOf, ReadModelUnavailableError, withLearnedForecast, withLearnedWinProbability, type AnalyticsFilter, type AnalyticsQueries, type AnalyticsQueryName, type ClosedOutcome, type ClosedQuery, type PipelineFilter, type PipelineResult, type WaterfallPage, type WaterfallQuestion } from '@stagecraft/projections';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import type { Principal } from '../auth/principal';
import { Allow } from '../auth/roles';
import { preferredMediaType } from '../http/accept.negotiation';
import { asOfInstantMs } from '../http/as-of.refusal';
import { ApiProblem, validationProblem } from '../http/problem';
import { EVENT_STORE, type EventStore } from '@stagecraft/event-store';
import { ProcessNotFoundError, ProcessRegistry } from '@stagecraft/commands';
import { API_SETTINGS, CLOCK, CURRENCY_RATES, type Clock } from '../settings/api-settings.token';
import type { CurrencyRates, Settings } from '@stagecraft/config';
import { rateDayUpTo, withConvertedForecast, withConvertedPipeline, withConvertedWinLoss } from './currency-conversion';
import { AnalyticsQueryDto, CohortsQueryDto, OpportunitySearchQueryDto, ForecastAccuracyQueryDto, ForecastQueryDto, PipelineQueryDto, RottingQueryDto, VelocityQueryDto, WaterfallQueryDto, WinLossQueryDto } from './analytics.dto';
import { CALIBRATION_CSV, COHORTS_CSV, SEARCH_CSV, FORECAST_ACCURACY_CSV, FORECAST_CSV, FUNNEL_CSV, PIPELINE_CSV, ROTTING_CSV, STAGE_DURATIONS_CSV, TRANSITIONS_CSV, VELOCITY_CSV, WATERFALL_CSV, WIN_LOSS_CSV, type CsvTable } from './analytics.rows';
import { toCsv } from '@stagecraft/csv';
import { CALIBRATION_SCHEMA, COHORTS_SCHEMA, SEARCH_SCHEMA, FORECAST_ACCURACY_SCHEMA, FORECAST_SCHEMA, FUNNEL_SCHEMA, PIPELINE_SCHEMA, ROTTING_SCHEMA, STAGE_DURATIONS_SCHEMA, TRANSITIONS_SCHEMA, VELOCITY_SCHEMA, WATERFALL_SCHEMA, WIN_LOSS_SCHEMA } from './analytics.answer-schemas';
import { begunPeriods, CARDS_PER_COLUMN_DEFAULT, SEARCH_DEFAULT_LIMIT, closedWindowOf, ROTTING_DEFAULT_LIMIT, WATERFALL_CHANGES_MAX, waterfallPeriodOf } from './pipeline.policy';
import { quotedValue } from '@stagecraft/sales-process';

/** What an analytics answer can be sent as, the first when Accept has no preference. */
const ANSWER_TYPES = ['application/json', 'text/csv'];

/** What analysts ask: the board and the figures, from the read models kept by the projections. */
@ApiTags('analytics')
@ApiBearerAuth()
@Allow('analyst')
@ApiProduces('application/json', 'text/csv')
@Controller()
export class AnalyticsController {
  constructor(
    @Inject(ANALYTICS_QUERIES) private readonly queries: AnalyticsQueries,
    @Inject(API_SETTINGS) private readonly settings: Settings,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly processes: ProcessRegistry,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CURRENCY_RATES) private readonly currencyRates: CurrencyRates | null,
  ) {}

  @Get('pipeline')
  @ApiOkResponse({ description: 'The board: per process, its stages in order (and the closed sections when asked)', schema: PIPELINE_SCHEMA })
  // A rep (writer) works from the board: its teams' pipeline, scoped below like any team-limited caller.
  @Allow('analyst', 'writer')
  @ApiOperation({
    summary:
      'Open opportunities per current stage in process order: count, amount, weighted amount; ?closed=won,lost adds the recently closed ones per process; ?asOf= gives the board as it stood at an instant; ?cardsPerColumn= caps the cards listed per stage (default 100, at most 1000; each column says how many it left out)',
  })
  async pipeline(@Query() query: PipelineQueryDto, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answered(query, request, reply, PIPELINE_CSV, async () => {
      // The learned figures are left out when their models cannot answer (withLearned): not waited for.
      await this.readYourWrites(query, [query.asOf === undefined ? 'pipeline' : 'pipelineAsOf']);
      const { processId, teamId, ownerId } = await this.scoped(query, principal);
      // The pipeline is the present (or the instant asOf names): a period has no meaning for it.
      const periodFields = (['from', 'to'] as const).filter((field) => query[field] !== undefined);
      if (periodFields.length > 0) {
        throw validationProblem(periodFields.map((field) => ({ field, message: `${field} does not apply to /pipeline: use asOf for the board at an instant, closedFrom/closedTo for the closed sections` })));
      }
      const closed = this.closedQuery(query);
      if (query.cardsPerColumn !== undefined && query.include !== 'opportunities') {
        throw validationProblem([{ field: 'cardsPerColumn', message: 'cardsPerColumn applies only with include=opportunities' }]);
      }
      const options = {
        includeOpportunities: query.include === 'opportunities',
        // Listed cards are always capped: the default bound unless the client asks for up to the maximum.
        ...(query.include === 'opportunities' ? { cardsPerColumn: query.cardsPerColumn ?? CARDS_PER_COLUMN_DEFAULT } : {}),
        ...(closed ? { closed } : {}),
      };
      if (query.asOf !== undefined) {
        if (closed) throw new ApiProblem('REQUEST.AS_OF_CONFLICT', 'closed lists the opportunities closed in a period up to now; it cannot be combined with asOf.');
        const ms = asOfInstantMs('asOf', query.asOf);
        // Team and owner filters of a past board mean the team and owner at that instant.
        const rateDay = rateDayUpTo(ms, this.clock().getTime());
        // The board and its learned figures from one state of the read side (oneSnapshot).
        const learned = await this.queries.oneSnapshot(async (queries) => {
          // Learned figures first, so that they are converted with the rest.
          const board = await this.withLearned(queries, await queries.pipelineAsOf(ms, { processId, teamId, ownerId }, options), ms, true, { processId, teamId, ownerId });
          return this.converted(board, rateDay, rateDay);
        });
        return { asOf: { instant: new Date(ms).toISOString(), axis: 'occurredAt' }, ...learned };
      }
      // The cards are aged (daysInStage, rotting) at the server's clock.
      const nowMs = this.clock().getTime();
      return await this.queries.oneSnapshot(async (queries) => {
        const result = await queries.pipeline({ processId, teamId, ownerId }, { ...options, nowMs });
        const board = await this.withLearned(queries, result, nowMs, false, { processId, teamId, ownerId });
        return this.converted(board, rateDayUpTo(undefined, nowMs), rateDayUpTo(closed ? Date.parse(closed.to) : undefined, nowMs));
      }, { sideBySide: closed !== undefined });
    });
  }

  /** The learned win probability beside the configured one: on each card, and weighted per stage (README, "Learned win probability"). */
  private async withLearned(queries: AnalyticsQueries, result: PipelineResult, atMs: number, asOf: boolean, filter: PipelineFilter): Promise<PipelineResult> {
    try {
      return withLearnedWinProbability(result, await queries.learnedPipeline({ atMs, asOf, filter, cardIds: cardIdsOf(result) }));
    } catch (error) {
      // The board still answers without its learned figures when only their model cannot (a
      // projector not yet upgraded, a stopped win-probability model: /health says which).
      if (error instanceof ReadModelUnavailableError) return result;
      throw error;
    }
  }

  @Get('opportunities')
  @ApiOkResponse({ description: 'The deals found, newest first, and the cursor of the next page', schema: SEARCH_SCHEMA })
  // A rep finds a deal the board did not load (a long column, one closed long ago): its teams' deals, scoped like the board.
  @Allow('analyst', 'writer')
  @ApiOperation({
    summary:
      'Find deals, open or closed, whose title, owner or id holds the words in q (accents, case and spaces folded as the board folds them), newest first, a page at a time (limit, after = the previous answer\'s next); processId, teamId, ownerId and status=open,won,lost narrow it',
  })
  async searchOpportunities(@Query() query: OpportunitySearchQueryDto, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answered(query, request, reply, SEARCH_CSV, async () => {
      await this.readYourWrites(query, ['searchOpportunities']);
      const periodFields = (['from', 'to'] as const).filter((field) => query[field] !== undefined);
      if (periodFields.length > 0) throw validationProblem(periodFields.map((field) => ({ field, message: `${field} does not apply to GET /opportunities: the search covers every deal` })));
      if (searchNeedleOf(query.q) === undefined) throw validationProblem([{ field: 'q', message: 'q must hold a letter or digit to search for (spaces, marks or punctuation alone find nothing)' }]);
      const { processId, teamId, ownerId } = await this.scoped(query, principal);
      const statuses = query.status === undefined ? undefined : [...new Set(query.status.split(','))] as SearchStatus[];
      try {
        const result = await this.queries.searchOpportunities({ processId, teamId, ownerId, q: query.q, limit: query.limit ?? SEARCH_DEFAULT_LIMIT, ...(statuses ? { statuses } : {}), ...(query.after === undefined ? {} : { after: canonicalOpportunityId(query.after) }) });
        // CSV has no place for the cursor in its body: the header carries it (JSON has it in both).
        if (result.next !== null) void reply.header('x-next-after', result.next);
        return result;
      } catch (error) {
        if (error instanceof SearchCursorError) throw validationProblem([{ field: 'after', message: error.message }]);
        throw error;
      }
    });
  }

  @Get('analytics/win-probability/calibration')
  @ApiOkResponse({ description: 'Brier scores and reliability bins', schema: CALIBRATION_SCHEMA })
  @ApiOperation({
    summary:
      'How well the learned win probability did: the estimate made at each stage entry in the period (from/to on the entry) against the outcome, as Brier scores of the learned and the configured probabilities and reliability bins (predicted vs observed win rate, with counts)',
  })
  async winProbabilityCalibration(@Query() query: AnalyticsQueryDto, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answered(query, request, reply, CALIBRATION_CSV, async () => {
      await this.readYourWrites(query, ['winProbabilityCalibration']);
      return await this.queries.winProbabilityCalibration(await this.scoped(query, principal));
    });
  }

  @Get('analytics/win-loss')
  @ApiOkResponse({ description: 'The closed deals\' figures, in total and per group', schema: WIN_LOSS_SCHEMA })
  @ApiOperation({ summary: 'Won, lost, win rate, amount won and lost reasons of closed opportunities, optionally grouped' })
  async winLoss(@Query() query: WinLossQueryDto, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answered(query, request, reply, WIN_LOSS_CSV, async () => {
      await this.readYourWrites(query, ['winLoss']);
      const result = await this.queries.winLoss(await this.scoped(query, principal), query.groupBy);
      // Converted at the last day of the period asked, never after today: currency-conversion.ts.
      return this.currencyRates ? withConvertedWinLoss(result, this.currencyRates, rateDayUpTo(query.to === undefined ? undefined : Date.parse(query.to), this.clock().getTime())) : result;
    });
  }

  @Get('analytics/stage-durations')
  @ApiOkResponse({ description: 'Per process and stage: completed and open visits', schema: STAGE_DURATIONS_SCHEMA })
  @ApiOperation({ summary: 'Per stage: completed visits (count, mean, median, p90 seconds) and open visits (count, oldest age)' })
  async stageDurations(@Query() query: AnalyticsQueryDto, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answered(query, request, reply, STAGE_DURATIONS_CSV, async () => {
      await this.readYourWrites(query, ['stageDurations']);
      return await this.queries.stageDurations(await this.scoped(query, principal), this.clock().toISOString());
    });
  }

  @Get('analytics/funnel')
  @ApiOkResponse({ description: 'Per process: reached per stage, conversions, won', schema: FUNNEL_SCHEMA })
  @ApiOperation({ summary: 'Per stage in order: opportunities that reached it, conversion to the next, and the last step to won' })
  async funnel(@Query() query: AnalyticsQueryDto, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answered(query, request, reply, FUNNEL_CSV, async () => {
      await this.readYourWrites(query, ['funnel']);
      return await this.queries.funnel(await this.scoped(query, principal));
    });
  }

  @Get('analytics/transitions')
  @ApiOkResponse({ description: 'Per process: the from → to counts', schema: TRANSITIONS_SCHEMA })
  @ApiOperation({ summary: 'Stage → stage transition counts, including skips, backward moves, won, lost and reopens' })
  async transitions(@Query() query: AnalyticsQueryDto, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answered(query, request, reply, TRANSITIONS_CSV, async () => {
      await this.readYourWrites(query, ['transitions']);
      return await this.queries.transitions(await this.scoped(query, principal));
    });
  }

  @Get('analytics/forecast')
  @ApiOkResponse({ description: 'Per period: open deals expected, won so far; open deals without a date', schema: FORECAST_SCHEMA })
  @ApiOperation({
    summary:
      'Per period (month or quarter) of expected close dates: open deals (count, amounts and weighted amounts per currency), won so far in the period, and open deals without a date; ?asOf= gives the forecast as it stood at an instant; ?include=learned adds the amounts weighted by the learned win probability',
  })
  async forecast(@Query() query: ForecastQueryDto, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answered(query, request, reply, FORECAST_CSV, async () => {
      await this.readYourWrites(query, [query.asOf === undefined ? 'forecast' : 'forecastAsOf', ...(query.include === 'learned' ? (['learnedForecast'] as const) : [])]);
      const forecast = { ...(await this.scoped(query, principal)), period: query.period ?? 'month' };
      const asOfMs = query.asOf === undefined ? undefined : asOfInstantMs('asOf', query.asOf);
      const nowMs = this.clock().getTime();
      const atMs = asOfMs ?? nowMs;
      // The forecast and its learned amounts from one state of the read side (oneSnapshot).
      return await this.queries.oneSnapshot(async (queries) => {
        const figures = asOfMs === undefined ? await queries.forecast(forecast) : await queries.forecastAsOf(asOfMs, forecast);
        // Learned amounts first, so that they are converted with the rest.
        const result = query.include === 'learned' ? withLearnedForecast(figures, await queries.learnedForecast({ atMs, asOf: asOfMs !== undefined, forecast })) : figures;
        return this.currencyRates ? withConvertedForecast(result, this.currencyRates, rateDayUpTo(asOfMs, nowMs)) : result;
      });
    });
  }

  @Get('analytics/forecast-accuracy')
  @ApiOkResponse({ description: 'Per period that has begun: the forecast at its first instant and what was won', schema: FORECAST_ACCURACY_SCHEMA })
  @ApiOperation({ summary: 'Per period that has begun: the forecast as it stood at the period\'s first instant (00:00 UTC) against what was won in the period, per currency' })
  async forecastAccuracy(@Query() query: ForecastAccuracyQueryDto, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answered(query, request, reply, FORECAST_ACCURACY_CSV, async () => {
      const refused = [
        ...(query.asOf === undefined ? [] : [{ field: 'asOf', message: 'asOf does not apply to forecast-accuracy: each period is measured at its own first instant' }]),
        ...(query.include === undefined ? [] : [{ field: 'include', message: 'include does not apply to forecast-accuracy: it compares the configured forecast with what was won (include=learned is for /analytics/forecast)' }]),
      ];
      if (refused.length > 0) throw validationProblem(refused);
      await this.readYourWrites(query, ['forecastAccuracy']);
      const accuracy = await this.queries.forecastAccuracy({ ...(await this.scoped(query, principal)), period: query.period ?? 'month' });
      return { ...accuracy, periods: begunPeriods(accuracy.periods, this.clock()) };
    });
  }

  @Get('analytics/rotting')
  @ApiOkResponse({ description: 'The rotting deals, longest in their stage first', schema: ROTTING_SCHEMA })
  @ApiOperation({ summary: "Open deals longer in their stage (business time) than the stage's rotAfterDays, longest first; ?asOf= as they stood at an instant" })
  async rotting(@Query() query: RottingQueryDto, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answered(query, request, reply, ROTTING_CSV, async () => {
      await this.readYourWrites(query, [query.asOf === undefined ? 'rotting' : 'rottingAsOf']);
      const periodFields = (['from', 'to'] as const).filter((field) => query[field] !== undefined);
      if (periodFields.length > 0) {
        throw validationProblem(periodFields.map((field) => ({ field, message: `${field} does not apply to /analytics/rotting: use asOf for the deals rotting at an instant` })));
      }
      const { processId, teamId, ownerId } = await this.scoped(query, principal);
      const asked = { processId, teamId, ownerId, limit: query.limit ?? ROTTING_DEFAULT_LIMIT };
      const result = query.asOf === undefined ? await this.queries.rotting(this.clock().getTime(), asked) : await this.queries.rottingAsOf(asOfInstantMs('asOf', query.asOf), asked);
      return result;
    });
  }

  /** The board with converted totals when a currencies file is configured: open columns at `openDay`'s rates, closed sections at `closedDay`'s. */
  private converted<T extends PipelineResult>(result: T, openDay: string, closedDay: string): T {
    return this.currencyRates ? { ...result, ...withConvertedPipeline(result, this.currencyRates, openDay, closedDay) } : result;
  }

  @Get('analytics/waterfall')
  @ApiOkResponse({ description: 'start + changes = end, with the memos beside them', schema: WATERFALL_SCHEMA })
  @ApiOperation({
    summary:
      'What changed the open pipeline between from and to (default: the last 7 days): the open pipeline at from, the changes in buckets (created, reopened, moved in, amount increased/decreased, moved out, won, lost), the open pipeline at to — start + changes = end exactly, per currency; pushed out / pulled in beside them; ?by=stage per stage; ?include=opportunities the deals in each bucket',
  })
  async waterfall(@Query() query: WaterfallQueryDto, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answered(query, request, reply, WATERFALL_CSV, async () => {
      await this.readYourWrites(query, ['waterfall']);
      const { processId, teamId, ownerId } = await this.scoped(query, principal);
      const { fromMs, toMs } = this.windowOf(this.pagedWindowOf(query));
      const question = { processId, teamId, ownerId, fromMs, toMs, byStage: query.by === 'stage' };
      const page = this.waterfallPageOf(query, question);
      const result = await this.queries.waterfall({ ...question, includeOpportunities: page !== undefined, ...(page ? { page } : {}) });
      // CSV has no place for the cursor in its body: the header carries it (JSON has it in both).
      if (typeof result.nextFromChange === 'string') void reply.header('x-next-from-change', result.nextFromChange);
      return result;
    });
  }

  /**
   * A page asked with a cursor and without `from` or `to` pages the window of the answer that gave
   * the cursor, which the cursor carries: a window asked without `to` ends at the instant it was
   * answered, so the next request's "now" would be another window, and a CSV answer echoes none.
   * The ends given are kept (a cursor of another window is then refused as of another question).
   */
  private pagedWindowOf(query: WaterfallQueryDto): WaterfallQueryDto {
    const window = query.include === 'opportunities' && query.fromChange !== undefined ? cursorWindow(query.fromChange) : undefined;
    if (window === undefined) return query;
    return { ...query, from: query.from ?? new Date(window.fromMs).toISOString(), to: query.to ?? new Date(window.toMs).toISOString() };
  }

  /**
   * The drill-down's page: every answer that lists changes lists at most WATERFALL_CHANGES_MAX (a busy
   * window listed them all, tens of megabytes built on the event loop). Undefined without include=opportunities.
   */
  private waterfallPageOf(query: WaterfallQueryDto, question: WaterfallQuestion): WaterfallPage | undefined {
    if (query.include !== 'opportunities') {
      const stray = (['fromChange', 'limit'] as const).filter((field) => query[field] !== undefined);
      if (stray.length > 0) throw validationProblem(stray.map((field) => ({ field, message: `${field} pages the changes listed with include=opportunities; without it none are listed` })));
      return undefined;
    }
    const limit = query.limit ?? WATERFALL_CHANGES_MAX;
    if (query.fromChange === undefined) return { limit };
    const fromChange = decodeChangeKey(query.fromChange, question);
    if (fromChange === undefined) {
      throw validationProblem([
        {
          field: 'fromChange',
          message:
            'fromChange must be a nextFromChange a waterfall answered, passed back as it was, with the same question: the same processId, teamId, ownerId and by, and the same from and to or none (without them, the page is of the window of the answer that gave the cursor)',
        },
      ]);
    }
    return { fromChange, limit };
  }

  @Get('analytics/velocity')
  @ApiOkResponse({ description: 'The levers and the velocity, in total and per group', schema: VELOCITY_SCHEMA })
  @ApiOperation({
    summary:
      'Sales velocity between from and to (default: the last 7 days), in total and per team, owner or process: opportunities worked, win rate, average won amount per currency, average cycle (opening to win, days of business time), and velocity = opportunities × win rate × average amount ÷ cycle days, each lever shown',
  })
  async velocity(@Query() query: VelocityQueryDto, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answered(query, request, reply, VELOCITY_CSV, async () => {
      await this.readYourWrites(query, ['velocity']);
      const { processId, teamId, ownerId } = await this.scoped(query, principal);
      const { fromMs, toMs } = this.windowOf(query);
      return await this.queries.velocity({ processId, teamId, ownerId, fromMs, toMs, groupBy: query.groupBy });
    });
  }

  @Get('analytics/cohorts')
  @ApiOkResponse({ description: 'The cohorts by month of opening', schema: COHORTS_SCHEMA })
  @ApiOperation({ summary: 'Opportunities by the UTC month they opened (from/to bound the opening): each cohort\'s funnel (reached per stage, won), how many were won, and the median days from opening to the first win' })
  async cohorts(@Query() query: CohortsQueryDto, @CurrentPrincipal() principal: Principal, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return this.answered(query, request, reply, COHORTS_CSV, async () => {
      await this.readYourWrites(query, ['cohorts']);
      return await this.queries.cohorts(await this.scoped(query, principal));
    });
  }

  /** from/to of the waterfall and velocity: defaults from the screen policy, from after to refused. */
  private windowOf(query: AnalyticsQueryDto): { fromMs: number; toMs: number } {
    const window = waterfallPeriodOf(query, this.clock());
    // By the instants asked, not the milliseconds they fall in: …00.0005Z is after …00.0001Z.
    const [from, to] = [query.from ?? new Date(window.fromMs).toISOString(), query.to ?? new Date(window.toMs).toISOString()];
    if (instantIsAfter(from, to)) {
      throw new ApiProblem('REQUEST.INVALID_PERIOD', `from (${from}) is after to (${to}${query.to === undefined ? ', now' : ''}).`, { from, to });
    }
    return window;
  }

  /** The closed sections asked for (?closed=…), their window checked; undefined when not asked. */
  private closedQuery(query: PipelineQueryDto): ClosedQuery | undefined {
    const { closed, closedFrom, closedTo, closedLimit } = query;
    if (closed === undefined) {
      const stray = (['closedFrom', 'closedTo', 'closedLimit'] as const).filter((field) => query[field] !== undefined);
      if (stray.length === 0) return undefined;
      throw validationProblem(stray.map((field) => ({ field, message: `${field} applies only with closed=won, lost or won,lost` })));
    }
    const window = closedWindowOf({ from: closedFrom, to: closedTo, limit: closedLimit }, this.clock());
    // By the instants asked, not the window's milliseconds: closedFrom …00.0001Z to closedTo
    // …00.0005Z is a period (one no closing can fall in: its first millisecond is after its last).
    const [from, to] = [closedFrom ?? window.from, closedTo ?? window.to];
    if (instantIsAfter(from, to)) {
      throw new ApiProblem('REQUEST.INVALID_PERIOD', `closedFrom (${from}) is after closedTo (${to}${closedTo === undefined ? ', now' : ''}).`, {
        closedFrom: from,
        closedTo: to,
      });
    }
    return { outcomes: [...new Set(closed.split(','))] as ClosedOutcome[], ...window };
  }

  /**
   * Read-your-writes: wait, bounded, until the models include the position the client saw. `asks`
   * names the queries the answer makes: one of their read models stopped for good is refused at
   * once (in memory each model stops on its own; PostgreSQL's share one status).
   */
  private async readYourWrites(query: AnalyticsQueryDto, asks: readonly AnalyticsQueryName[]): Promise<void> {
    if (query.minPosition === undefined || this.queries.position() >= query.minPosition) return;
    // A position comes from a command's answer: one the log has not reached is a mistake, not a wait.
    const head = await this.store.headPosition();
    if (query.minPosition > head) {
      throw new ApiProblem('REQUEST.POSITION_BEYOND_LOG', `No event has position ${query.minPosition}: the log ends at ${head}. Pass the position a command answered.`, { minPosition: query.minPosition, head });
    }
    // A read side stopped for good never gets there: said at once, as the query itself would say it.
    const reads = readModelsOf(asks);
    this.refuseStopped(reads);
    if (await this.queries.waitFor(query.minPosition, this.settings.readYourWritesTimeoutMs)) return;
    this.refuseStopped(reads);
    const position = this.queries.position();
    throw new ApiProblem('PROJECTIONS.BEHIND', `The read models are at position ${position}, not yet at ${query.minPosition}; retry shortly.`, {
      position,
      minPosition: query.minPosition,
    });
  }

  /**
   * Says how to rebuild each model stopped, as the query itself does: this API's route for each (a
   * PostgreSQL read side rebuilds every model by any of them), or the projector's command where
   * another process projects.
   */
  private refuseStopped(reads: readonly string[]): void {
    const stopped = modelsStoppedForGood(this.queries.status(), reads);
    if (stopped.length === 0) return;
    const how = this.queries.rebuildInstruction(stopped.map((status) => status.name));
    throw new ReadModelUnavailableError('PROJECTIONS.FAILED', `The read models stopped (${stopped[0]!.failed}); an operator must fix the cause, then rebuild ${stopped.length === 1 ? 'it' : 'them'}${how}.`, stopped[0]!.name);
  }

  /** A caller limited to teams sees only those teams' figures: one team per query, named or implied. */
  private async scoped(query: AnalyticsQueryDto, principal: Principal): Promise<AnalyticsFilter> {
    const { processId, teamId, ownerId, from, to } = query;
    // An unknown process is a mistake to say, not an empty answer to give.
    if (processId !== undefined && !(await this.processes.exists(processId))) throw new ProcessNotFoundError(processId, this.processes.list().map((process) => process.definition.id));
    if (from !== undefined && to !== undefined && instantIsAfter(from, to)) {
      throw new ApiProblem('REQUEST.INVALID_PERIOD', `from (${from}) is after to (${to}).`, { from, to });
    }
    let team = teamId;
    if (principal.teams) {
      if (team === undefined && principal.teams.length === 1) team = principal.teams[0];
      if (team === undefined || !principal.teams.includes(team)) {
        const detail =
          principal.teams.length === 0 ? "This caller may see no team's figures: its key or token names no team." : `This caller sees only the teams ${principal.teams.join(', ')}; ask for one of them with teamId.`;
        throw new ApiProblem('AUTH.TEAM_FORBIDDEN', detail, {
          allowedTeams: principal.teams,
        });
      }
    }
    return { processId, teamId: team, ownerId, from, to };
  }

  /**
   * Makes one answer (`work`: its checks and queries) and sends it. X-Projection-Position is the
   * lowest position its queries read the read models at (answer-position.ts): never past what the
   * figures include, though the read side moves on while the answer is made.
   */
  private async answered<T>(query: AnalyticsQueryDto, request: FastifyRequest, reply: FastifyReply, csv: CsvTable<T>, work: () => Promise<T>): Promise<T | string> {
    // Before anything is read: a lower bound, should no query say where it read.
    const before = this.queries.position();
    const { value, position } = await readingPositions(work);
    return this.answer(value, position ?? before, csv, query, request, reply);
  }

  private answer<T>(result: T, position: number, csv: CsvTable<T>, query: AnalyticsQueryDto, request: FastifyRequest, reply: FastifyReply): T | string {
    // ?format= decides; without it, Accept does (its weights included), and one that takes
    // neither JSON nor CSV is told so rather than sent JSON it did not ask for.
    const accept = request.headers.accept;
    const type = query.format !== undefined ? (query.format === 'csv' ? 'text/csv' : 'application/json') : preferredMediaType(accept, ANSWER_TYPES);
    if (type === undefined) {
      throw new ApiProblem('REQUEST.NOT_ACCEPTABLE', `This route answers in application/json or text/csv (or ?format=csv); the Accept header ${quotedValue(accept ?? '', 100)} takes neither.`, { available: ANSWER_TYPES });
    }
    const wantsCsv = type === 'text/csv';
    void reply.header('x-projection-position', String(position));
    if (!wantsCsv) return result;
    void reply.header('content-type', 'text/csv; charset=utf-8');
    const rows = csv.rows(result);
    if (rows.length > 0) return toCsv(rows);
    return toCsv(rows, this.currencyRates ? [...csv.columns, ...(csv.convertedColumns ?? [])] : csv.columns);
  }
}

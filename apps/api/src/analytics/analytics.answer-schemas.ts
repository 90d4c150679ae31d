import type { SchemaObject } from '@nestjs/swagger';
import type {
  OpportunitySearchHit,
  OpportunitySearchResult,
  CalibrationBin,
  ClosedOpportunity,
  ClosedSection,
  ClosedWindow,
  Cohort,
  CohortsResult,
  ConvertedAmount,
  ConvertedFigures,
  CriteriaProgress,
  ForecastAccuracyPeriod,
  ForecastAccuracyResult,
  ForecastMoney,
  ForecastOpen,
  ForecastPeriod,
  ForecastResult,
  FunnelProcess,
  FunnelResult,
  FunnelStage,
  PipelineOpportunity,
  PipelineProcess,
  PipelineResult,
  PipelineStage,
  ReliabilityBin,
  RottingOpportunity,
  RottingResult,
  StageDurationStats,
  StageDurationsResult,
  TransitionsProcess,
  TransitionsResult,
  VelocityFigures,
  VelocityGroup,
  VelocityResult,
  WaterfallChange,
  WaterfallChangeOpportunity,
  WaterfallFigures,
  WaterfallOpen,
  WaterfallProcess,
  WaterfallResult,
  WaterfallStage,
  WinLossFigures,
  WinLossGroup,
  WinLossResult,
  WinProbabilityCalibrationResult,
} from '@stagecraft/contracts';
import { arrayOf, INSTANT, NULLABLE_INSTANT, NULLABLE_NUMBER, NULLABLE_STRING, NUMBER, objectSchema, STRING, STRINGS, WHOLE } from '../http/answer-schema';

// The figure routes' answers in the OpenAPI document (http/answer-schema.ts says why they are
// keyed by the contract types): a client generated from the document gets the figures' fields,
// not an object it must guess. Money is a map currency → amount throughout (libs/contracts).

const DAY: SchemaObject = { type: 'string', format: 'date' };
const NULLABLE_DAY: SchemaObject = { ...DAY, nullable: true };
const PERCENT: SchemaObject = { type: 'number', minimum: 0, maximum: 100 };
const NULLABLE_PERCENT: SchemaObject = { ...PERCENT, nullable: true };
/** A map whose keys the data decides (currencies, reasons, stages) and whose values are numbers. */
const NUMBERS_BY_KEY: SchemaObject = { type: 'object', additionalProperties: NUMBER };
const AMOUNTS_BY_CURRENCY: SchemaObject = { ...NUMBERS_BY_KEY, description: 'currency → sum ("unspecified": amounts without a currency); never added across currencies' };
const COUNTS_BY_KEY: SchemaObject = { type: 'object', additionalProperties: WHOLE };

const CONVERTED_AMOUNT = objectSchema<ConvertedAmount>(
  {
    currency: STRING,
    amount: NULLABLE_NUMBER,
    rateDate: DAY,
    rates: arrayOf(objectSchema<ConvertedAmount['rates'][number]>({ currency: STRING, rate: NUMBER, from: DAY })),
    missingRates: STRINGS,
  },
  [],
  'In the reporting currency of the currencies file, at the rates in force on rateDate',
);
const CONVERTED = objectSchema<ConvertedFigures>({ amount: CONVERTED_AMOUNT, weightedAmount: CONVERTED_AMOUNT, weightedAmountLearned: CONVERTED_AMOUNT }, ['weightedAmount', 'weightedAmountLearned'], 'With a currencies file only');

const CRITERIA_PROGRESS = objectSchema<CriteriaProgress>({ met: WHOLE, total: WHOLE });

const CARD_FIELDS = { id: STRING, title: STRING, ownerId: NULLABLE_STRING, teamId: NULLABLE_STRING, amount: NULLABLE_NUMBER, currency: NULLABLE_STRING } as const;

const PIPELINE_OPPORTUNITY = objectSchema<PipelineOpportunity>(
  {
    ...CARD_FIELDS,
    stageEnteredAt: INSTANT,
    expectedCloseDate: NULLABLE_DAY,
    daysInStage: WHOLE,
    rotting: { type: 'boolean' },
    winProbability: PERCENT,
    configuredProbability: PERCENT,
    criteria: CRITERIA_PROGRESS,
    processVersion: STRING,
  },
  ['daysInStage', 'rotting', 'winProbability', 'configuredProbability', 'criteria', 'processVersion'],
);

const PIPELINE_STAGE = objectSchema<PipelineStage>(
  {
    stageId: STRING,
    name: STRING,
    probability: PERCENT,
    count: WHOLE,
    amount: NULLABLE_NUMBER,
    amountsByCurrency: AMOUNTS_BY_CURRENCY,
    weightedAmount: NULLABLE_NUMBER,
    weightedAmountsByCurrency: AMOUNTS_BY_CURRENCY,
    rotAfterDays: NULLABLE_NUMBER,
    rotting: WHOLE,
    converted: CONVERTED,
    weightedAmountLearned: NULLABLE_NUMBER,
    weightedAmountsLearnedByCurrency: AMOUNTS_BY_CURRENCY,
    opportunities: arrayOf(PIPELINE_OPPORTUNITY),
    opportunitiesOmitted: WHOLE,
  },
  ['rotting', 'converted', 'weightedAmountLearned', 'weightedAmountsLearnedByCurrency', 'opportunities', 'opportunitiesOmitted'],
);

const CLOSED_OPPORTUNITY = objectSchema<ClosedOpportunity>(
  { ...CARD_FIELDS, closedAt: INSTANT, closedInStage: NULLABLE_STRING, lostReason: NULLABLE_STRING, nextSteps: NULLABLE_STRING, processVersion: STRING },
  ['lostReason', 'processVersion'],
);

const CLOSED_SECTION = objectSchema<ClosedSection>(
  { count: WHOLE, amount: NULLABLE_NUMBER, amountsByCurrency: AMOUNTS_BY_CURRENCY, converted: CONVERTED, opportunities: arrayOf(CLOSED_OPPORTUNITY) },
  ['converted', 'opportunities'],
);

const PIPELINE_PROCESS = objectSchema<PipelineProcess>({ processId: STRING, stages: arrayOf(PIPELINE_STAGE), won: CLOSED_SECTION, lost: CLOSED_SECTION }, ['won', 'lost']);

/** GET /pipeline; `asOf` only on the board as it stood at an instant. */
export const PIPELINE_SCHEMA = objectSchema<PipelineResult & { readonly asOf?: { readonly instant: string; readonly axis: string } }>(
  {
    processes: arrayOf(PIPELINE_PROCESS),
    closed: objectSchema<ClosedWindow>({ from: INSTANT, to: INSTANT, limit: WHOLE }),
    asOf: { type: 'object', required: ['instant', 'axis'], properties: { instant: INSTANT, axis: { type: 'string', enum: ['occurredAt'] } } },
  },
  ['closed', 'asOf'],
);

const RELIABILITY_BIN = objectSchema<ReliabilityBin>({ count: WHOLE, meanPredicted: NULLABLE_PERCENT, observedWinRate: NULLABLE_PERCENT });

export const CALIBRATION_SCHEMA = objectSchema<WinProbabilityCalibrationResult>({
  from: NULLABLE_INSTANT,
  to: NULLABLE_INSTANT,
  pseudoDeals: NUMBER,
  ageBucketsDays: arrayOf(NUMBER),
  estimates: WHOLE,
  won: WHOLE,
  brierLearned: NULLABLE_NUMBER,
  brierConfigured: NULLABLE_NUMBER,
  bins: arrayOf(objectSchema<CalibrationBin>({ from: NUMBER, to: NUMBER, learned: RELIABILITY_BIN, configured: RELIABILITY_BIN })),
});

const WIN_LOSS_FIELDS = {
  won: WHOLE,
  lost: WHOLE,
  winRate: NULLABLE_NUMBER,
  amountWon: NULLABLE_NUMBER,
  amountWonByCurrency: AMOUNTS_BY_CURRENCY,
  amountLost: NULLABLE_NUMBER,
  amountLostByCurrency: AMOUNTS_BY_CURRENCY,
  lostReasons: COUNTS_BY_KEY,
  wonReasons: COUNTS_BY_KEY,
  converted: objectSchema<NonNullable<WinLossFigures['converted']>>({ amountWon: CONVERTED_AMOUNT, amountLost: CONVERTED_AMOUNT }, [], 'With a currencies file only'),
} as const satisfies { readonly [field in keyof WinLossFigures]: SchemaObject };

export const WIN_LOSS_SCHEMA = objectSchema<WinLossResult>(
  {
    total: objectSchema<WinLossFigures>(WIN_LOSS_FIELDS, ['converted']),
    groups: arrayOf(objectSchema<WinLossGroup>({ key: NULLABLE_STRING, ...WIN_LOSS_FIELDS }, ['converted'])),
  },
  ['groups'],
);

const SECONDS: SchemaObject = { type: 'number', minimum: 0, nullable: true };

export const STAGE_DURATIONS_SCHEMA = objectSchema<StageDurationsResult>({
  processes: arrayOf({
    type: 'object',
    required: ['processId', 'stages'],
    properties: {
      processId: STRING,
      stages: arrayOf(
        objectSchema<StageDurationStats>({
          stageId: STRING,
          completed: objectSchema<StageDurationStats['completed']>({ count: WHOLE, meanSeconds: SECONDS, medianSeconds: SECONDS, p90Seconds: SECONDS }),
          open: objectSchema<StageDurationStats['open']>({ count: WHOLE, oldestAgeSeconds: SECONDS }),
        }),
      ),
    },
  }),
});

const FUNNEL_PROCESS = objectSchema<FunnelProcess>({
  processId: STRING,
  stages: arrayOf(objectSchema<FunnelStage>({ stageId: STRING, reached: WHOLE, conversionToNext: NULLABLE_NUMBER })),
  won: WHOLE,
  conversionLastToWon: NULLABLE_NUMBER,
});

export const FUNNEL_SCHEMA = objectSchema<FunnelResult>({ processes: arrayOf(FUNNEL_PROCESS) });

export const TRANSITIONS_SCHEMA = objectSchema<TransitionsResult>({
  processes: arrayOf(
    objectSchema<TransitionsProcess>({
      processId: STRING,
      stages: STRINGS,
      matrix: { type: 'object', description: 'from → to → count (won, lost and reopen among the targets and sources)', additionalProperties: COUNTS_BY_KEY },
    }),
  ),
});

const FORECAST_MONEY_FIELDS = { count: WHOLE, amountsByCurrency: AMOUNTS_BY_CURRENCY, converted: CONVERTED } as const satisfies { readonly [field in keyof ForecastMoney]: SchemaObject };
const FORECAST_MONEY = objectSchema<ForecastMoney>(FORECAST_MONEY_FIELDS, ['converted']);
const FORECAST_OPEN = objectSchema<ForecastOpen>(
  { ...FORECAST_MONEY_FIELDS, weightedAmountsByCurrency: AMOUNTS_BY_CURRENCY, weightedAmountsLearnedByCurrency: AMOUNTS_BY_CURRENCY },
  ['converted', 'weightedAmountsLearnedByCurrency'],
);
const PERIOD_KIND: SchemaObject = { type: 'string', enum: ['month', 'quarter'] };
const PERIOD_NAME: SchemaObject = { type: 'string', description: '2026-06 for a month, 2026-Q2 for a quarter' };

export const FORECAST_SCHEMA = objectSchema<ForecastResult>({
  period: PERIOD_KIND,
  asOf: NULLABLE_INSTANT,
  periods: arrayOf(objectSchema<ForecastPeriod>({ period: PERIOD_NAME, from: DAY, to: DAY, open: FORECAST_OPEN, won: FORECAST_MONEY })),
  withoutDate: FORECAST_OPEN,
});

export const FORECAST_ACCURACY_SCHEMA = objectSchema<ForecastAccuracyResult>({
  period: PERIOD_KIND,
  periods: arrayOf(objectSchema<ForecastAccuracyPeriod>({ period: PERIOD_NAME, from: DAY, to: DAY, forecast: FORECAST_OPEN, won: FORECAST_MONEY, forecastWon: WHOLE })),
});

export const ROTTING_SCHEMA = objectSchema<RottingResult>({
  at: INSTANT,
  count: WHOLE,
  opportunities: arrayOf(
    objectSchema<RottingOpportunity>({
      id: STRING,
      title: STRING,
      processId: STRING,
      stageId: STRING,
      stageEnteredAt: INSTANT,
      daysInStage: WHOLE,
      rotAfterDays: NUMBER,
      ownerId: NULLABLE_STRING,
      teamId: NULLABLE_STRING,
      amount: NULLABLE_NUMBER,
      currency: NULLABLE_STRING,
      expectedCloseDate: NULLABLE_DAY,
    }),
  ),
});

const WATERFALL_OPEN = objectSchema<WaterfallOpen>({ count: WHOLE, amountsByCurrency: AMOUNTS_BY_CURRENCY, weightedAmountsByCurrency: AMOUNTS_BY_CURRENCY });
const waterfallChange = (buckets: readonly string[]) =>
  objectSchema<WaterfallChange<string>>(
    {
      bucket: { type: 'string', enum: [...buckets] },
      count: { type: 'integer' },
      amountsByCurrency: AMOUNTS_BY_CURRENCY,
      steps: WHOLE,
      opportunities: arrayOf(
        objectSchema<WaterfallChangeOpportunity>({ id: STRING, title: STRING, at: INSTANT, count: { type: 'integer', minimum: -1, maximum: 1 }, amount: NULLABLE_NUMBER, currency: NULLABLE_STRING }),
      ),
    },
    ['opportunities'],
  );
const WATERFALL_FIELDS = {
  start: WATERFALL_OPEN,
  changes: arrayOf(waterfallChange(['created', 'reopened', 'movedIn', 'amountIncreased', 'amountDecreased', 'movedOut', 'won', 'lost', 'stageIn', 'stageOut'])),
  memos: arrayOf(waterfallChange(['pushedOut', 'pulledIn'])),
  end: WATERFALL_OPEN,
} as const satisfies { readonly [field in keyof WaterfallFigures]: SchemaObject };

export const WATERFALL_SCHEMA = objectSchema<WaterfallResult>(
  {
    ...WATERFALL_FIELDS,
    from: INSTANT,
    to: INSTANT,
    processes: arrayOf(
      objectSchema<WaterfallProcess>({ processId: STRING, stages: arrayOf(objectSchema<WaterfallStage>({ stageId: STRING, name: STRING, ...WATERFALL_FIELDS })) }),
    ),
    nextFromChange: { type: 'string', nullable: true, description: 'With include=opportunities: pass back as ?fromChange= for the next page; null on the last' },
  },
  ['processes', 'nextFromChange'],
);

const VELOCITY_FIELDS = {
  opportunities: WHOLE,
  won: WHOLE,
  lost: WHOLE,
  winRate: NULLABLE_NUMBER,
  averageWonAmountsByCurrency: AMOUNTS_BY_CURRENCY,
  averageCycleDays: NULLABLE_NUMBER,
  velocityByCurrency: AMOUNTS_BY_CURRENCY,
} as const satisfies { readonly [field in keyof VelocityFigures]: SchemaObject };

export const VELOCITY_SCHEMA = objectSchema<VelocityResult>(
  { from: INSTANT, to: INSTANT, total: objectSchema<VelocityFigures>(VELOCITY_FIELDS), groups: arrayOf(objectSchema<VelocityGroup>({ key: NULLABLE_STRING, ...VELOCITY_FIELDS })) },
  ['groups'],
);

export const COHORTS_SCHEMA = objectSchema<CohortsResult>({
  by: { type: 'string', enum: ['month'] },
  cohorts: arrayOf(
    objectSchema<Cohort>({ cohort: { type: 'string', description: 'UTC month of opening: 2026-03' }, opened: WHOLE, won: WHOLE, medianDaysToWin: NULLABLE_NUMBER, processes: arrayOf(FUNNEL_PROCESS) }),
  ),
});

export const SEARCH_SCHEMA = objectSchema<OpportunitySearchResult>({
  opportunities: arrayOf(
    objectSchema<OpportunitySearchHit>({
      id: STRING,
      title: STRING,
      processId: STRING,
      processVersion: STRING,
      status: { type: 'string', enum: ['open', 'won', 'lost'] },
      stageId: NULLABLE_STRING,
      closedAt: NULLABLE_INSTANT,
      ownerId: NULLABLE_STRING,
      teamId: NULLABLE_STRING,
      amount: NULLABLE_NUMBER,
      currency: NULLABLE_STRING,
    }),
  ),
  next: NULLABLE_STRING,
});

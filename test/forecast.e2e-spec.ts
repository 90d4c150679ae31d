import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { readCsvRecords } from '@stagecraft/csv';
import { PIPELINE_CSV, ROTTING_CSV, WIN_LOSS_CSV } from '../apps/api/src/analytics/analytics.rows';

// Issue 15 end to end: expected close dates, the forecast (now and as of an instant), its accuracy,
// rotting deals, won reasons; money per currency. Runs on every store and read side the jest
// projects give it (SQLite / KurrentDB, in-memory / PostgreSQL read models).

const at = (month: number, day: number, hour = 9) => new Date(Date.UTC(2026, month - 1, day, hour)).toISOString();
/** The read side's per-currency figures alone: the API's converted totals (a currencies file is set here) are checked in their own test. */
const perCurrency = <T>(answer: T): T => JSON.parse(JSON.stringify(answer, (key, value: unknown) => (key === 'converted' ? undefined : value))) as T;
const NOW = new Date(at(3, 1, 12));

const QUICK = `
id: quick
name: Quick deals
stages:
  - { id: talk, name: Talk, probability: 20, rotAfterDays: 10 }
  - { id: sign, name: Sign, probability: 80, rotAfterDays: 5 }
rules: { winFrom: [talk, sign] }
lostReasons: [price]
wonReasons: [price, relationship]
`;

// 1 USD = 0.9 EUR in January and February, 0.8 from March.
const CURRENCIES = `
reportingCurrency: EUR
rates:
  USD:
    - { from: 2026-01-01, rate: 0.9 }
    - { from: 2026-03-01, rate: 0.8 }
`;

describe('forecast, rotting deals and won reasons (end to end)', () => {
  const dir = temporaryDirectory();
  let api: ApiTestApp & { keys: Record<string, string> };
  let lastPosition = 0;
  const ids: Record<string, string> = {};

  const send = async (method: 'post' | 'patch', path: string, body: object) => {
    const response = await api.http[method](path).send(body);
    expect({ path, status: response.status, body: response.status < 300 ? undefined : response.body }).toMatchObject({ status: method === 'post' && path === '/opportunities' ? 201 : 200 });
    lastPosition = response.body.position;
    return response.body as { id: string };
  };
  const analyst = (path: string) => api.anonymous.get(`${path}${path.includes('?') ? '&' : '?'}minPosition=${lastPosition}`).set('Authorization', `Bearer ${api.keys.analyst}`);

  beforeAll(async () => {
    const processesDir = join(dir.path, 'processes');
    mkdirSync(processesDir);
    writeFileSync(join(processesDir, 'quick.yaml'), QUICK);
    writeFileSync(join(dir.path, 'currencies.yaml'), CURRENCIES);
    api = await startApiTestApp({
      eventStorePath: `${dir.path}/events.db`,
      processesDir,
      clock: () => NOW,
      env: { READ_MODELS_PATH: `${dir.path}/read-models.db`, READ_YOUR_WRITES_TIMEOUT_MS: '2000', CURRENCIES_FILE: join(dir.path, 'currencies.yaml') },
      extraKeys: [{ name: 'analyst', roles: ['analyst'] }],
    });
    const open = async (name: string, body: object) => (ids[name] = (await send('post', '/opportunities', { title: name, processId: 'quick', ...body })).id);
    await open('A', { amount: 1000, currency: 'EUR', expectedCloseDate: '2026-02-15', occurredAt: at(1, 5) });
    await open('B', { amount: 3000, currency: 'USD', expectedCloseDate: '2026-02-20', occurredAt: at(1, 5, 10) });
    await send('post', `/opportunities/${ids.B}/move`, { stage: 'sign', occurredAt: at(1, 10) });
    await send('patch', `/opportunities/${ids.B}`, { expectedCloseDate: '2026-03-10', occurredAt: at(2, 1) });
    await open('C', { amount: 500, currency: 'EUR', occurredAt: at(1, 6) });
    await open('D', { amount: 700, currency: 'EUR', expectedCloseDate: '2026-01-31', occurredAt: at(1, 5, 11) });
    await send('post', `/opportunities/${ids.D}/win`, { reason: 'relationship', occurredAt: at(1, 20) });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it('records each expected close date as its own event, shown on the opportunity and in its history', async () => {
    const b = (await api.http.get(`/opportunities/${ids.B}`).expect(200)).body;
    expect(b).toMatchObject({ expectedCloseDate: '2026-03-10', wonReason: null });
    const history = (await api.http.get(`/opportunities/${ids.B}/history`).expect(200)).body.events as { type: string; data: Record<string, unknown> }[];
    expect(history.filter((event) => event.type === 'ExpectedCloseDateChanged').map((event) => [event.data.from, event.data.to])).toEqual([
      [null, '2026-02-20'],
      ['2026-02-20', '2026-03-10'],
    ]);
    await send('patch', `/opportunities/${ids.C}`, { expectedCloseDate: null, occurredAt: at(1, 7) }); // nothing set: nothing recorded
    expect((await api.http.get(`/opportunities/${ids.C}`).expect(200)).body).toMatchObject({ expectedCloseDate: null, revision: 0 });
  });

  it('refuses a date that is not a real calendar date with 400 OPPORTUNITY.INVALID_EXPECTED_CLOSE_DATE, on open and on PATCH', async () => {
    for (const expectedCloseDate of ['2026-02-30', '2026-06-30T00:00:00Z', 'soon']) {
      const opened = await api.http.post('/opportunities').send({ title: 'X', processId: 'quick', expectedCloseDate }).expect(400);
      expect(opened.body).toMatchObject({ code: 'OPPORTUNITY.INVALID_EXPECTED_CLOSE_DATE', expectedCloseDate });
      expect((await api.http.patch(`/opportunities/${ids.A}`).send({ expectedCloseDate }).expect(400)).body.code).toBe('OPPORTUNITY.INVALID_EXPECTED_CLOSE_DATE');
    }
    expect((await api.http.patch(`/opportunities/${ids.A}`).send({ expectedCloseDate: 20260630 }).expect(400)).body.code).toBe('REQUEST.VALIDATION_FAILED');
  });

  it('wins with one of the process\'s won reasons; refuses none or another with 422', async () => {
    expect((await api.http.get(`/opportunities/${ids.D}`).expect(200)).body).toMatchObject({ status: 'won', wonReason: 'relationship' });
    const { id } = await send('post', '/opportunities', { title: 'E', processId: 'quick', occurredAt: at(1, 8) });
    expect((await api.http.post(`/opportunities/${id}/win`).send({}).expect(422)).body).toMatchObject({ code: 'OPPORTUNITY.WON_REASON_REQUIRED', wonReasons: ['price', 'relationship'] });
    expect((await api.http.post(`/opportunities/${id}/win`).send({ reason: 'luck' }).expect(422)).body).toMatchObject({ code: 'OPPORTUNITY.INVALID_WON_REASON', reason: 'luck' });
    await send('post', `/opportunities/${id}/lose`, { reason: 'price', occurredAt: at(1, 9) });
  });

  it('forecasts by month of the expected close date, per currency, with won so far and the deals without a date', async () => {
    const forecast = perCurrency((await analyst('/analytics/forecast?processId=quick').expect(200)).body);
    expect(forecast).toEqual({
      period: 'month',
      asOf: null,
      periods: [
        { period: '2026-01', from: '2026-01-01', to: '2026-01-31', open: { count: 0, amountsByCurrency: {}, weightedAmountsByCurrency: {} }, won: { count: 1, amountsByCurrency: { EUR: 700 } } },
        { period: '2026-02', from: '2026-02-01', to: '2026-02-28', open: { count: 1, amountsByCurrency: { EUR: 1000 }, weightedAmountsByCurrency: { EUR: 200 } }, won: { count: 0, amountsByCurrency: {} } },
        { period: '2026-03', from: '2026-03-01', to: '2026-03-31', open: { count: 1, amountsByCurrency: { USD: 3000 }, weightedAmountsByCurrency: { USD: 2400 } }, won: { count: 0, amountsByCurrency: {} } },
      ],
      withoutDate: { count: 1, amountsByCurrency: { EUR: 500 }, weightedAmountsByCurrency: { EUR: 100 } },
    });
    const quarter = perCurrency((await analyst('/analytics/forecast?period=quarter&from=2026-01-01T00:00:00Z&to=2026-03-31T23:59:59Z').expect(200)).body);
    expect(quarter.periods).toEqual([
      { period: '2026-Q1', from: '2026-01-01', to: '2026-03-31', open: { count: 2, amountsByCurrency: { EUR: 1000, USD: 3000 }, weightedAmountsByCurrency: { EUR: 200, USD: 2400 } }, won: { count: 1, amountsByCurrency: { EUR: 700 } } },
    ]);
    const february = (await analyst('/analytics/forecast?from=2026-02-01T00:00:00Z&to=2026-02-28T23:59:59Z').expect(200)).body;
    expect(february.periods.map((p: { period: string }) => p.period)).toEqual(['2026-02']);
  });

  it('gives the forecast as it stood at an instant (?asOf=)', async () => {
    const then = perCurrency((await analyst(`/analytics/forecast?asOf=${at(1, 15)}`).expect(200)).body);
    expect(then.asOf).toBe(at(1, 15));
    expect(then.periods).toEqual([
      { period: '2026-01', from: '2026-01-01', to: '2026-01-31', open: { count: 1, amountsByCurrency: { EUR: 700 }, weightedAmountsByCurrency: { EUR: 140 } }, won: { count: 0, amountsByCurrency: {} } },
      { period: '2026-02', from: '2026-02-01', to: '2026-02-28', open: { count: 2, amountsByCurrency: { EUR: 1000, USD: 3000 }, weightedAmountsByCurrency: { EUR: 200, USD: 2400 } }, won: { count: 0, amountsByCurrency: {} } },
    ]);
  });

  it('answers forecast accuracy: what was forecast at the start of each period against what was won in it', async () => {
    const accuracy = (await analyst('/analytics/forecast-accuracy').expect(200)).body;
    expect(accuracy.periods.map((p: { period: string; forecast: { count: number; amountsByCurrency: object }; won: { count: number }; forecastWon: number }) => [p.period, p.forecast.count, p.forecast.amountsByCurrency, p.won.count, p.forecastWon])).toEqual([
      ['2026-01', 0, {}, 1, 0],
      ['2026-02', 2, { EUR: 1000, USD: 3000 }, 0, 0],
      ['2026-03', 1, { USD: 3000 }, 0, 0],
    ]);
    expect((await analyst('/analytics/forecast-accuracy?asOf=2026-01-01T00:00:00Z').expect(400)).body.code).toBe('REQUEST.VALIDATION_FAILED');
  });

  it('lists rotting deals, longest in their stage first, now and as of an instant', async () => {
    const now = (await analyst('/analytics/rotting').expect(200)).body;
    expect(now.at).toBe(NOW.toISOString());
    expect(now.opportunities.map((o: { title: string; stageId: string; daysInStage: number; rotAfterDays: number }) => [o.title, o.stageId, o.daysInStage, o.rotAfterDays])).toEqual([
      ['A', 'talk', 55, 10],
      ['C', 'talk', 54, 10],
      ['B', 'sign', 50, 5],
    ]);
    expect(now.opportunities[2]).toMatchObject({ expectedCloseDate: '2026-03-10', amount: 3000, currency: 'USD', stageEnteredAt: at(1, 10) });
    expect((await analyst(`/analytics/rotting?asOf=${at(1, 14)}`).expect(200)).body).toMatchObject({ count: 0, opportunities: [] });
    const later = (await analyst(`/analytics/rotting?asOf=${at(1, 16, 10)}&limit=2`).expect(200)).body;
    // D was still open then (won on the 20th): A, D, C, B, the first two listed.
    expect(later.count).toBe(4);
    expect(later.opportunities.map((o: { title: string; daysInStage: number }) => [o.title, o.daysInStage])).toEqual([['A', 11], ['D', 10]]);
    expect((await analyst('/analytics/rotting?from=2026-01-01T00:00:00Z').expect(400)).body.code).toBe('REQUEST.VALIDATION_FAILED');
  });

  it('answers CSV with a line per period and currency, never a sum across currencies', async () => {
    const csv = (await analyst('/analytics/forecast?period=quarter&format=csv').expect(200)).text;
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('period,from,to,openCount,wonCount,currency,openAmount,weightedAmount,wonAmount');
    expect(lines.slice(1)).toEqual(['2026-Q1,2026-01-01,2026-03-31,2,1,EUR,1000,200,700', '2026-Q1,2026-01-01,2026-03-31,2,1,USD,3000,2400,0', 'without date,,,1,,EUR,500,100,']);
    const rotting = (await analyst('/analytics/rotting?format=csv').expect(200)).text.trim().split('\r\n');
    expect(rotting).toHaveLength(4);
    // Nothing rotting then: the header alone, the same as with rows (a reader takes its columns from it).
    expect(rotting[0]).toBe(ROTTING_CSV.columns.join(','));
    expect((await analyst(`/analytics/rotting?asOf=${at(1, 14)}&format=csv`).expect(200)).text).toBe(`${rotting[0]}\r\n`);
  });

  // Last: it closes two more deals, which the figures above must not see.
  it('never adds EUR to USD: the board and win/loss answer per currency, with a converted total labelled with its rates; cards carry rotting marks and next steps', async () => {
    type Card = { title: string; daysInStage: number; rotting: boolean; expectedCloseDate: string | null; nextSteps?: string | null };
    const talk = (await analyst('/pipeline?processId=quick&include=opportunities').expect(200)).body.processes[0].stages[0];
    // A (EUR 1000) and C (EUR 500) in Talk: one currency, one total; rotAfterDays 10 and 55/54 days in it.
    expect(talk).toMatchObject({ stageId: 'talk', count: 2, amount: 1500, amountsByCurrency: { EUR: 1500 }, rotAfterDays: 10, rotting: 2 });
    // As of an instant: none on 14 January; A (in Talk since the 5th, 09:00) on the 15th at 10:00; A, D and C on the 16th at 10:00.
    const then = async (instant: string) => (await analyst(`/pipeline?processId=quick&asOf=${instant}`).expect(200)).body.processes[0].stages[0].rotting;
    expect([await then(at(1, 14)), await then(at(1, 15, 10)), await then(at(1, 16, 10))]).toEqual([0, 1, 3]);
    expect(talk.opportunities.map((card: Card) => [card.title, card.daysInStage, card.rotting, card.expectedCloseDate])).toEqual([
      ['A', 55, true, '2026-02-15'],
      ['C', 54, true, null],
    ]);
    const g = await send('post', '/opportunities', { title: 'G', processId: 'quick', amount: 200, currency: 'USD', occurredAt: at(2, 27) });
    const h = await send('post', '/opportunities', { title: 'H', processId: 'quick', amount: 50, currency: 'EUR', occurredAt: at(2, 28) });
    const mixed = (await analyst('/pipeline?processId=quick&include=opportunities').expect(200)).body.processes[0].stages[0];
    expect(mixed).toMatchObject({ count: 4, amount: null, amountsByCurrency: { EUR: 1550, USD: 200 }, weightedAmount: null, weightedAmountsByCurrency: { EUR: 310, USD: 40 } });
    // Converted at today's rates (1 March: 0.8), labelled with them.
    expect(mixed.converted.amount).toEqual({ currency: 'EUR', amount: 1550 + 200 * 0.8, rateDate: '2026-03-01', rates: [{ currency: 'USD', rate: 0.8, from: '2026-03-01' }], missingRates: [] });
    expect(mixed.opportunities.find((card: Card) => card.title === 'H')).toMatchObject({ daysInStage: 1, rotting: false });
    // With a currencies file, the CSV's converted columns follow the others, in an answer with rows
    // as in one without (win-loss by month before anything closed).
    const withRows = (await analyst('/pipeline?processId=quick&format=csv').expect(200)).text.split('\r\n')[0];
    expect(withRows).toBe([...PIPELINE_CSV.columns, ...PIPELINE_CSV.convertedColumns!].join(','));
    const winLossHeader = (path: string) => analyst(path).expect(200).then((answer) => answer.text.split('\r\n')[0]);
    expect(await winLossHeader('/analytics/win-loss?groupBy=month&format=csv')).toBe([...WIN_LOSS_CSV.columns, ...WIN_LOSS_CSV.convertedColumns!].join(','));
    expect(await winLossHeader('/analytics/win-loss?groupBy=month&to=2000-01-01T00:00:00Z&format=csv')).toBe([...WIN_LOSS_CSV.columns, ...WIN_LOSS_CSV.convertedColumns!].join(','));

    await send('post', `/opportunities/${g.id}/lose`, { reason: 'price', nextSteps: 'Call again in Q3', occurredAt: at(2, 28, 12) });
    await send('post', `/opportunities/${h.id}/win`, { reason: 'price', nextSteps: 'Kick-off on Monday', occurredAt: at(2, 28, 13) });
    const closed = (await analyst('/pipeline?processId=quick&include=opportunities&closed=won,lost&closedFrom=2026-02-01T00:00:00Z&closedTo=2026-02-28T23:59:59Z').expect(200)).body.processes[0];
    expect(closed.won.opportunities.map((card: Card) => [card.title, card.nextSteps])).toEqual([['H', 'Kick-off on Monday']]);
    expect(closed.lost.opportunities.map((card: Card) => [card.title, card.nextSteps])).toEqual([['G', 'Call again in Q3']]);
    // Closed sections convert at the last day of their window (28 February: 0.9).
    expect(closed.lost.converted.amount).toMatchObject({ amount: 180, rateDate: '2026-02-28' });
    expect((await api.http.get(`/opportunities/${g.id}`).expect(200)).body).toMatchObject({ status: 'lost', nextSteps: 'Call again in Q3' });
    const timeline = (await api.http.get(`/opportunities/${g.id}/history?view=timeline`).expect(200)).body.steps as { kind: string; nextSteps: string | null }[];
    expect(timeline.at(-1)).toMatchObject({ kind: 'lost', nextSteps: 'Call again in Q3' });

    const winLoss = (await analyst('/analytics/win-loss?processId=quick').expect(200)).body.total;
    // Won D (EUR 700, relationship) and H (EUR 50, price); lost E (no amount) and G (USD 200).
    expect(winLoss).toMatchObject({
      won: 2,
      lost: 2,
      amountWon: 750,
      amountWonByCurrency: { EUR: 750 },
      amountLost: 200,
      amountLostByCurrency: { USD: 200 },
      wonReasons: { price: 1, relationship: 1 },
      lostReasons: { price: 2 },
    });
    expect(winLoss.converted).toMatchObject({ amountWon: { amount: 750 }, amountLost: { amount: 160, rateDate: '2026-03-01' } });
    const csv = (await analyst('/analytics/win-loss?processId=quick&format=csv').expect(200)).text.trim().split('\r\n');
    expect(csv[0]).toBe('group,won,lost,winRate,amountWon,amountWonByCurrency,amountLost,amountLostByCurrency,lostReasons,wonReasons,line,convertedCurrency,convertedAmountWon,convertedAmountLost,rateDate,ratesUsed,missingRates');
    // The forecast converts every period at the rates of its own day (today: 1 March, 0.8); as of
    // 20 February, at that day's rates (0.9).
    await send('post', '/opportunities', { title: 'I', processId: 'quick', amount: 300, currency: 'USD', expectedCloseDate: '2026-03-20', occurredAt: at(2, 28, 14) });
    type Money = { amountsByCurrency: Record<string, number>; converted: { amount: { amount: number | null; rateDate: string } } };
    const atRate = (money: Money, rate: number) => Object.entries(money.amountsByCurrency).reduce((sum, [currency, amount]) => sum + (currency === 'USD' ? amount * rate : amount), 0);
    for (const [query, rate, day] of [['', 0.8, '2026-03-01'], [`&asOf=${at(2, 20)}`, 0.9, '2026-02-20']] as const) {
      const forecast = (await analyst(`/analytics/forecast?processId=quick${query}`).expect(200)).body as { periods: { open: Money; won: Money }[]; withoutDate: Money };
      const figures = [...forecast.periods.flatMap((period) => [period.open, period.won]), forecast.withoutDate];
      expect(figures.some((money) => 'USD' in money.amountsByCurrency)).toBe(true);
      for (const money of figures) expect(money.converted.amount).toMatchObject({ amount: expect.closeTo(atRate(money, rate), 6), rateDate: day });
      // The learned weighted amounts are converted beside the configured ones, at the same day's rates.
      type Learned = { weightedAmountsLearnedByCurrency: Record<string, number>; converted: { weightedAmountLearned?: { amount: number | null; rateDate: string } } };
      const learned = (await analyst(`/analytics/forecast?processId=quick&include=learned${query}`).expect(200)).body as { periods: { open: Learned }[]; withoutDate: Learned };
      const opens = [...learned.periods.map((period) => period.open), learned.withoutDate];
      expect(opens.some((open) => 'USD' in open.weightedAmountsLearnedByCurrency)).toBe(true);
      for (const open of opens) {
        expect(open.converted.weightedAmountLearned).toMatchObject({ amount: expect.closeTo(atRate({ amountsByCurrency: open.weightedAmountsLearnedByCurrency } as Money, rate), 6), rateDate: day });
      }
      // And per stage of the board (as of an instant too).
      type Stage = { weightedAmountsLearnedByCurrency: Record<string, number>; converted: { weightedAmountLearned?: { amount: number | null; rateDate: string } } };
      const board = (await analyst(`/pipeline?processId=quick${query}`).expect(200)).body as { processes: { stages: Stage[] }[] };
      const stages = board.processes.flatMap((process) => process.stages);
      expect(stages.some((stage) => 'USD' in stage.weightedAmountsLearnedByCurrency)).toBe(true);
      for (const stage of stages) {
        expect(stage.converted.weightedAmountLearned).toMatchObject({ amount: expect.closeTo(atRate({ amountsByCurrency: stage.weightedAmountsLearnedByCurrency } as Money, rate), 6), rateDate: day });
      }
    }
  });
});

// At the edges of today and of the currencies file: a window that ends after today, a currency the
// file has no rate for, periods still to come. The board's Won/Lost columns, win/loss and their CSV
// must say the same about the same deals.
describe('closed deals converted, and forecast accuracy, at the edges of today (end to end)', () => {
  const dir = temporaryDirectory();
  let api: ApiTestApp & { keys: Record<string, string> };
  let lastPosition = 0;
  const NOW_MONEY = new Date(at(3, 1, 12));
  // USD: 0.9 from January, 0.8 from March (today), 0.5 from December (a rate set ahead); JPY: none.
  const RATES = `
reportingCurrency: EUR
rates:
  USD:
    - { from: 2026-01-01, rate: 0.9 }
    - { from: 2026-03-01, rate: 0.8 }
    - { from: 2026-12-01, rate: 0.5 }
`;
  const send = async (path: string, body: object) => {
    const response = await api.http.post(path).send(body);
    expect({ path, status: response.status, body: response.status < 300 ? undefined : response.body }).toMatchObject({ status: path === '/opportunities' ? 201 : 200 });
    lastPosition = response.body.position;
    return response.body as { id: string };
  };
  const analyst = (path: string) => api.anonymous.get(`${path}${path.includes('?') ? '&' : '?'}minPosition=${lastPosition}`).set('Authorization', `Bearer ${api.keys.analyst}`);

  beforeAll(async () => {
    const processesDir = join(dir.path, 'processes');
    mkdirSync(processesDir);
    writeFileSync(join(processesDir, 'quick.yaml'), QUICK);
    writeFileSync(join(dir.path, 'currencies.yaml'), RATES);
    api = await startApiTestApp({
      eventStorePath: `${dir.path}/events.db`,
      processesDir,
      clock: () => NOW_MONEY,
      env: { READ_MODELS_PATH: `${dir.path}/read-models.db`, READ_YOUR_WRITES_TIMEOUT_MS: '2000', CURRENCIES_FILE: join(dir.path, 'currencies.yaml') },
      extraKeys: [{ name: 'analyst', roles: ['analyst'] }],
    });
    const usd = await send('/opportunities', { title: 'U', processId: 'quick', amount: 100, currency: 'USD', occurredAt: at(1, 5) });
    await send(`/opportunities/${usd.id}/lose`, { reason: 'price', occurredAt: at(2, 10) });
    const eur = await send('/opportunities', { title: 'E', processId: 'quick', amount: 40, currency: 'EUR', occurredAt: at(1, 6) });
    await send(`/opportunities/${eur.id}/win`, { reason: 'price', occurredAt: at(2, 11) });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it('converts closed deals at today\'s rates when their window ends later, on the board and in win/loss alike', async () => {
    const yearEnd = '2026-12-31T23:59:59Z';
    const board = (await analyst(`/pipeline?processId=quick&closed=won,lost&closedFrom=2026-01-01T00:00:00Z&closedTo=${yearEnd}`).expect(200)).body.processes[0];
    const winLoss = (await analyst(`/analytics/win-loss?processId=quick&from=2026-01-01T00:00:00Z&to=${yearEnd}`).expect(200)).body.total;
    // Lost U (USD 100) closed on 10 February: the December rate was not in force for it, today's is.
    const today = { currency: 'EUR', amount: 80, rateDate: '2026-03-01', rates: [{ currency: 'USD', rate: 0.8, from: '2026-03-01' }], missingRates: [] };
    expect(board.lost.converted.amount).toEqual(today);
    expect(winLoss.converted.amountLost).toEqual(today);
    expect(board.won.converted.amount).toEqual({ ...today, amount: 40, rates: [] });
    // A window that ended before today still converts at its own last day.
    const february = (await analyst('/pipeline?processId=quick&closed=lost&closedFrom=2026-02-01T00:00:00Z&closedTo=2026-02-28T23:59:59Z').expect(200)).body.processes[0];
    expect(february.lost.converted.amount).toMatchObject({ amount: 90, rateDate: '2026-02-28' });
  });

  it('measures forecast accuracy only for periods that have begun: no forecast stood yet at a first instant still to come', async () => {
    await send('/opportunities', { title: 'March', processId: 'quick', amount: 10, currency: 'EUR', expectedCloseDate: '2026-03-20', occurredAt: at(2, 20) });
    await send('/opportunities', { title: 'April', processId: 'quick', amount: 20, currency: 'EUR', expectedCloseDate: '2026-04-15', occurredAt: at(2, 20) });
    type Period = { period: string; forecast: { count: number } };
    const periods = async (query: string) => ((await analyst(`/analytics/forecast-accuracy?processId=quick${query}`).expect(200)).body.periods as Period[]).map((p) => [p.period, p.forecast.count]);
    // March began this morning (00:00 UTC): its forecast stood then. April's first instant is still ahead.
    expect(await periods('')).toEqual([
      ['2026-02', 0],
      ['2026-03', 1],
    ]);
    // Q1's forecast stood on 1 January, before either deal was opened; Q2 begins in April.
    expect(await periods('&period=quarter')).toEqual([['2026-Q1', 0]]);
    expect(await periods('&from=2026-04-01T00:00:00Z')).toEqual([]);
    const csv = (await analyst('/analytics/forecast-accuracy?processId=quick&format=csv').expect(200)).text;
    expect(csv).not.toContain('2026-04');
    // The forecast itself still shows April: it is what is expected, not a measure of it.
    expect(((await analyst('/analytics/forecast?processId=quick').expect(200)).body.periods as { period: string }[]).map((p) => p.period)).toContain('2026-04');
  });

  it('converts the board and the forecast as of an instant still to come at today\'s rates, not at a rate set ahead', async () => {
    await send('/opportunities', { title: 'Open USD', processId: 'quick', amount: 100, currency: 'USD', expectedCloseDate: '2026-05-10', occurredAt: at(2, 25) });
    // Nothing is recorded after now: the board and the forecast as of 15 December are today's, and
    // December's 0.5 is a rate no forecast made today can know.
    const december = '2026-12-15T00:00:00Z';
    const today = { rateDate: '2026-03-01', rates: [{ currency: 'USD', rate: 0.8, from: '2026-03-01' }] };
    type Converted = { converted: { amount: { amount: number | null; rateDate: string; rates: unknown[] } }; amountsByCurrency: Record<string, number> };
    const atToday = (money: Converted) => Object.entries(money.amountsByCurrency).reduce((sum, [currency, amount]) => sum + amount * (currency === 'USD' ? 0.8 : 1), 0);
    const column = (await analyst(`/pipeline?processId=quick&asOf=${december}`).expect(200)).body.processes[0].stages[0] as Converted;
    expect(column.amountsByCurrency).toMatchObject({ USD: 100 });
    expect(column.converted.amount).toMatchObject({ ...today, amount: atToday(column) });
    const forecast = (await analyst(`/analytics/forecast?processId=quick&asOf=${december}`).expect(200)).body as { periods: { period: string; open: Converted }[] };
    const may = forecast.periods.find((period) => period.period === '2026-05')!;
    expect(may.open.converted.amount).toMatchObject({ ...today, amount: 80 });
    // An instant already past keeps its own day's rates.
    expect((await analyst(`/pipeline?processId=quick&asOf=${at(2, 27)}`).expect(200)).body.processes[0].stages[0].converted.amount).toMatchObject({ rateDate: '2026-02-27', rates: [{ currency: 'USD', rate: 0.9, from: '2026-01-01' }] });
  });

  // Last: it closes a deal in a currency the file has no rate for.
  it('names in CSV, as in JSON, the currencies a converted total could not convert', async () => {
    const yen = await send('/opportunities', { title: 'Y', processId: 'quick', amount: 5000, currency: 'JPY', occurredAt: at(1, 7) });
    await send(`/opportunities/${yen.id}/lose`, { reason: 'price', occurredAt: at(2, 12) });
    const csvOf = async (path: string) => {
      const records: string[][] = [];
      for await (const record of readCsvRecords([(await analyst(path).expect(200)).text])) records.push([...record.cells]);
      const [header, ...rows] = records;
      return rows.map((cells) => Object.fromEntries(header!.map((column, i) => [column, cells[i]])));
    };
    const board = '/pipeline?processId=quick&closed=lost';
    const lost = (await analyst(board).expect(200)).body.processes[0].lost.converted.amount;
    expect(lost).toMatchObject({ amount: null, missingRates: ['JPY'] });
    expect((await csvOf(`${board}&format=csv`)).find((row) => row.stageId === 'lost')).toMatchObject({ convertedAmount: '', missingRates: JSON.stringify(lost.missingRates) });
    // win/loss: the currencies neither total could convert, once each (JPY is lost only; nothing is won in JPY).
    const winLoss = (await analyst('/analytics/win-loss?processId=quick').expect(200)).body.total.converted;
    expect([winLoss.amountWon.missingRates, winLoss.amountLost.missingRates]).toEqual([[], ['JPY']]);
    expect(await csvOf('/analytics/win-loss?processId=quick&format=csv')).toEqual([expect.objectContaining({ convertedAmountWon: '40', convertedAmountLost: '', missingRates: '["JPY"]' })]);
  });
});

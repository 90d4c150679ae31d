import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';

// Every time bound of the read side, given finer than the millisecond the read models keep.
// Business times are whole milliseconds, so a bound's digits below it decide which millisecond it
// stands for: the instants at or after …00.0005Z are those at or after …00.001Z (an inclusive lower
// bound rounds up), and the instants at or before it, or the state at it, are those of …00.000Z
// (an upper bound, a waterfall's ends and asOf keep the millisecond it falls in). Runs on both read
// sides (in memory, and the jest project "e2e on postgres read models"): the same answers.

const T = '2026-01-10T00:00:00';
const exactly = (millis: string) => `${T}.${millis}Z`;
const DAY_BEFORE = '2026-01-09T00:00:00.000Z';
const DAY_AFTER = '2026-01-11T00:00:00.000Z';
// The server's clock: open visits are aged and rotting deals found at it, so answers asked twice agree.
const NOW = new Date('2026-03-01T00:00:00.000Z');

describe('time bounds finer than a millisecond (end to end)', () => {
  const dir = temporaryDirectory();
  let api: ApiTestApp & { keys: Record<string, string> };
  let lastPosition = 0;

  const command = async (path: string, body: object) => {
    const response = await api.http.post(path).send(body);
    expect(response.status).toBeLessThan(300);
    lastPosition = response.body.position;
    return response.body as { id: string; position: number };
  };
  const analyst = (path: string) => api.anonymous.get(`${path}${path.includes('?') ? '&' : '?'}minPosition=${lastPosition}`).set('Authorization', `Bearer ${api.keys.analyst}`);
  const body = async (path: string) => {
    const response = await analyst(path);
    expect({ path, status: response.status }).toEqual({ path, status: 200 });
    return response.body as unknown;
  };

  beforeAll(async () => {
    api = await startApiTestApp({
      eventStorePath: `${dir.path}/events.db`,
      clock: () => NOW,
      env: { READ_MODELS_PATH: `${dir.path}/read-models.db`, READ_YOUR_WRITES_TIMEOUT_MS: '2000' },
      extraKeys: [{ name: 'analyst', roles: ['analyst'] }],
    });
    // Two deals closed one millisecond apart, on either side of …00.0005Z, and two opened so.
    for (const [title, millis] of [['closed at .000', '000'], ['closed at .001', '001']] as const) {
      const { id } = await command('/opportunities', { title, processId: 'standard', amount: 100, currency: 'EUR', occurredAt: DAY_BEFORE });
      await command(`/opportunities/${id}/move`, { stage: 'qualification', occurredAt: exactly(millis) });
      await command(`/opportunities/${id}/lose`, { reason: 'price', occurredAt: exactly(millis) });
    }
    for (const [title, millis] of [['opened at .000', '000'], ['opened at .001', '001']] as const) {
      const { id } = await command('/opportunities', { title, processId: 'standard', amount: 10, currency: 'EUR', occurredAt: exactly(millis) });
      await command(`/opportunities/${id}/lose`, { reason: 'price', occurredAt: DAY_AFTER });
    }
    // Open, expected to close on the last day of January: the forecast's periods are UTC days.
    await command('/opportunities', { title: 'due 31 January', processId: 'standard', amount: 5, currency: 'EUR', expectedCloseDate: '2026-01-31', occurredAt: DAY_BEFORE });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  // Routes whose `from`/`to` (or closedFrom/closedTo) are inclusive: on or after, on or before.
  const INCLUSIVE = [
    (from: string, to: string) => `/analytics/win-loss?from=${from}&to=${to}`,
    (from: string, to: string) => `/analytics/funnel?from=${from}&to=${to}`,
    (from: string, to: string) => `/analytics/transitions?from=${from}&to=${to}`,
    (from: string, to: string) => `/analytics/stage-durations?from=${from}&to=${to}`,
    (from: string, to: string) => `/analytics/cohorts?from=${from}&to=${to}`,
    (from: string, to: string) => `/analytics/win-probability/calibration?from=${from}&to=${to}`,
    (from: string, to: string) => `/pipeline?closed=lost&include=opportunities&closedFrom=${from}&closedTo=${to}`,
  ];

  it('takes an inclusive lower bound as its first whole millisecond at or after it, on every route', async () => {
    for (const route of INCLUSIVE) {
      const halfway = await body(route(exactly('0005'), DAY_AFTER));
      // The fixture tells the two milliseconds apart on this route, so the comparison below means something.
      expect({ route: route('…', '…'), differs: JSON.stringify(await body(route(exactly('000'), DAY_AFTER))) !== JSON.stringify(await body(route(exactly('001'), DAY_AFTER))) }).toEqual({ route: route('…', '…'), differs: true });
      expect({ route: route('…', '…'), answer: halfway }).toEqual({ route: route('…', '…'), answer: await body(route(exactly('001'), DAY_AFTER)) });
      // The same instant written with an offset, and with every digit below the millisecond.
      expect(await body(route('2026-01-10T05:30:00.000500000%2B05:30', DAY_AFTER))).toEqual(halfway);
    }
  });

  it('takes an inclusive upper bound as the millisecond it falls in, on every route', async () => {
    for (const route of INCLUSIVE) {
      const halfway = await body(route(DAY_BEFORE, exactly('0005')));
      expect({ route: route('…', '…'), answer: halfway }).toEqual({ route: route('…', '…'), answer: await body(route(DAY_BEFORE, exactly('000'))) });
    }
  });

  it('reads the waterfall, velocity and asOf at the state of the millisecond the instant falls in', async () => {
    const states = [
      (instant: string) => `/analytics/waterfall?from=${instant}&to=${DAY_AFTER}&include=opportunities`,
      (instant: string) => `/analytics/waterfall?from=${DAY_BEFORE}&to=${instant}&include=opportunities`,
      (instant: string) => `/analytics/velocity?from=${instant}&to=${DAY_AFTER}`,
      (instant: string) => `/analytics/velocity?from=${DAY_BEFORE}&to=${instant}`,
      (instant: string) => `/pipeline?include=opportunities&asOf=${instant}`,
      (instant: string) => `/analytics/forecast?asOf=${instant}`,
      (instant: string) => `/analytics/rotting?asOf=${instant}`,
    ];
    for (const route of states) {
      expect({ route: route('…'), answer: await body(route(exactly('0005'))) }).toEqual({ route: route('…'), answer: await body(route(exactly('000'))) });
    }
    // The waterfall's start at …00.0005Z: the deal lost at …00.000Z has gone, the one lost at …00.001Z is a change.
    const waterfall = (await body(`/analytics/waterfall?from=${exactly('0005')}&to=${DAY_AFTER}&include=opportunities`)) as { changes: { bucket: string; opportunities?: { title: string }[] }[] };
    expect(waterfall.changes.find((change) => change.bucket === 'lost')?.opportunities?.map((deal) => deal.title)).toEqual(expect.arrayContaining(['closed at .001']));
    expect(waterfall.changes.find((change) => change.bucket === 'lost')?.opportunities?.map((deal) => deal.title)).not.toContain('closed at .000');
  });

  it('keeps the forecast periods of the UTC days its from and to fall in', async () => {
    const forecast = (from: string) => `/analytics/forecast?from=${from}&to=2026-12-31T00:00:00Z`;
    const lastMoment = await body(forecast('2026-01-31T23:59:59.9995Z'));
    expect(lastMoment).toEqual(await body(forecast('2026-01-31T23:59:59.999Z')));
    expect(lastMoment).not.toEqual(await body(forecast('2026-02-01T00:00:00Z')));
  });

  it('refuses from after to by the instants given, and takes from before to within one millisecond', async () => {
    const periods = [
      (from: string, to: string) => `/analytics/win-loss?from=${from}&to=${to}`,
      (from: string, to: string) => `/analytics/waterfall?from=${from}&to=${to}`,
      (from: string, to: string) => `/analytics/velocity?from=${from}&to=${to}`,
      (from: string, to: string) => `/pipeline?closed=won,lost&closedFrom=${from}&closedTo=${to}`,
    ];
    for (const route of periods) {
      const refused = await analyst(route(exactly('0005'), exactly('0001')));
      expect({ route: route('…', '…'), status: refused.status, code: refused.body.code }).toEqual({ route: route('…', '…'), status: 400, code: 'REQUEST.INVALID_PERIOD' });
      const taken = await analyst(route(exactly('0001'), exactly('0005')));
      expect({ route: route('…', '…'), status: taken.status }).toEqual({ route: route('…', '…'), status: 200 });
    }
  });
});

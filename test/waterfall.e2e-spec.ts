import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeChangeKey } from '@stagecraft/projections';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';

// Issue 17 end to end: the pipeline waterfall between two instants, in total, per stage, with the
// drill-down and as CSV; sales velocity with its levers. Runs on every store and read side the jest projects give it.

const at = (day: number, hour = 9) => new Date(Date.UTC(2026, 2, day, hour)).toISOString();
const NOW = new Date(at(20, 12));
/** The server's clock: NOW, unless a test lets time pass. */
let clockNow = NOW;

const QUICK = `
id: quick
name: Quick deals
stages:
  - { id: talk, name: Talk, probability: 20 }
  - { id: sign, name: Sign, probability: 80 }
rules: { winFrom: [talk, sign] }
lostReasons: [price]
`;

describe('the pipeline waterfall (end to end)', () => {
  const dir = temporaryDirectory();
  let api: ApiTestApp & { keys: Record<string, string> };
  let lastPosition = 0;
  const ids: Record<string, string> = {};

  const send = async (path: string, body: object, method: 'post' | 'patch' = 'post') => {
    const response = await api.http[method](path).send(body);
    expect({ path, status: response.status, body: response.status < 300 ? undefined : response.body }).toMatchObject({ status: path === '/opportunities' ? 201 : 200 });
    lastPosition = response.body.position;
    return response.body as { id: string };
  };
  const analyst = (path: string) => api.anonymous.get(`${path}${path.includes('?') ? '&' : '?'}minPosition=${lastPosition}`).set('Authorization', `Bearer ${api.keys.analyst}`);
  const bucket = (body: { changes: { bucket: string; count: number; amountsByCurrency: Record<string, number>; opportunities?: unknown[] }[] }, name: string) => body.changes.find((c) => c.bucket === name)!;

  beforeAll(async () => {
    const processesDir = join(dir.path, 'processes');
    mkdirSync(processesDir);
    writeFileSync(join(processesDir, 'quick.yaml'), QUICK);
    api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db`, processesDir, clock: () => clockNow, env: { READ_MODELS_PATH: `${dir.path}/read-models.db`, READ_YOUR_WRITES_TIMEOUT_MS: '2000' }, extraKeys: [{ name: 'analyst', roles: ['analyst'] }] });
    const open = async (name: string, body: object) => (ids[name] = (await send('/opportunities', { title: name, processId: 'quick', teamId: 'direct', ...body })).id);
    // Before the window (day 10): A and B open.
    await open('A', { amount: 1000, currency: 'EUR', occurredAt: at(1) });
    await open('B', { amount: 3000, currency: 'USD', occurredAt: at(2) });
    // Inside: A's amount grows and it moves on, B is lost, C is opened and won, D is opened.
    await send(`/opportunities/${ids.A}`, { amount: 1500, occurredAt: at(14) }, 'patch');
    await send(`/opportunities/${ids.A}/move`, { stage: 'sign', occurredAt: at(15) });
    await send(`/opportunities/${ids.B}/lose`, { reason: 'price', occurredAt: at(16) });
    await open('C', { amount: 200, currency: 'EUR', occurredAt: at(17) });
    await send(`/opportunities/${ids.C}/win`, { occurredAt: at(18) });
    await open('D', { amount: 50, currency: 'EUR', occurredAt: at(19) });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it('answers the open pipeline at from, the changes and the open pipeline at to (default: the last 7 days), start + changes = end per currency', async () => {
    const body = (await analyst('/analytics/waterfall').expect(200)).body;
    expect([body.from, body.to]).toEqual([at(13, 12), at(20, 12)]);
    expect(body.start).toEqual({ count: 2, amountsByCurrency: { EUR: 1000, USD: 3000 }, weightedAmountsByCurrency: { EUR: 200, USD: 600 } });
    expect([bucket(body, 'created').count, bucket(body, 'created').amountsByCurrency]).toEqual([2, { EUR: 250 }]);
    expect(bucket(body, 'amountIncreased').amountsByCurrency).toEqual({ EUR: 500 });
    expect([bucket(body, 'lost').amountsByCurrency, bucket(body, 'won').amountsByCurrency]).toEqual([{ USD: -3000 }, { EUR: -200 }]);
    expect(body.end).toEqual({ count: 2, amountsByCurrency: { EUR: 1550 }, weightedAmountsByCurrency: { EUR: 1210 } });
  });

  it('per stage: the stage move leaves one column and enters the next; the drill-down names the deals', async () => {
    const body = (await analyst(`/analytics/waterfall?from=${at(10)}&to=${at(20)}&by=stage&include=opportunities`).expect(200)).body;
    const [talk, sign] = body.processes[0].stages;
    expect([bucket(talk, 'stageOut').count, bucket(sign, 'stageIn').count, bucket(sign, 'stageIn').amountsByCurrency]).toEqual([-1, 1, { EUR: 1500 }]);
    expect(bucket(body, 'lost').opportunities).toEqual([{ id: ids.B, title: 'B', at: at(16), count: -1, amount: -3000, currency: 'USD' }]);
  });

  it('lists the drill-down in pages (limit, fromChange: the cursor nextFromChange gives), JSON and CSV alike, the figures whole on every page', async () => {
    const window = `from=${at(10)}&to=${at(20)}&include=opportunities`;
    const whole = (await analyst(`/analytics/waterfall?${window}`).expect(200)).body;
    expect(whole.nextFromChange).toBeNull();
    type Listed = { id: string; at: string };
    type WaterfallPage = { start: unknown; end: unknown; changes: { bucket: string; count: number; opportunities: Listed[] }[]; nextFromChange: string | null };
    const listed = (body: { changes: { bucket: string; opportunities: Listed[] }[] }) => body.changes.flatMap((change) => change.opportunities.map((o) => `${o.at.slice(8, 10)} ${change.bucket} ${o.id === ids.A ? 'A' : o.id === ids.B ? 'B' : o.id === ids.C ? 'C' : 'D'}`)).sort();
    const pages: string[][] = [];
    let cursor: string | null = null;
    let cursorOfPage1 = '';
    do {
      const body: WaterfallPage = (await analyst(`/analytics/waterfall?${window}&limit=2${cursor === null ? '' : `&fromChange=${cursor}`}`).expect(200)).body;
      expect([body.start, body.end, body.changes.map((change) => change.count)]).toEqual([whole.start, whole.end, whole.changes.map((change: { count: number }) => change.count)]);
      pages.push(listed(body));
      cursor = body.nextFromChange;
      if (pages.length === 1) cursorOfPage1 = cursor!;
    } while (cursor !== null && pages.length < 10);
    expect(pages).toEqual([['14 amountIncreased A', '16 lost B'], ['17 created C', '18 won C'], ['19 created D']]);
    expect(pages.flat()).toEqual(listed(whole));
    // CSV: the same page, the cursor in a header.
    const csv = await analyst(`/analytics/waterfall?${window}&limit=2&format=csv`).expect(200);
    expect(csv.text.trim().split('\r\n').slice(1).map((line) => line.split(',')[2])).toEqual(['amountIncreased', 'lost']);
    const second = (await analyst(`/analytics/waterfall?${window}&limit=2&fromChange=${csv.headers['x-next-from-change']}`).expect(200)).body;
    expect(listed(second)).toEqual(pages[1]);
    for (const [query, field] of [
      ['limit=2', 'limit'],
      [`fromChange=${csv.headers['x-next-from-change']}`, 'fromChange'],
      ['include=opportunities&limit=0', 'limit'],
      ['include=opportunities&limit=10001', 'limit'],
      ['include=opportunities&fromChange=not-a-cursor', 'fromChange'],
      // A cursor is bound to the question whose answer gave it: another window, filter or breakdown refuses it.
      [`from=${at(11)}&to=${at(20)}&include=opportunities&fromChange=${cursorOfPage1}`, 'fromChange'],
      [`from=${at(10)}&to=${at(21)}&include=opportunities&fromChange=${cursorOfPage1}`, 'fromChange'],
      [`${window}&teamId=direct&fromChange=${cursorOfPage1}`, 'fromChange'],
      [`${window}&processId=quick&fromChange=${cursorOfPage1}`, 'fromChange'],
      [`${window}&by=stage&fromChange=${cursorOfPage1}`, 'fromChange'],
      // The end not given is the cursor's: the one given must be its window's too.
      [`from=${at(11)}&include=opportunities&fromChange=${cursorOfPage1}`, 'fromChange'],
      [`to=${at(21)}&include=opportunities&fromChange=${cursorOfPage1}`, 'fromChange'],
      // A cursor altered by hand to a window no Date holds.
      [`include=opportunities&fromChange=${Buffer.from(JSON.stringify([1, 'a', 'won', null, 9e15, 9e15, 'x'])).toString('base64url')}`, 'fromChange'],
      // Or to one a Date holds but no from or to may name (outside years 0001–9999): the answer
      // would echo a from of year -271821 that no route takes back. Its tag is right: it guards no secret.
      ...[
        [-8.64e15, 8.64e15],
        [Date.parse('0001-01-01T00:00:00Z') - 1, Date.parse('2026-01-01T00:00:00Z')],
        [Date.parse('2026-01-01T00:00:00Z'), Date.parse('9999-12-31T23:59:59.999Z') + 1],
      ].map(([fromMs, toMs]) => [`include=opportunities&fromChange=${encodeChangeKey({ atMs: 0, id: 'a', bucket: 'won', currency: null }, { fromMs: fromMs!, toMs: toMs! })}`, 'fromChange']),
    ]) {
      const refused = (await analyst(`/analytics/waterfall?${query}`).expect(400)).body;
      expect([query, refused.code, refused.errors?.[0]?.field]).toEqual([query, 'REQUEST.VALIDATION_FAILED', field]);
    }
  });

  it('pages a window asked without from and to, in JSON and in CSV (which echoes no window), while the clock moves on: the cursor carries its window', async () => {
    const csvChanges = (text: string) => text.trim().split('\r\n').slice(1).map((line) => line.split(',').slice(2, 4).join(' '));
    const whole = (await analyst('/analytics/waterfall?include=opportunities&format=csv').expect(200)).text;
    try {
      for (const format of ['json', 'csv']) {
        clockNow = NOW;
        const pages: string[] = [];
        let cursor: string | undefined;
        do {
          const answer = await analyst(`/analytics/waterfall?include=opportunities&limit=2&format=${format}${cursor === undefined ? '' : `&fromChange=${cursor}`}`).expect(200);
          // JSON: the window each page answered (the figures' `to`); CSV: the changes each page listed.
          pages.push(format === 'csv' ? csvChanges(answer.text).join('; ') : answer.body.to);
          cursor = answer.headers['x-next-from-change'];
          // The next page is asked a minute later: a window ending "now" would end elsewhere.
          clockNow = new Date(clockNow.getTime() + 60_000);
        } while (cursor !== undefined && pages.length < 10);
        if (format === 'json') expect(pages).toEqual([at(20, 12), at(20, 12), at(20, 12)]);
        else expect(pages.join('; ').split('; ').sort()).toEqual(csvChanges(whole).sort());
      }
    } finally {
      clockNow = NOW;
    }
  });

  it('answers CSV lines, and refuses from after to with 400 REQUEST.INVALID_PERIOD', async () => {
    const csv = (await analyst(`/analytics/waterfall?from=${at(10)}&to=${at(20)}&format=csv`).expect(200)).text;
    expect(csv.split('\r\n')[0]).toBe('processId,stageId,line,count,steps,currency,amount,weightedAmount');
    expect(csv).toContain(',,lost,-1,1,USD,-3000,');
    expect((await analyst(`/analytics/waterfall?from=${at(20)}&to=${at(10)}`).expect(400)).body.code).toBe('REQUEST.INVALID_PERIOD');
  });

  it('sales velocity: each lever per team, and the velocity they make', async () => {
    const body = (await analyst(`/analytics/velocity?from=${at(10)}&to=${at(20)}&groupBy=team`).expect(200)).body;
    // Worked: A, B, C, D; closed: C won (200 EUR, 1 day after opening), B lost.
    const levers = { opportunities: 4, won: 1, lost: 1, winRate: 0.5, averageWonAmountsByCurrency: { EUR: 200 }, averageCycleDays: 1, velocityByCurrency: { EUR: 400 } };
    expect(body.total).toEqual(levers);
    expect(body.groups).toEqual([{ key: 'direct', ...levers }]);
    const csv = (await analyst(`/analytics/velocity?from=${at(10)}&to=${at(20)}&format=csv`).expect(200)).text;
    expect(csv.split('\r\n').slice(0, 2)).toEqual(['group,key,opportunities,won,lost,winRate,averageCycleDays,currency,averageWonAmount,velocity', 'total,,4,1,1,0.5,1,EUR,200,400']);
  });

  it('cohorts by month of opening: the March cohort got its deals this far, won one after a day', async () => {
    const body = (await analyst('/analytics/cohorts?by=month').expect(200)).body;
    expect(body.cohorts).toEqual([
      { cohort: '2026-03', opened: 4, won: 1, medianDaysToWin: 1, processes: [{ processId: 'quick', stages: [{ stageId: 'talk', reached: 4, conversionToNext: 0.5 }, { stageId: 'sign', reached: 2, conversionToNext: 0.5 }], won: 1, conversionLastToWon: 0.5 }] },
    ]);
  });
});

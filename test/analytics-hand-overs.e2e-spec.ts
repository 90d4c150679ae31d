import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from './support/seeded-random';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { parseCsv } from './support/csv-answer';
import { modelFieldsOf } from './support/oracle-details';
import { oracleSpan } from './support/oracle-span';

// An oracle for the figures where deals change team, owner, amount and currency over time, with
// events tied at one millisecond and windows whose ends fall exactly on events: random histories
// (ORACLE_SEED=n replays another) against a model of README's definitions written here (no
// projection code): the board as of instants (team/owner then), the live board and closed
// sections (team/owner now), win/loss and cohorts with from/to on an event, the waterfall's
// buckets, the forecast as of an instant, converted totals and CSV beside JSON. Runs on both read
// sides (the jest projects "sqlite" and "e2e on postgres read models").

// ORACLE_START=YYYY-MM-DD moves the history (test/support/oracle-span.ts), e.g. across a year's end.
const { START, NOW } = oracleSpan(Date.UTC(2026, 0, 1), Date.UTC(2026, 6, 1));
/** The first instant of the UTC month `months` after the one `instant` lies in (setUTCMonth: Date.UTC reads years 0–99 as 1900–1999). */
const monthStartAfter = (instant: number, months: number) => {
  const day = new Date(instant);
  day.setUTCHours(0, 0, 0, 0);
  return day.setUTCMonth(day.getUTCMonth() + months, 1);
};
const dayOf = (instant: number) => new Date(instant).toISOString().slice(0, 10);
const TEAMS = ['north', 'south', 'east'];
const OWNERS = ['ana', 'bob', 'cy'];
const CURRENCIES = ['EUR', 'USD', 'GBP', undefined] as const;
/** USD has rates, GBP none: a total with GBP (or no currency) is not converted. */
// USD's rates change on the first day of START's month and three months on (2026-01-01 and 2026-04-01 by default); EUR is the reporting currency.
const RATES: Record<string, [string, number][]> = {
  EUR: [['0001-01-01', 1]],
  USD: [
    [dayOf(monthStartAfter(START, 0)), 0.9],
    [dayOf(monthStartAfter(START, 3)), 0.95],
  ],
};
const PROCESSES: Record<string, { stages: string[]; winFrom: string[] }[]> = {
  flow: [
    { stages: ['a', 'b', 'c'], winFrom: ['b', 'c'] },
    { stages: ['a', 'b', 'c', 'd'], winFrom: ['c', 'd'] },
  ],
  side: [{ stages: ['s1', 's2'], winFrom: ['s2'] }],
};
const ROT_AFTER_DAYS: Record<string, number> = { a: 2, c: 3, s1: 1 };
const yamlOf = (id: string, { stages, winFrom }: { stages: string[]; winFrom: string[] }) =>
  [
    `id: ${id}`,
    `name: ${id}`,
    'stages:',
    ...stages.map((stage, i) => `  - { id: ${stage}, name: ${stage.toUpperCase()}, probability: ${10 + i * 20}${ROT_AFTER_DAYS[stage] ? `, rotAfterDays: ${ROT_AFTER_DAYS[stage]}` : ''} }`),
    'rules:',
    '  allowSkipping: true',
    '  allowBackward: true',
    `  winFrom: [${winFrom.join(', ')}]`,
    'lostReasons: [price, other]',
    '',
  ].join('\n');

interface State {
  readonly at: number;
  readonly processId: string;
  readonly stage: string;
  readonly status: 'open' | 'won' | 'lost';
  readonly team: string;
  readonly owner: string;
  /** null: the deal has no amount (it counts and adds nothing). */
  readonly amount: number | null;
  readonly currency: string;
  readonly closeDate: string | null;
  /** When its current stage visit began (opening, move or reopening). */
  readonly enteredAt: number;
}
interface Deal {
  id: string;
  openedAt: number;
  /** The process version it opened on (never migrated here): its stages and winFrom. */
  version: number;
  everWon: boolean;
  states: State[];
}
type Filter = { processId?: string; teamId?: string; ownerId?: string };
type Money = Record<string, number>;

const current = (deal: Deal) => deal.states.at(-1)!;
/** The state after every event at or before t (README: "the one after every event at that instant"). */
const stateAt = (deal: Deal, t: number): State | undefined => {
  let found: State | undefined;
  for (const state of deal.states) if (state.at <= t) found = state;
  return found;
};
/** The state just before t (after every event strictly before it). */
const stateBefore = (deal: Deal, t: number) => stateAt(deal, t - 1);
const matches = (state: State, filter: Filter) =>
  (filter.processId === undefined || state.processId === filter.processId) && (filter.teamId === undefined || state.team === filter.teamId) && (filter.ownerId === undefined || state.owner === filter.ownerId);
const add = (money: Money, currency: string, amount: number | null) => {
  if (amount === null) return;
  money[currency] = Math.round(((money[currency] ?? 0) + amount) * 10_000) / 10_000;
  if (money[currency] === 0) delete money[currency];
};
/** README's counted → counted rule: the difference, or for a new currency a decrease of the old amount and an increase of the new. */
const amountChanges = (before: State, after: State): [string, string, number][] => {
  if (after.amount === null) return [];
  if (before.amount === null) return [['amountIncreased', after.currency, after.amount]];
  if (before.currency !== after.currency) return [['amountDecreased', before.currency, -before.amount], ['amountIncreased', after.currency, after.amount]];
  if (after.amount === before.amount) return [];
  // Exact decimals (at most 4 places), as the API adds them: 0.1 − 0.3 is −0.2.
  return [[after.amount > before.amount ? 'amountIncreased' : 'amountDecreased', after.currency, Math.round((after.amount - before.amount) * 10_000) / 10_000]];
};
const negated = (amount: number | null) => (amount === null ? null : -amount);
const oneCurrency = (money: Money) => (Object.keys(money).length > 1 ? null : (Object.values(money)[0] ?? 0));
const iso = (ms: number) => new Date(ms).toISOString();
const query = (filter: Filter) => Object.entries(filter).map(([k, v]) => `&${k}=${v}`).join('');
const sorted = (money: Money) => Object.fromEntries(Object.entries(money).filter(([, v]) => v !== 0).sort(([a], [b]) => (a < b ? -1 : 1)));

describe('analytics over hand-overs, ties and window ends: an independent model', () => {
  const dir = temporaryDirectory();
  const processesDir = join(dir.path, 'processes');
  const currenciesFile = join(dir.path, 'currencies.yaml');
  const eventStorePath = join(dir.path, 'events.db');
  const deals: Deal[] = [];
  /** Every instant an event was written at. */
  const instants: number[] = [];
  let api: ApiTestApp & { keys: Record<string, string> };
  let lastPosition = 0;
  let clock = START;

  const start = async (phase: number) => {
    for (const [id, versions] of Object.entries(PROCESSES)) writeFileSync(join(processesDir, `${id}.yaml`), yamlOf(id, versions[Math.min(phase, versions.length - 1)]!));
    api = await startApiTestApp({
      eventStorePath,
      processesDir,
      clock: () => new Date(NOW),
      env: { READ_MODELS_PATH: join(dir.path, 'read-models.db'), READ_YOUR_WRITES_TIMEOUT_MS: '10000', CURRENCIES_FILE: currenciesFile },
      extraKeys: [{ name: 'analyst', roles: ['analyst'] }, { name: 'north-analyst', roles: ['analyst'], teams: ['north'] }, { name: 'two-team-analyst', roles: ['analyst'], teams: ['north', 'south'] }],
    });
  };
  const send = async (method: 'post' | 'patch', path: string, body: object) => {
    const response = await api.http[method](path).send(body);
    if (response.status >= 300) throw new Error(`${method} ${path} ${JSON.stringify(body)}: ${response.status} ${JSON.stringify(response.body)}`);
    lastPosition = response.body.position;
    return response.body as { id: string };
  };
  const record = (deal: Deal, change: Partial<State>, at: number) => {
    deal.states.push({ ...current(deal), ...change, at });
    instants.push(at);
  };
  // A tie: a fifth of the events share the previous event's millisecond (of this deal or another).
  // Some fall exactly on a UTC month's first instant (months of cohorts and win/loss, a rate's first day).
  const tick = (rand: () => number) => {
    const roll = rand();
    if (roll < 0.2) return clock;
    clock += Math.floor(1 + rand() * 24) * 3_600_000 + Math.floor(rand() * 1000);
    const monthStart = monthStartAfter(clock, 1);
    if (roll < 0.5 && monthStart - clock < 3 * 86_400_000) clock = monthStart;
    return clock;
  };

  async function act(rand: () => number, deal: Deal) {
    const state = current(deal);
    const versions = PROCESSES[state.processId]!;
    const { stages, winFrom } = versions[Math.min(deal.version, versions.length - 1)]!;
    const at = tick(rand);
    const occurredAt = iso(at);
    const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
    const roll = rand();
    if (state.status !== 'open') {
      if (roll < 0.5) {
        const stage = pick(stages);
        await send('post', `/opportunities/${deal.id}/reopen`, { stage, occurredAt });
        record(deal, { stage, status: 'open', enteredAt: at }, at);
      }
      return;
    }
    if (roll < 0.25 && stages.includes(state.stage)) {
      const stage = pick(stages.filter((id) => id !== state.stage));
      await send('post', `/opportunities/${deal.id}/move`, { stage, occurredAt });
      record(deal, { stage, enteredAt: at }, at);
    } else if (roll < 0.4 && winFrom.includes(state.stage)) {
      await send('post', `/opportunities/${deal.id}/win`, { occurredAt });
      deal.everWon = true;
      record(deal, { status: 'won' }, at);
      // Sometimes reopened at the very instant it was won: never seen closed.
      if (rand() < 0.15) {
        await send('post', `/opportunities/${deal.id}/reopen`, { stage: state.stage, occurredAt });
        record(deal, { status: 'open', enteredAt: at }, at);
      }
    } else if (roll < 0.42) {
      // A hand-over (and a new amount in another currency) at the very instant the deal closes or moves.
      const team = pick(TEAMS);
      const owner = pick(OWNERS);
      const currency = pick(['EUR', 'USD', 'GBP']);
      await send('patch', `/opportunities/${deal.id}`, { teamId: team, ownerId: owner, amount: 70, currency, occurredAt });
      record(deal, { team, owner, amount: 70, currency }, at);
      if (winFrom.includes(state.stage) && rand() < 0.5) {
        await send('post', `/opportunities/${deal.id}/win`, { occurredAt });
        deal.everWon = true;
        record(deal, { status: 'won' }, at);
      } else if (rand() < 0.5) {
        await send('post', `/opportunities/${deal.id}/lose`, { reason: 'other', occurredAt });
        record(deal, { status: 'lost' }, at);
      } else if (stages.includes(state.stage)) {
        const stage = pick(stages.filter((id) => id !== state.stage));
        await send('post', `/opportunities/${deal.id}/move`, { stage, occurredAt });
        record(deal, { stage, enteredAt: at }, at);
      }
    } else if (roll < 0.5) {
      await send('post', `/opportunities/${deal.id}/lose`, { reason: pick(['price', 'other']), occurredAt });
      record(deal, { status: 'lost' }, at);
    } else {
      const which = rand();
      const closeDate = rand() < 0.2 ? null : iso(START + Math.floor(rand() * 240) * 86_400_000).slice(0, 10);
      const currency = pick(['EUR', 'USD', 'GBP']);
      const change =
        which < 0.3 ? { teamId: pick(TEAMS) } : which < 0.5 ? { ownerId: pick(OWNERS) } : which < 0.6 ? { teamId: pick(TEAMS), ownerId: pick(OWNERS) } : which < 0.7 ? { expectedCloseDate: closeDate } : which < 0.78 ? { amount: 100 + Math.floor(rand() * 50) * 10.25 } : which < 0.85 ? { amount: pick([0.1, 0.2, 0.3, 1234.5678, 0.0001, 999_999_999.9999]) } : { currency, amount: 50 + Math.floor(rand() * 20) * 5 };
      await send('patch', `/opportunities/${deal.id}`, { ...change, occurredAt });
      record(deal, modelFieldsOf(change), at);
    }
  }

  beforeAll(async () => {
    mkdirSync(processesDir);
    writeFileSync(currenciesFile, ['reportingCurrency: EUR', 'rates:', '  USD:', ...RATES.USD!.map(([from, rate]) => `    - { from: ${from}, rate: ${rate} }`), ''].join('\n'));
    const rand = seededRandom(Number(process.env.ORACLE_SEED || 20261130));
    for (let phase = 0; phase < 2; phase++) {
      await start(phase);
      if (phase === 1) clock = Math.max(clock, START + 90 * 86_400_000);
      for (let n = 0; n < 12; n++) {
        const at = tick(rand);
        const processId = rand() < 0.75 ? 'flow' : 'side';
        const stage = PROCESSES[processId]![0]!.stages[0]!;
        const team = TEAMS[Math.floor(rand() * TEAMS.length)]!;
        const owner = OWNERS[Math.floor(rand() * OWNERS.length)]!;
        // The first of each phase and one in ten others open without an amount (nor a currency); they may get one later.
        const amount = rand() < 0.1 || n === 0 ? null : 100 + Math.floor(rand() * 50) * 10;
        const currency = amount === null ? undefined : CURRENCIES[Math.floor(rand() * CURRENCIES.length)];
        const { id } = await send('post', '/opportunities', { title: `deal ${phase}.${n}`, processId, teamId: team, ownerId: owner, ...(amount === null ? {} : { amount }), ...(currency ? { currency } : {}), occurredAt: iso(at) });
        deals.push({ id, openedAt: at, version: phase, everWon: false, states: [{ at, processId, stage, status: 'open', team, owner, amount, currency: currency ?? 'unspecified', closeDate: null, enteredAt: at }] });
        instants.push(at);
      }
      // Each phase keeps to its half of the span: no event after now (the clock of the app).
      const until = phase === 0 ? START + 85 * 86_400_000 : NOW - 10 * 86_400_000;
      for (let step = 0; step < 120 && clock < until; step++) await act(rand, deals[Math.floor(rand() * deals.length)]!);
      if (phase === 0) await api.close();
    }
    await api.http.get(`/pipeline?minPosition=${lastPosition}`).expect(200);
  }, 600_000);
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  const analyst = (path: string) => api.anonymous.get(path).set('Authorization', `Bearer ${api.keys.analyst}`);
  /** Instants to probe: events' own instants (ties included), 1 ms either side, and the ends. */
  const probes = (rand: () => number, n: number) => Array.from({ length: n }, () => {
    const at = instants[Math.floor(rand() * instants.length)]!;
    return at + [-1, 0, 0, 1][Math.floor(rand() * 4)]!;
  });
  const filters = (rand: () => number): Filter => {
    const filter: Filter = {};
    if (rand() < 0.6) filter.processId = rand() < 0.7 ? 'flow' : 'side';
    const r = rand();
    if (r < 0.4) filter.teamId = TEAMS[Math.floor(rand() * TEAMS.length)];
    else if (r < 0.7) filter.ownerId = OWNERS[Math.floor(rand() * OWNERS.length)];
    else if (r < 0.85) {
      filter.teamId = TEAMS[Math.floor(rand() * TEAMS.length)];
      filter.ownerId = OWNERS[Math.floor(rand() * OWNERS.length)];
    }
    return filter;
  };
  const rateOn = (currency: string, day: string) => (RATES[currency] ?? []).filter(([from]) => from <= day).at(-1)?.[1];
  const converted = (money: Money, day: string) => {
    const missing = Object.keys(money).filter((c) => rateOn(c, day) === undefined).sort();
    return { amount: missing.length > 0 ? null : Object.entries(money).reduce((sum, [c, v]) => sum + v * rateOn(c, day)!, 0), missingRates: missing };
  };
  const expectConverted = (actual: { amount: number | null; rateDate: string; missingRates: string[] }, money: Money, day: string, where: string) => {
    const model = converted(money, day);
    expect([where, actual.rateDate, [...actual.missingRates].sort(), actual.amount === null ? null : Math.round(actual.amount * 1000) / 1000]).toEqual([where, day, model.missingRates, model.amount === null ? null : Math.round(model.amount * 1000) / 1000]);
  };

  function board(at: number, filter: Filter) {
    const columns = new Map<string, { count: number; money: Money }>();
    for (const deal of deals) {
      const state = stateAt(deal, at);
      if (!state || state.status !== 'open' || !matches(state, filter)) continue;
      const column = columns.get(`${state.processId}/${state.stage}`) ?? { count: 0, money: {} };
      column.count++;
      add(column.money, state.currency, state.amount);
      columns.set(`${state.processId}/${state.stage}`, column);
    }
    return columns;
  }
  type BoardBody = { processes: { processId: string; stages: { stageId: string; count: number; amount: number | null; amountsByCurrency: Money; converted?: { amount: { amount: number | null; rateDate: string; missingRates: string[] } } }[] }[] };
  const columnsOf = (body: BoardBody) =>
    Object.fromEntries(body.processes.flatMap((p) => p.stages.filter((s) => s.count > 0).map((s) => [`${p.processId}/${s.stageId}`, [s.count, sorted(s.amountsByCurrency), s.amount]])));
  const modelColumns = (columns: ReturnType<typeof board>) =>
    Object.fromEntries([...columns].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, { count, money }]) => [key, [count, sorted(money), oneCurrency(money)]]));
  const sortKeys = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));

  it('the histories hand deals over, tie events at one millisecond and mix currencies', () => {
    expect(instants.length).toBeGreaterThan(100);
    expect(new Set(instants).size).toBeLessThan(instants.length);
    expect(deals.some((deal) => new Set(deal.states.map((s) => s.team)).size > 1 && deal.states.at(-1)!.status !== 'open')).toBe(true);
    expect(new Set(deals.map((deal) => current(deal).currency)).size).toBeGreaterThan(2);
    expect(deals.some((deal) => deal.states[0]!.amount === null)).toBe(true);
  });

  it('pipeline as of an instant (also exactly on an event): team and owner as they were then', async () => {
    const rand = seededRandom(11);
    for (const at of probes(rand, 14)) {
      const filter = filters(rand);
      const body = (await analyst(`/pipeline?asOf=${iso(at)}${query(filter)}`).expect(200)).body as BoardBody;
      expect([iso(at), filter, sortKeys(columnsOf(body))]).toEqual([iso(at), filter, modelColumns(board(at, filter))]);
    }
  });

  it('live pipeline: team and owner now; converted at today\'s rates; CSV as JSON', async () => {
    const rand = seededRandom(12);
    for (let i = 0; i < 6; i++) {
      const filter = filters(rand);
      const body = (await analyst(`/pipeline?${query(filter).slice(1)}`).expect(200)).body as BoardBody;
      const model = board(NOW, filter);
      expect([filter, sortKeys(columnsOf(body))]).toEqual([filter, modelColumns(model)]);
      for (const p of body.processes) for (const s of p.stages) expectConverted(s.converted!.amount, model.get(`${p.processId}/${s.stageId}`)?.money ?? {}, iso(NOW).slice(0, 10), `${p.processId}/${s.stageId}`);
      const csv = parseCsv((await analyst(`/pipeline?format=csv${query(filter)}`).expect(200)).text);
      const fromCsv = Object.fromEntries(csv.filter((row) => Number(row.count) > 0).map((row) => [`${row.processId}/${row.stageId}`, [Number(row.count), sorted(JSON.parse(row.amountsByCurrency!)), row.amount === '' ? null : Number(row.amount)]]));
      expect([filter, sortKeys(fromCsv)]).toEqual([filter, sortKeys(columnsOf(body))]);
    }
  });

  /** Deals whose latest outcome is closed, with that closing's instant. */
  const closedNow = () => deals.flatMap((deal) => {
    const last = current(deal);
    if (last.status === 'open') return [];
    const closing = deal.states.findLast((s, i) => s.status === last.status && (i === 0 || deal.states[i - 1]!.status === 'open'))!;
    return [{ deal, state: last, closedAt: closing.at }];
  });

  it('closed sections: latest outcome closed within closedFrom…closedTo inclusive, team and owner now; converted at closedTo', async () => {
    const rand = seededRandom(13);
    const closings = closedNow().map((c) => c.closedAt);
    for (let i = 0; i < 8; i++) {
      const [x, y] = [closings[Math.floor(rand() * closings.length)]!, closings[Math.floor(rand() * closings.length)]!].sort((a, b) => a - b);
      const [from, to] = [x! + (i % 3 === 1 ? 1 : 0), y! - (i % 3 === 2 ? 1 : 0)];
      if (from > to) continue;
      const filter = filters(rand);
      const body = (await analyst(`/pipeline?closed=won,lost&closedFrom=${iso(from)}&closedTo=${iso(to)}${query(filter)}`).expect(200)).body as { processes: { processId: string; won: { count: number; amount: number | null; amountsByCurrency: Money; converted: { amount: never } }; lost: { count: number; amount: number | null; amountsByCurrency: Money; converted: { amount: never } } }[] };
      for (const p of body.processes) {
        for (const outcome of ['won', 'lost'] as const) {
          const mine = closedNow().filter((c) => c.state.status === outcome && c.state.processId === p.processId && matches(c.state, filter) && c.closedAt >= from && c.closedAt <= to);
          const money: Money = {};
          for (const c of mine) add(money, c.state.currency, c.state.amount);
          expect([iso(from), iso(to), filter, p.processId, outcome, p[outcome].count, sorted(p[outcome].amountsByCurrency), p[outcome].amount]).toEqual([iso(from), iso(to), filter, p.processId, outcome, mine.length, sorted(money), oneCurrency(money)]);
          expectConverted(p[outcome].converted.amount, money, iso(to).slice(0, 10), `${p.processId} ${outcome}`);
        }
      }
    }
  });

  it('win/loss with from/to on the latest closing (ends inclusive), grouped by team, owner, month and process; CSV as JSON', async () => {
    const rand = seededRandom(14);
    const closings = closedNow().map((c) => c.closedAt);
    for (let i = 0; i < 10; i++) {
      const groupBy = (['team', 'owner', 'month', 'process'] as const)[i % 4];
      const [x, y] = [closings[Math.floor(rand() * closings.length)]!, closings[Math.floor(rand() * closings.length)]!].sort((a, b) => a - b);
      const window = i % 3 === 0 ? '' : `&from=${iso(x!)}&to=${iso(y!)}`;
      const filter = filters(rand);
      const path = `/analytics/win-loss?groupBy=${groupBy}${window}${query(filter)}`;
      const body = (await analyst(path).expect(200)).body;
      const within = closedNow().filter((c) => matches(c.state, filter) && (window === '' || (c.closedAt >= x! && c.closedAt <= y!)));
      const keyOf = (c: (typeof within)[number]) => (groupBy === 'team' ? c.state.team : groupBy === 'owner' ? c.state.owner : groupBy === 'process' ? c.state.processId : iso(c.closedAt).slice(0, 7));
      const figures = (list: typeof within) => {
        const wonMoney: Money = {};
        const lostMoney: Money = {};
        for (const c of list) add(c.state.status === 'won' ? wonMoney : lostMoney, c.state.currency, c.state.amount);
        const won = list.filter((c) => c.state.status === 'won').length;
        return { won, lost: list.length - won, amountWonByCurrency: sorted(wonMoney), amountLostByCurrency: sorted(lostMoney), amountWon: oneCurrency(wonMoney), amountLost: oneCurrency(lostMoney) };
      };
      const pickFigures = (f: ReturnType<typeof figures>) => ({ won: f.won, lost: f.lost, amountWonByCurrency: sorted(f.amountWonByCurrency), amountLostByCurrency: sorted(f.amountLostByCurrency), amountWon: f.amountWon, amountLost: f.amountLost });
      expect([path, pickFigures(body.total)]).toEqual([path, figures(within)]);
      const day = window === '' ? iso(NOW).slice(0, 10) : iso(y!).slice(0, 10);
      expectConverted(body.total.converted.amountWon, figures(within).amountWonByCurrency, day, `${path} won`);
      const keys = [...new Set(within.map(keyOf))].sort();
      expect([path, body.groups.map((g: { key: string } & ReturnType<typeof figures>) => [g.key, pickFigures(g)])]).toEqual([path, keys.map((key) => [key, figures(within.filter((c) => keyOf(c) === key))])]);
      const csv = parseCsv((await analyst(`${path}&format=csv`).expect(200)).text);
      // The total's line first, then the groups' (README: the `line` column tells them apart).
      expect([path, csv.map((row) => [row.line, row.group, Number(row.won), Number(row.lost), JSON.parse(row.amountWonByCurrency!), JSON.parse(row.amountLostByCurrency!), row.amountWon === '' ? null : Number(row.amountWon)])]).toEqual([
        path,
        [
          ['total', 'total', body.total.won, body.total.lost, body.total.amountWonByCurrency, body.total.amountLostByCurrency, body.total.amountWon],
          ...body.groups.map((g: { key: string } & ReturnType<typeof figures>) => ['group', g.key, g.won, g.lost, g.amountWonByCurrency, g.amountLostByCurrency, g.amountWon]),
        ],
      ]);
    }
  });

  it('cohorts: from/to bound the opening (ends inclusive), team and owner now', async () => {
    const rand = seededRandom(15);
    const openings = deals.map((deal) => deal.openedAt);
    for (let i = 0; i < 6; i++) {
      const [x, y] = [openings[Math.floor(rand() * openings.length)]!, openings[Math.floor(rand() * openings.length)]!].sort((a, b) => a - b);
      const filter = filters(rand);
      const path = `/analytics/cohorts?from=${iso(x!)}&to=${iso(y!)}${query(filter)}`;
      const { cohorts } = (await analyst(path).expect(200)).body;
      const mine = deals.filter((deal) => deal.openedAt >= x! && deal.openedAt <= y! && matches(current(deal), filter));
      const months = [...new Set(mine.map((deal) => iso(deal.openedAt).slice(0, 7)))].sort();
      expect([path, cohorts.filter((c: { opened: number }) => c.opened > 0).map((c: { cohort: string; opened: number; won: number }) => [c.cohort, c.opened, c.won])]).toEqual([
        path,
        months.map((m) => {
          const cohort = mine.filter((deal) => iso(deal.openedAt).slice(0, 7) === m);
          return [m, cohort.length, cohort.filter((deal) => deal.everWon).length];
        }),
      ]);
    }
  });

  it('forecast as of an instant: open deals by month of their expected close date then, team and owner then', async () => {
    const rand = seededRandom(16);
    for (const at of probes(rand, 8)) {
      const filter = filters(rand);
      const path = `/analytics/forecast?asOf=${iso(at)}${query(filter)}`;
      const body = (await analyst(path).expect(200)).body as { periods: { period: string; open: { count: number; amountsByCurrency: Money } }[]; withoutDate: { count: number; amountsByCurrency: Money } };
      const months = new Map<string, { count: number; money: Money }>();
      const withoutDate = { count: 0, money: {} as Money };
      for (const deal of deals) {
        const state = stateAt(deal, at);
        if (!state || state.status !== 'open' || !matches(state, filter)) continue;
        const cell = state.closeDate === null ? withoutDate : (months.get(state.closeDate.slice(0, 7)) ?? { count: 0, money: {} });
        cell.count++;
        add(cell.money, state.currency, state.amount);
        if (state.closeDate !== null) months.set(state.closeDate.slice(0, 7), cell);
      }
      expect([path, body.periods.filter((p) => p.open.count > 0).map((p) => [p.period, p.open.count, sorted(p.open.amountsByCurrency)]), body.withoutDate.count, sorted(body.withoutDate.amountsByCurrency)]).toEqual([
        path,
        [...months].sort(([a], [b]) => (a < b ? -1 : 1)).map(([m, c]) => [m, c.count, sorted(c.money)]),
        withoutDate.count,
        sorted(withoutDate.money),
      ]);
    }
  });

  /** README's bucket rules, change by change. */
  function waterfall(from: number, to: number, filter: Filter) {
    const buckets: Record<string, { count: number; money: Money; steps: number }> = Object.fromEntries(['created', 'reopened', 'movedIn', 'amountIncreased', 'amountDecreased', 'movedOut', 'won', 'lost'].map((b) => [b, { count: 0, money: {}, steps: 0 }]));
    const put = (bucket: string, count: number, currency: string, amount: number | null) => {
      buckets[bucket]!.count += count;
      buckets[bucket]!.steps++;
      add(buckets[bucket]!.money, currency, amount);
    };
    // Not a type guard: `!counts(before)` must not narrow `before` to undefined.
    const counts = (s: State | undefined): boolean => s !== undefined && s.status === 'open' && matches(s, filter);
    for (const deal of deals) {
      for (const t of [...new Set(deal.states.map((s) => s.at))].filter((t) => t > from && t <= to)) {
        const before = stateBefore(deal, t);
        const after = stateAt(deal, t)!;
        if (!counts(before) && counts(after)) put(before === undefined ? 'created' : before.status !== 'open' ? 'reopened' : 'movedIn', 1, after.currency, after.amount);
        else if (counts(before) && !counts(after)) put(after.status === 'won' ? 'won' : after.status === 'lost' ? 'lost' : 'movedOut', -1, before!.currency, negated(before!.amount));
        else if (counts(before) && counts(after)) for (const [bucket, currency, amount] of amountChanges(before!, after)) put(bucket, 0, currency, amount);
      }
    }
    const open = (at: number) => {
      const money: Money = {};
      let count = 0;
      for (const deal of deals) {
        const s = stateAt(deal, at);
        if (!counts(s)) continue;
        count++;
        add(money, s!.currency, s!.amount);
      }
      return { count, amountsByCurrency: sorted(money) };
    };
    return { start: open(from), end: open(to), changes: Object.entries(buckets).map(([bucket, b]) => ({ bucket, count: b.count, amountsByCurrency: sorted(b.money), steps: b.steps })) };
  }

  it('waterfall: every change in (from, to] in its bucket, team and owner at each instant, ends on events', async () => {
    const rand = seededRandom(17);
    for (let i = 0; i < 12; i++) {
      const [x, y] = probes(rand, 2).sort((a, b) => a - b);
      const filter = filters(rand);
      const path = `/analytics/waterfall?from=${iso(x!)}&to=${iso(y!)}${query(filter)}`;
      const body = (await analyst(path).expect(200)).body as { start: { count: number; amountsByCurrency: Money }; end: { count: number; amountsByCurrency: Money }; changes: { bucket: string; count: number; amountsByCurrency: Money; steps: number }[] };
      const model = waterfall(x!, y!, filter);
      expect([path, { start: { count: body.start.count, amountsByCurrency: sorted(body.start.amountsByCurrency) }, end: { count: body.end.count, amountsByCurrency: sorted(body.end.amountsByCurrency) }, changes: body.changes.map((c) => ({ bucket: c.bucket, count: c.count, amountsByCurrency: sorted(c.amountsByCurrency), steps: c.steps })) }]).toEqual([path, model]);
      const csv = parseCsv((await analyst(`${path}&format=csv`).expect(200)).text);
      for (const change of body.changes) {
        const rows = csv.filter((row) => row.line === change.bucket && (row.stageId ?? '') === '');
        const money: Money = {};
        for (const row of rows) if (row.currency) add(money, row.currency, Number(row.amount));
        expect([path, change.bucket, sorted(money)]).toEqual([path, change.bucket, sorted(change.amountsByCurrency)]);
      }
    }
  });
  /** README's per-stage rules (by=stage): amount changes in the old stage, then stageOut there and stageIn in the new one. */
  function waterfallByStage(from: number, to: number, filter: Filter) {
    const lines = new Map<string, Record<string, { count: number; money: Money; steps: number }>>();
    const put = (key: string, bucket: string, count: number, currency: string, amount: number | null) => {
      const stage = lines.get(key) ?? {};
      const b = (stage[bucket] ??= { count: 0, money: {}, steps: 0 });
      b.count += count;
      b.steps++;
      add(b.money, currency, amount);
      lines.set(key, stage);
    };
    // Not a type guard: `!counts(before)` must not narrow `before` to undefined.
    const counts = (s: State | undefined): boolean => s !== undefined && s.status === 'open' && matches(s, filter);
    for (const deal of deals) {
      for (const t of [...new Set(deal.states.map((s) => s.at))].filter((t) => t > from && t <= to)) {
        const before = stateBefore(deal, t);
        const after = stateAt(deal, t)!;
        const was = counts(before) ? `${before!.processId}/${before!.stage}` : undefined;
        const is = counts(after) ? `${after.processId}/${after.stage}` : undefined;
        if (was === undefined && is !== undefined) put(is, before === undefined ? 'created' : before.status !== 'open' ? 'reopened' : 'movedIn', 1, after.currency, after.amount);
        else if (was !== undefined && is === undefined) put(was, after.status === 'won' ? 'won' : after.status === 'lost' ? 'lost' : 'movedOut', -1, before!.currency, negated(before!.amount));
        else if (was !== undefined && is !== undefined) {
          for (const [bucket, currency, amount] of amountChanges(before!, after)) put(was, bucket, 0, currency, amount);
          if (was !== is) {
            put(was, 'stageOut', -1, after.currency, negated(after.amount));
            put(is, 'stageIn', 1, after.currency, after.amount);
          }
        }
      }
    }
    return Object.fromEntries([...lines].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, buckets]) => [key, Object.fromEntries(Object.entries(buckets).sort(([a], [b]) => (a < b ? -1 : 1)).map(([bucket, b]) => [bucket, [b.count, sorted(b.money), b.steps]]))]));
  }

  it('waterfall by stage: the same rules per stage, stage moves out of one and into the other', async () => {
    const rand = seededRandom(18);
    for (let i = 0; i < 8; i++) {
      const [x, y] = probes(rand, 2).sort((a, b) => a - b);
      const filter = filters(rand);
      const path = `/analytics/waterfall?by=stage&from=${iso(x!)}&to=${iso(y!)}${query(filter)}`;
      const body = (await analyst(path).expect(200)).body as { processes: { processId: string; stages: { stageId: string; changes: { bucket: string; count: number; amountsByCurrency: Money; steps: number }[] }[] }[] };
      const actual = Object.fromEntries(
        body.processes
          .flatMap((p) => p.stages.map((st) => [`${p.processId}/${st.stageId}`, Object.fromEntries(st.changes.filter((c) => c.steps > 0).sort((a, b) => (a.bucket < b.bucket ? -1 : 1)).map((c) => [c.bucket, [c.count, sorted(c.amountsByCurrency), c.steps]]))] as const))
          .filter(([, changes]) => Object.keys(changes).length > 0)
          .sort(([a], [b]) => (a < b ? -1 : 1)),
      );
      expect([path, actual]).toEqual([path, waterfallByStage(x!, y!, filter)]);
    }
  });

  it('waterfall drill-down: each change under its bucket, in time order (ties by id), pages joined are the whole list', async () => {
    const rand = seededRandom(19);
    for (let i = 0; i < 6; i++) {
      const [x, y] = probes(rand, 2).sort((a, b) => a - b);
      const filter = filters(rand);
      const base = `/analytics/waterfall?include=opportunities&from=${iso(x!)}&to=${iso(y!)}${query(filter)}`;
      const whole = (await analyst(base).expect(200)).body as { changes: { bucket: string; steps: number; opportunities: { id: string; at: string; count: number; amount: number | null; currency: string | null }[] }[] };
      // Not a type guard: `!counts(before)` must not narrow `before` to undefined.
    const counts = (s: State | undefined): boolean => s !== undefined && s.status === 'open' && matches(s, filter);
      const expected: Record<string, [string, string, number, number | null, string][]> = {};
      const put = (bucket: string, deal: Deal, t: number, count: number, amount: number | null, currency: string) => (expected[bucket] ??= []).push([iso(t), deal.id, count, amount, currency]);
      for (const deal of deals) {
        for (const t of [...new Set(deal.states.map((st) => st.at))].filter((t) => t > x! && t <= y!)) {
          const before = stateBefore(deal, t);
          const after = stateAt(deal, t)!;
          if (!counts(before) && counts(after)) put(before === undefined ? 'created' : before.status !== 'open' ? 'reopened' : 'movedIn', deal, t, 1, after.amount, after.currency);
          else if (counts(before) && !counts(after)) put(after.status === 'won' ? 'won' : after.status === 'lost' ? 'lost' : 'movedOut', deal, t, -1, negated(before!.amount), before!.currency);
          else if (counts(before) && counts(after)) for (const [bucket, currency, amount] of amountChanges(before!, after)) put(bucket, deal, t, 0, amount, currency);
        }
      }
      for (const list of Object.values(expected)) list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
      const listed = (changes: typeof whole.changes) => Object.fromEntries(changes.filter((c) => c.opportunities.length > 0).map((c) => [c.bucket, c.opportunities.map((o) => [o.at, o.id, o.count, o.amount, o.currency ?? 'unspecified'])]));
      expect([base, listed(whole.changes)]).toEqual([base, sortKeys(expected)]);
      // In pages of 3: joined bucket by bucket, the same lists.
      const joined: Record<string, unknown[]> = {};
      let cursor: string | null = null;
      for (let page = 0; page < 500; page++) {
        const answer = (await analyst(`${base}&limit=3${cursor === null ? '' : `&fromChange=${encodeURIComponent(cursor)}`}`).expect(200)).body as typeof whole & { nextFromChange: string | null };
        for (const [bucket, list] of Object.entries(listed(answer.changes))) (joined[bucket] ??= []).push(...list);
        cursor = answer.nextFromChange;
        if (cursor === null) break;
      }
      expect([base, sortKeys(joined)]).toEqual([base, listed(whole.changes)]);
    }
  });

  it('velocity: worked at some instant of the window in the filter then, closings as the waterfall has them; per team and owner', async () => {
    const rand = seededRandom(20);
    for (let i = 0; i < 8; i++) {
      const [x, y] = probes(rand, 2).sort((a, b) => a - b);
      const filter = filters(rand);
      const groupBy = (['team', 'owner', 'process'] as const)[i % 3]!;
      const path = `/analytics/velocity?groupBy=${groupBy}&from=${iso(x!)}&to=${iso(y!)}${query(filter)}`;
      const body = (await analyst(path).expect(200)).body as { total: Record<string, unknown>; groups: ({ key: string | null } & Record<string, unknown>)[] };
      const keyOf = (st: State) => (groupBy === 'team' ? st.team : groupBy === 'owner' ? st.owner : st.processId);
      const model = (key?: string) => {
        const inGroup = (st: State | undefined): st is State => st !== undefined && st.status === 'open' && matches(st, filter) && (key === undefined || keyOf(st) === key);
        let worked = 0;
        let won = 0;
        let lost = 0;
        let cycle = 0;
        const wonMoney: Record<string, [number, number]> = {};
        for (const deal of deals) {
          const instantsIn = [...new Set(deal.states.map((st) => st.at))].filter((t) => t > x! && t <= y!);
          if (inGroup(stateAt(deal, x!)) || instantsIn.some((t) => inGroup(stateAt(deal, t)))) worked++;
          for (const t of instantsIn) {
            const before = stateBefore(deal, t);
            const after = stateAt(deal, t)!;
            if (!inGroup(before) || after.status === 'open') continue;
            if (after.status === 'lost') lost++;
            else {
              won++;
              cycle += t - deal.openedAt;
              if (before.amount === null) continue;
              const cell = (wonMoney[before.currency] ??= [0, 0]);
              cell[0] = Math.round((cell[0] + before.amount) * 10_000) / 10_000;
              cell[1]++;
            }
          }
        }
        const averageWon = Object.fromEntries(Object.entries(wonMoney).sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, [sum, n]]) => [c, Math.round((sum / n) * 1e6) / 1e6]));
        return { opportunities: worked, won, lost, averageCycleDays: won === 0 ? null : Math.round((cycle / won / 86_400_000) * 1e6) / 1e6, averageWonAmountsByCurrency: averageWon };
      };
      const figures = (f: Record<string, unknown>) => ({
        opportunities: f.opportunities,
        won: f.won,
        lost: f.lost,
        averageCycleDays: f.averageCycleDays === null ? null : Math.round((f.averageCycleDays as number) * 1e6) / 1e6,
        averageWonAmountsByCurrency: Object.fromEntries(Object.entries(f.averageWonAmountsByCurrency as Money).map(([c, v]) => [c, Math.round(v * 1e6) / 1e6])),
      });
      expect([path, figures(body.total)]).toEqual([path, model()]);
      for (const group of body.groups) expect([path, group.key, figures(group)]).toEqual([path, group.key, model(group.key ?? undefined)]);
      const keys = new Set(deals.flatMap((deal) => deal.states.filter((st) => st.status === 'open' && matches(st, filter)).map(keyOf)));
      for (const key of keys) if (model(key).opportunities > 0) expect([path, key, body.groups.some((g) => g.key === key)]).toEqual([path, key, true]);
    }
  });

  it('pipeline cards as of an instant: longest in the stage first (ties by id), team, owner and money then', async () => {
    const rand = seededRandom(21);
    for (const at of probes(rand, 8)) {
      const filter = filters(rand);
      const path = `/pipeline?include=opportunities&asOf=${iso(at)}${query(filter)}`;
      const body = (await analyst(path).expect(200)).body as { processes: { processId: string; stages: { stageId: string; opportunities: { id: string; teamId: string; ownerId: string; amount: number; currency: string | null; stageEnteredAt: string; daysInStage: number }[] }[] }[] };
      const actual = Object.fromEntries(body.processes.flatMap((p) => p.stages.filter((st) => st.opportunities.length > 0).map((st) => [`${p.processId}/${st.stageId}`, st.opportunities.map((o) => [o.id, o.teamId, o.ownerId, o.amount, o.currency ?? 'unspecified', Date.parse(o.stageEnteredAt), o.daysInStage])])));
      const model: Record<string, [string, string, string, number | null, string, number, number][]> = {};
      for (const deal of deals) {
        const st = stateAt(deal, at);
        if (!st || st.status !== 'open' || !matches(st, filter)) continue;
        (model[`${st.processId}/${st.stage}`] ??= []).push([deal.id, st.team, st.owner, st.amount, st.currency, st.enteredAt, Math.floor((at - st.enteredAt) / 86_400_000)]);
      }
      for (const list of Object.values(model)) list.sort((a, b) => a[5] - b[5] || (a[0] < b[0] ? -1 : 1));
      expect([path, sortKeys(actual)]).toEqual([path, sortKeys(model)]);
    }
  });

  it('closed cards: newest closing first (ties by id), at most closedLimit, team and owner now', async () => {
    const rand = seededRandom(22);
    const closings = closedNow().map((c) => c.closedAt);
    for (let i = 0; i < 6; i++) {
      const [x, y] = [closings[Math.floor(rand() * closings.length)]!, closings[Math.floor(rand() * closings.length)]!].sort((a, b) => a - b);
      const filter = filters(rand);
      const limit = 1 + Math.floor(rand() * 6);
      const path = `/pipeline?closed=won,lost&include=opportunities&closedLimit=${limit}&closedFrom=${iso(x!)}&closedTo=${iso(y!)}${query(filter)}`;
      const body = (await analyst(path).expect(200)).body as { processes: { processId: string; won: { opportunities: { id: string; teamId: string; ownerId: string; amount: number; currency: string | null; closedAt: string }[] }; lost: { opportunities: { id: string; teamId: string; ownerId: string; amount: number; currency: string | null; closedAt: string }[] } }[] };
      for (const p of body.processes) {
        for (const outcome of ['won', 'lost'] as const) {
          const expected = closedNow()
            .filter((c) => c.state.status === outcome && c.state.processId === p.processId && matches(c.state, filter) && c.closedAt >= x! && c.closedAt <= y!)
            .sort((a, b) => b.closedAt - a.closedAt || (a.deal.id < b.deal.id ? -1 : 1))
            .slice(0, limit)
            .map((c) => [c.deal.id, c.state.team, c.state.owner, c.state.amount, c.state.currency, c.closedAt]);
          expect([path, p.processId, outcome, p[outcome].opportunities.map((o) => [o.id, o.teamId, o.ownerId, o.amount, o.currency ?? 'unspecified', Date.parse(o.closedAt)])]).toEqual([path, p.processId, outcome, expected]);
        }
      }
    }
  });

  it('pipeline and forecast as of an instant convert at the rates of that day', async () => {
    const rand = seededRandom(23);
    for (const at of probes(rand, 6)) {
      const filter = filters(rand);
      const body = (await analyst(`/pipeline?asOf=${iso(at)}${query(filter)}`).expect(200)).body as BoardBody;
      const model = board(at, filter);
      for (const p of body.processes) for (const st of p.stages) expectConverted(st.converted!.amount, model.get(`${p.processId}/${st.stageId}`)?.money ?? {}, iso(at).slice(0, 10), `asOf ${iso(at)} ${p.processId}/${st.stageId}`);
      const forecast = (await analyst(`/analytics/forecast?asOf=${iso(at)}${query(filter)}`).expect(200)).body as { withoutDate: { amountsByCurrency: Money; converted: { amount: never } } };
      expectConverted(forecast.withoutDate.converted.amount, forecast.withoutDate.amountsByCurrency, iso(at).slice(0, 10), `forecast asOf ${iso(at)}`);
    }
  });
  it('a caller limited to a team sees what teamId of that team answers, on every route, with hand-overs in the history', async () => {
    const north = (path: string) => api.anonymous.get(path).set('Authorization', `Bearer ${api.keys['north-analyst']}`);
    const rand = seededRandom(24);
    const [x, y] = probes(rand, 2).sort((a, b) => a - b);
    const window = `from=${iso(x!)}&to=${iso(y!)}`;
    const paths = [
      '/pipeline?include=opportunities',
      `/pipeline?include=opportunities&asOf=${iso(x!)}`,
      `/pipeline?closed=won,lost&include=opportunities&closedFrom=${iso(x!)}&closedTo=${iso(y!)}`,
      '/analytics/win-loss?groupBy=owner',
      `/analytics/win-loss?groupBy=month&${window}`,
      `/analytics/waterfall?by=stage&include=opportunities&${window}`,
      `/analytics/velocity?groupBy=owner&${window}`,
      `/analytics/cohorts?${window}`,
      `/analytics/forecast?asOf=${iso(y!)}`,
      '/analytics/forecast',
      `/analytics/forecast-accuracy?${window}`,
      `/analytics/rotting?asOf=${iso(y!)}`,
      '/analytics/rotting',
      '/analytics/funnel',
      '/analytics/transitions',
      '/analytics/stage-durations',
      `/analytics/win-probability/calibration?${window}`,
    ];
    for (const path of paths) {
      for (const format of ['', '&format=csv']) {
        const limited = await north(`${path}${path.includes('?') || !format ? '' : '?'}${format}`);
        const asked = await analyst(`${path}${path.includes('?') ? '&' : '?'}teamId=north${format}`);
        expect([path, format, limited.status, format ? limited.text : limited.body]).toEqual([path, format, asked.status, format ? asked.text : asked.body]);
      }
    }
  });
  it('forecast with from/to (UTC days) and asOf: open deals by expected close date, wins standing by the UTC day of the win', async () => {
    const rand = seededRandom(25);
    for (let i = 0; i < 10; i++) {
      const at = i % 2 === 0 ? NOW : probes(rand, 1)[0]!;
      const [x, y] = probes(rand, 2).sort((a, b) => a - b);
      const window = i % 3 === 0 ? '' : `&from=${iso(x!)}&to=${iso(y!)}`;
      const filter = filters(rand);
      const path = `/analytics/forecast?${i % 2 === 0 ? '' : `asOf=${iso(at)}`}${window}${query(filter)}`;
      const body = (await analyst(path).expect(200)).body as { periods: { period: string; open: { count: number; amountsByCurrency: Money }; won: { count: number; amountsByCurrency: Money } }[] };
      const inWindow = (day: string) => window === '' || (day >= iso(x!).slice(0, 10) && day <= iso(y!).slice(0, 10));
      const open = new Map<string, { count: number; money: Money }>();
      const won = new Map<string, { count: number; money: Money }>();
      const tally = (cells: typeof open, key: string, st: State) => {
        const cell = cells.get(key) ?? { count: 0, money: {} };
        cell.count++;
        add(cell.money, st.currency, st.amount);
        cells.set(key, cell);
      };
      for (const deal of deals) {
        const st = stateAt(deal, at);
        if (!st || !matches(st, filter)) continue;
        if (st.status === 'open' && st.closeDate !== null && inWindow(st.closeDate)) tally(open, st.closeDate.slice(0, 7), st);
        if (st.status === 'won') {
          const winAt = deal.states.findLast((w, k) => w.at <= at && w.status === 'won' && k > 0 && deal.states[k - 1]!.status === 'open')!.at;
          if (inWindow(iso(winAt).slice(0, 10))) tally(won, iso(winAt).slice(0, 7), st);
        }
      }
      const listed = (key: 'open' | 'won') => body.periods.filter((p) => p[key].count > 0).map((p) => [p.period, p[key].count, sorted(p[key].amountsByCurrency)]);
      const model = (cells: typeof open) => [...cells].sort(([a], [b]) => (a < b ? -1 : 1)).map(([m, c]) => [m, c.count, sorted(c.money)]);
      expect([path, listed('open'), listed('won')]).toEqual([path, model(open), model(won)]);
    }
  });
  it('waterfall memos: counted deals whose expected close date moved later or earlier, with their amount then', async () => {
    const rand = seededRandom(26);
    for (let i = 0; i < 8; i++) {
      const [x, y] = probes(rand, 2).sort((a, b) => a - b);
      const filter = filters(rand);
      const path = `/analytics/waterfall?from=${iso(x!)}&to=${iso(y!)}${query(filter)}`;
      const body = (await analyst(path).expect(200)).body as { memos: { bucket: string; count: number; amountsByCurrency: Money; steps: number }[] };
      const memos: Record<string, { count: number; money: Money }> = { pushedOut: { count: 0, money: {} }, pulledIn: { count: 0, money: {} } };
      const counts = (st: State | undefined): st is State => st !== undefined && st.status === 'open' && matches(st, filter);
      for (const deal of deals) {
        for (const t of [...new Set(deal.states.map((st) => st.at))].filter((t) => t > x! && t <= y!)) {
          const before = stateBefore(deal, t);
          const after = stateAt(deal, t)!;
          if (!counts(before) || !counts(after) || before.closeDate === null || after.closeDate === null || before.closeDate === after.closeDate) continue;
          const memo = memos[after.closeDate > before.closeDate ? 'pushedOut' : 'pulledIn']!;
          memo.count++;
          add(memo.money, after.currency, after.amount);
        }
      }
      expect([path, Object.fromEntries(body.memos.map((m) => [m.bucket, [m.count, sorted(m.amountsByCurrency)]]))]).toEqual([path, Object.fromEntries(Object.entries(memos).map(([b, m]) => [b, [m.count, sorted(m.money)]]))]);
    }
  });

  it('forecast accuracy: the forecast at each period\'s first instant (team then) against the wins standing now (team now)', async () => {
    const rand = seededRandom(27);
    for (let i = 0; i < 6; i++) {
      const filter = filters(rand);
      // The six months from START's (2026-01 to 2026-06 by default).
      const path = `/analytics/forecast-accuracy?from=${iso(monthStartAfter(START, 0))}&to=${iso(monthStartAfter(START, 6) - 1)}${query(filter)}`;
      const body = (await analyst(path).expect(200)).body as { periods: { period: string; forecast: { count: number; amountsByCurrency: Money }; won: { count: number; amountsByCurrency: Money }; forecastWon: number }[] };
      const expected = [0, 1, 2, 3, 4, 5].map((m) => {
        const first = monthStartAfter(START, m);
        const month = iso(first).slice(0, 7);
        const forecast = deals.filter((deal) => {
          const st = stateAt(deal, first);
          return st !== undefined && st.status === 'open' && matches(st, filter) && st.closeDate?.slice(0, 7) === month;
        });
        const won = closedNow().filter((c) => c.state.status === 'won' && matches(c.state, filter) && iso(c.closedAt).slice(0, 7) === month);
        const money = (list: { amount: number | null; currency: string }[]) => {
          const m: Money = {};
          for (const st of list) add(m, st.currency, st.amount);
          return sorted(m);
        };
        return [month, forecast.length, money(forecast.map((deal) => stateAt(deal, first)!)), won.length, money(won.map((c) => c.state)), forecast.filter((deal) => won.some((c) => c.deal === deal)).length];
      });
      expect([path, body.periods.map((p) => [p.period, p.forecast.count, sorted(p.forecast.amountsByCurrency), p.won.count, sorted(p.won.amountsByCurrency), p.forecastWon])]).toEqual([path, expected.filter((line) => line[1] !== 0 || line[3] !== 0)]);
    }
  });

  it('rotting as of an instant: team and owner then, aged then', async () => {
    const rand = seededRandom(28);
    for (const at of probes(rand, 6)) {
      const filter = filters(rand);
      const path = `/analytics/rotting?limit=1000&asOf=${iso(at)}${query(filter)}`;
      const body = (await analyst(path).expect(200)).body as { count: number; opportunities: { id: string; teamId: string; ownerId: string; daysInStage: number; amount: number; currency: string | null }[] };
      const expected = deals
        .flatMap((deal) => {
          const st = stateAt(deal, at);
          if (!st || st.status !== 'open' || !matches(st, filter) || ROT_AFTER_DAYS[st.stage] === undefined || at - st.enteredAt <= ROT_AFTER_DAYS[st.stage]! * 86_400_000) return [];
          return [{ deal, st }];
        })
        .sort((a, b) => a.st.enteredAt - b.st.enteredAt || (a.deal.id < b.deal.id ? -1 : 1))
        .map(({ deal, st }) => [deal.id, st.team, st.owner, Math.floor((at - st.enteredAt) / 86_400_000), st.amount, st.currency]);
      expect([path, body.count, body.opportunities.map((o) => [o.id, o.teamId, o.ownerId, o.daysInStage, o.amount, o.currency ?? 'unspecified'])]).toEqual([path, expected.length, expected]);
    }
  });
  it('a caller limited to two teams asks for one of them (team then or now, as for anyone), never for both at once', async () => {
    const both = (path: string) => api.anonymous.get(path).set('Authorization', `Bearer ${api.keys['two-team-analyst']}`);
    const rand = seededRandom(29);
    const [x, y] = probes(rand, 2).sort((a, b) => a - b);
    for (const path of [`/pipeline?asOf=${iso(x!)}`, `/analytics/waterfall?include=opportunities&from=${iso(x!)}&to=${iso(y!)}`, '/analytics/win-loss?groupBy=owner', `/analytics/velocity?from=${iso(x!)}&to=${iso(y!)}`]) {
      const unnamed = await both(path);
      expect([path, unnamed.status, unnamed.body.code, unnamed.body.allowedTeams]).toEqual([path, 403, 'AUTH.TEAM_FORBIDDEN', ['north', 'south']]);
      expect([path, (await both(`${path}&teamId=east`)).status]).toEqual([path, 403]);
      const named = await both(`${path}&teamId=south`);
      expect([path, named.status, named.body]).toEqual([path, 200, (await analyst(`${path}&teamId=south`).expect(200)).body]);
    }
  });
  it('an instant written with another offset is the same instant: the same answers, rates of the same UTC day', async () => {
    const rand = seededRandom(30);
    /** The same instant as ISO 8601 with a UTC offset of `hours`. */
    const withOffset = (ms: number, hours: number) => {
      const local = iso(ms + hours * 3_600_000).slice(0, 23);
      const sign = hours < 0 ? '-' : '+';
      return `${local}${sign}${String(Math.abs(hours)).padStart(2, '0')}:00`;
    };
    for (let i = 0; i < 4; i++) {
      const [x, y] = probes(rand, 2).sort((a, b) => a - b);
      const hours = [5, -7, 14, -12][i]!;
      const written = (path: (a: string, b: string) => string) => [path(iso(x!), iso(y!)), path(encodeURIComponent(withOffset(x!, hours)), encodeURIComponent(withOffset(y!, hours)))];
      for (const [utc, offset] of [
        written((a) => `/pipeline?asOf=${a}`),
        written((a, b) => `/pipeline?closed=won,lost&include=opportunities&closedFrom=${a}&closedTo=${b}`),
        written((a, b) => `/analytics/waterfall?by=stage&include=opportunities&from=${a}&to=${b}`),
        written((a, b) => `/analytics/win-loss?groupBy=month&from=${a}&to=${b}`),
        written((a, b) => `/analytics/velocity?groupBy=team&from=${a}&to=${b}`),
        written((a, b) => `/analytics/cohorts?from=${a}&to=${b}`),
        written((a) => `/analytics/forecast?asOf=${a}`),
      ]) {
        expect([offset, (await analyst(offset!).expect(200)).body]).toEqual([offset, (await analyst(utc!).expect(200)).body]);
      }
    }
  });
  it('a window of one instant: closings on it count (closed, win/loss: both ends inclusive), the waterfall has no change (from excluded)', async () => {
    const rand = seededRandom(31);
    const closings = closedNow();
    for (let i = 0; i < 6; i++) {
      const { closedAt, state } = closings[Math.floor(rand() * closings.length)]!;
      const one = iso(closedAt);
      const onIt = closings.filter((c) => c.closedAt === closedAt);
      const closed = (await analyst(`/pipeline?closed=won,lost&closedFrom=${one}&closedTo=${one}&processId=${state.processId}`).expect(200)).body as { processes: { won: { count: number }; lost: { count: number } }[] };
      expect([one, closed.processes[0]!.won.count, closed.processes[0]!.lost.count]).toEqual([
        one,
        onIt.filter((c) => c.state.processId === state.processId && c.state.status === 'won').length,
        onIt.filter((c) => c.state.processId === state.processId && c.state.status === 'lost').length,
      ]);
      const winLoss = (await analyst(`/analytics/win-loss?from=${one}&to=${one}`).expect(200)).body as { total: { won: number; lost: number } };
      expect([one, winLoss.total.won, winLoss.total.lost]).toEqual([one, onIt.filter((c) => c.state.status === 'won').length, onIt.filter((c) => c.state.status === 'lost').length]);
      const waterfall = (await analyst(`/analytics/waterfall?from=${one}&to=${one}`).expect(200)).body as { start: unknown; end: unknown; changes: { steps: number }[] };
      expect([one, waterfall.end, waterfall.changes.reduce((sum, c) => sum + c.steps, 0)]).toEqual([one, waterfall.start, 0]);
    }
    // Before the first event: nothing open, nothing changed.
    const before = iso(START - 86_400_000);
    expect(columnsOf((await analyst(`/pipeline?asOf=${before}`).expect(200)).body)).toEqual({});
    expect((await analyst(`/analytics/waterfall?from=${iso(START - 2 * 86_400_000)}&to=${before}`).expect(200)).body.end.count).toBe(0);
  });
});

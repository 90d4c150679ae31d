import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import type { FunnelProcess, StageDurationsResult, TransitionsProcess } from '@stagecraft/contracts';
import { E2E_READ_MODELS } from './support/e2e-read-models';
import { itIf } from './support/skips';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { parseCsv } from './support/csv-answer';
import { modelFieldsOf } from './support/oracle-details';
import { oracleSpan } from './support/oracle-span';

// An oracle for the figures when a process changes version while deals run on it: random histories
// over four versions (a stage added, a stage removed and a new last stage, two stages swapped),
// with migrations, moves back, reopenings and hand-overs, against a small model of what each figure
// should be that this file computes on its own (no projection code): funnel and cohorts, win/loss,
// the pipeline (live, as of now, as of past instants, CSV, cards), transitions, stage durations,
// the waterfall, velocity, the forecast, rotting and the learned probability's cards. Run on both
// read sides (the jest projects "sqlite" and "e2e on postgres read models").

type Api = ApiTestApp & { keys: Record<string, string> };

// The versions of process "flow", in the order they are recorded.
const VERSIONS: { stages: string[]; winFrom: string[]; probability: Record<string, number>; rotAfterDays: Record<string, number> }[] = [
  { stages: ['a', 'b', 'c'], winFrom: ['c'], probability: { a: 10, b: 30, c: 60 }, rotAfterDays: { a: 3, b: 5 } },
  { stages: ['a', 'x', 'b', 'c'], winFrom: ['c'], probability: { a: 10, x: 20, b: 30, c: 60 }, rotAfterDays: { a: 3, b: 5, x: 2 } },
  { stages: ['a', 'x', 'c', 'd'], winFrom: ['d'], probability: { a: 10, x: 20, c: 60, d: 90 }, rotAfterDays: { a: 4, x: 2, c: 6 } },
  { stages: ['a', 'c', 'x', 'd'], winFrom: ['d'], probability: { a: 15, c: 70, x: 25, d: 95 }, rotAfterDays: { a: 7, c: 6 } },
];
const yamlOf = ({ stages, winFrom, probability, rotAfterDays }: (typeof VERSIONS)[number]) =>
  [
    'id: flow',
    'name: Flow',
    'stages:',
    ...stages.map((id) => `  - { id: ${id}, name: ${id.toUpperCase()}, probability: ${probability[id]}${rotAfterDays[id] ? `, rotAfterDays: ${rotAfterDays[id]}` : ''} }`),
    'rules:',
    '  allowSkipping: true',
    '  allowBackward: true',
    `  winFrom: [${winFrom.join(', ')}]`,
    'lostReasons: [price, other]',
    '',
  ].join('\n');

// ORACLE_START=YYYY-MM-DD moves the history (test/support/oracle-span.ts), e.g. across a year's end.
const { START, NOW } = oracleSpan(Date.UTC(2026, 0, 1), Date.UTC(2026, 6, 1));
const TEAMS = ['north', 'south'];
const OWNERS = ['ana', 'bob', 'cy'];

/** A small seeded generator (mulberry32), so that a failure replays. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface DealState {
  readonly at: number;
  readonly stage: string;
  readonly status: 'open' | 'won' | 'lost';
  readonly team: string;
  readonly owner: string;
  readonly amount: number;
  readonly version: number;
  readonly closeDate: string | null;
  readonly enteredAt: number;
}

interface Deal {
  id: string;
  version: number;
  openedAt: number;
  /** The stages it entered, by id (past visits keep their ids through a migration; the open one goes on under the stage it was mapped to). */
  entered: Set<string>;
  everWon: boolean;
  closedIn: string;
  states: DealState[];
  /** Completed visits: [stage, ms]; the open visit's stage and start. */
  visits: [string, number][];
  openVisit: { stage: string; since: number } | null;
  transitions: [string, string][];
}

const current = (deal: Deal) => deal.states.at(-1)!;
const stateAt = (deal: Deal, t: number) => {
  let found: DealState | undefined;
  for (const state of deal.states) if (state.at <= t) found = state;
  return found;
};

describe('analytics across process versions: an independent model of every figure', () => {
  const dir = temporaryDirectory();
  const processesDir = join(dir.path, 'processes');
  const eventStorePath = join(dir.path, 'events.db');
  const deals: Deal[] = [];
  const versionIds: string[] = [];
  let api: Api;
  let lastPosition = 0;
  let clock = START;
  const next = (rand: () => number) => (clock += Math.floor(1 + rand() * 6) * 3_600_000 + Math.floor(rand() * 1000));

  const start = async (phase: number) => {
    writeFileSync(join(processesDir, 'flow.yaml'), yamlOf(VERSIONS[phase]!));
    api = await startApiTestApp({
      eventStorePath,
      processesDir,
      clock: () => new Date(NOW),
      env: { READ_MODELS_PATH: join(dir.path, 'read-models.db'), READ_YOUR_WRITES_TIMEOUT_MS: '5000' },
      extraKeys: [{ name: 'analyst', roles: ['analyst'] }],
    });
    versionIds[phase] = (await api.http.get('/processes/flow').expect(200)).body.version;
  };
  const send = async (method: 'post' | 'patch', path: string, body: object) => {
    const response = await api.http[method](path).send(body);
    if (response.status >= 300) throw new Error(`${method} ${path} ${JSON.stringify(body)}: ${response.status} ${JSON.stringify(response.body)}`);
    lastPosition = response.body.position;
    return response.body as { id: string };
  };

  const rankIn = (version: number, stage: string) => VERSIONS[version]!.stages.indexOf(stage);
  const enter = (deal: Deal, stage: string, at: number) => {
    deal.entered.add(stage);
    deal.openVisit = { stage, since: at };
  };
  const leave = (deal: Deal, at: number) => {
    deal.visits.push([deal.openVisit!.stage, at - deal.openVisit!.since]);
    deal.openVisit = null;
  };
  const record = (deal: Deal, change: Partial<DealState>, at: number) => deal.states.push({ ...current(deal), ...change, version: deal.version, enteredAt: deal.openVisit?.since ?? current(deal).enteredAt, at });

  /** The model of a migration the API recorded: the deal goes on in `toStage` of version `latest`, its open visit with it. */
  const migrated = (deal: Deal, latest: number, toStage: string, at: number) => {
    // How far it got is what it entered, ranked in the new version (modelFunnel): the mapping moves the open visit, not past ones.
    deal.version = latest;
    deal.entered.add(toStage);
    deal.openVisit = { stage: toStage, since: deal.openVisit!.since };
    record(deal, { stage: toStage }, at);
  };

  async function act(rand: () => number, deal: Deal, latest: number) {
    const state = current(deal);
    const { stages, winFrom } = VERSIONS[deal.version]!;
    const at = next(rand);
    const occurredAt = new Date(at).toISOString();
    const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
    const roll = rand();
    if (state.status !== 'open') {
      if (roll < 0.5) {
        // Reopen in the stage it closed in or any other of its version (no criteria here).
        const stage = rand() < 0.5 ? deal.closedIn : pick(stages);
        await send('post', `/opportunities/${deal.id}/reopen`, { stage, occurredAt });
        deal.transitions.push([state.status, stage]);
        enter(deal, stage, at);
        record(deal, { stage, status: 'open' }, at);
      }
      return;
    }
    if (roll < 0.12 && deal.version < latest) {
      const target = VERSIONS[latest]!.stages;
      // A stage the target lacks, or puts past a stage the deal never reached, goes back to the first one (the engine refuses the rest: INVALID_STAGE_MAPPING).
      let toStage = target.includes(state.stage) ? state.stage : 'a';
      const path = `/opportunities/${deal.id}/migrate`;
      const kept = toStage === state.stage ? await api.http.post(path).send({ toVersion: versionIds[latest], occurredAt }) : undefined;
      if (kept?.status === 200) lastPosition = kept.body.position;
      else {
        expect(kept?.body.code ?? 'OPPORTUNITY.INVALID_STAGE_MAPPING').toBe('OPPORTUNITY.INVALID_STAGE_MAPPING');
        toStage = 'a';
      }
      const stageMapping = toStage === state.stage ? undefined : { [state.stage]: toStage };
      if (stageMapping) await send('post', path, { toVersion: versionIds[latest], stageMapping, occurredAt });
      migrated(deal, latest, toStage, at);
    } else if (roll < 0.5) {
      const stage = pick(stages.filter((id) => id !== state.stage));
      await send('post', `/opportunities/${deal.id}/move`, { stage, occurredAt });
      deal.transitions.push([state.stage, stage]);
      leave(deal, at);
      enter(deal, stage, at);
      record(deal, { stage }, at);
    } else if (roll < 0.65 && winFrom.includes(state.stage)) {
      await send('post', `/opportunities/${deal.id}/win`, { occurredAt });
      deal.transitions.push([state.stage, 'won']);
      deal.everWon = true;
      deal.closedIn = state.stage;
      leave(deal, at);
      record(deal, { status: 'won' }, at);
    } else if (roll < 0.75) {
      await send('post', `/opportunities/${deal.id}/lose`, { reason: 'price', occurredAt });
      deal.transitions.push([state.stage, 'lost']);
      deal.closedIn = state.stage;
      leave(deal, at);
      record(deal, { status: 'lost' }, at);
    } else {
      const which = rand();
      const closeDate = rand() < 0.2 ? null : new Date(NOW + Math.floor((rand() - 0.3) * 120) * 86_400_000).toISOString().slice(0, 10);
      const change = which < 0.3 ? { teamId: pick(TEAMS) } : which < 0.5 ? { ownerId: pick(OWNERS) } : which < 0.75 ? { expectedCloseDate: closeDate } : { amount: 100 + Math.floor(rand() * 50) * 10 };
      await send('patch', `/opportunities/${deal.id}`, { ...change, occurredAt });
      record(deal, modelFieldsOf(change), at);
    }
  }

  // Two deals written the same way whatever the seed, kept out of the random steps (so a seed replays
  // the history it did) and migrated to the last version after them: how far each got must carry over
  // as every stage it entered that the new version has, by its id (README: reached(i) is "entered stage
  // i or a later one of the deal's own process version"), not as its furthest stage alone. The first
  // goes a → x → b on [a, x, b, c] and is mapped b → a onto [a, c, x, d]: it entered x. The second goes
  // a → x → c → a on [a, x, c, d] and keeps a on [a, c, x, d], where x now comes after c: it entered x.
  const pinned: Deal[] = [];
  async function pinnedHistory(phase: number) {
    // Instants a millisecond apart after the phase's last event: the random steps' clock is not moved.
    let at = clock;
    const { id } = await send('post', '/opportunities', { title: `pinned ${phase}`, processId: 'flow', teamId: 'north', ownerId: 'ana', amount: 500, currency: 'EUR', occurredAt: new Date(++at).toISOString() });
    const deal: Deal = { id, version: phase, openedAt: at, entered: new Set(), everWon: false, closedIn: 'a', states: [{ at, stage: 'a', status: 'open', team: 'north', owner: 'ana', amount: 500, version: phase, closeDate: null, enteredAt: at }], visits: [], openVisit: null, transitions: [] };
    enter(deal, 'a', at);
    for (const stage of phase === 1 ? ['x', 'b'] : ['x', 'c', 'a']) {
      await send('post', `/opportunities/${id}/move`, { stage, occurredAt: new Date(++at).toISOString() });
      deal.transitions.push([current(deal).stage, stage]);
      leave(deal, at);
      enter(deal, stage, at);
      record(deal, { stage }, at);
    }
    pinned.push(deal);
  }
  async function migratePinned() {
    const latest = VERSIONS.length - 1;
    let at = clock;
    for (const deal of pinned) {
      const from = current(deal).stage;
      const toStage = VERSIONS[latest]!.stages.includes(from) ? from : 'a';
      const stageMapping = toStage === from ? undefined : { [from]: toStage };
      await send('post', `/opportunities/${deal.id}/migrate`, { toVersion: versionIds[latest], ...(stageMapping ? { stageMapping } : {}), occurredAt: new Date(++at).toISOString() });
      migrated(deal, latest, toStage, at);
      deals.push(deal);
    }
  }

  beforeAll(async () => {
    mkdirSync(processesDir);
    // ORACLE_SEED=n replays another history (any seed must pass).
    const rand = random(Number(process.env.ORACLE_SEED ?? 20260701));
    for (let phase = 0; phase < VERSIONS.length; phase++) {
      await start(phase);
      for (let n = 0; n < 10; n++) {
        const at = next(rand);
        const stage = 'a';
        const team = TEAMS[Math.floor(rand() * TEAMS.length)]!;
        const owner = OWNERS[Math.floor(rand() * OWNERS.length)]!;
        const amount = 100 + Math.floor(rand() * 50) * 10;
        const { id } = await send('post', '/opportunities', { title: `deal ${phase}.${n}`, processId: 'flow', teamId: team, ownerId: owner, amount, currency: 'EUR', occurredAt: new Date(at).toISOString() });
        const deal: Deal = { id, version: phase, openedAt: at, entered: new Set(), everWon: false, closedIn: stage, states: [{ at, stage, status: 'open', team, owner, amount, version: phase, closeDate: null, enteredAt: at }], visits: [], openVisit: null, transitions: [] };
        enter(deal, stage, at);
        deals.push(deal);
      }
      for (let step = 0; step < 60; step++) await act(rand, deals[Math.floor(rand() * deals.length)]!, phase);
      if (phase === 1 || phase === 2) await pinnedHistory(phase);
      if (phase === VERSIONS.length - 1) await migratePinned();
      if (phase < VERSIONS.length - 1) await api.close();
    }
    await api.http.get(`/pipeline?minPosition=${lastPosition}`).expect(200);
  }, 600_000);
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  const analyst = (path: string) => api.anonymous.get(path).set('Authorization', `Bearer ${api.keys.analyst}`);
  type CardsProcess = { processId: string; stages: { stageId: string; opportunities: { id: string; processVersion: string; winProbability: number; configuredProbability: number }[] }[] };
  const flowOf = <T extends { processId: string }>(body: { processes: readonly T[] }) => body.processes.find((process) => process.processId === 'flow')!;
  const latest = VERSIONS.at(-1)!.stages;
  const allStages = [...latest, ...VERSIONS.flatMap((v) => v.stages).filter((id, i, all) => !latest.includes(id) && all.indexOf(id) === i)];

  /** The funnel as this file reads the README: reached per stage; each step's conversion among the deals whose version has both stages, in that order. */
  function modelFunnel(selected: readonly Deal[]) {
    // README: reached(i) is "entered stage i or a later one of the deal's own process version, or won".
    const reaches = (deal: Deal, stage: string) => rankIn(deal.version, stage) >= 0 && (deal.everWon || [...deal.entered].some((id) => rankIn(deal.version, id) >= rankIn(deal.version, stage)));
    const reached = Object.fromEntries(allStages.map((stage) => [stage, selected.filter((deal) => reaches(deal, stage)).length]));
    const won = selected.filter((deal) => deal.everWon).length;
    const conversion = latest.map((stage, i) => {
      const nextStage = latest[i + 1];
      const eligible = selected.filter((deal) => rankIn(deal.version, stage) >= 0 && (nextStage === undefined || rankIn(deal.version, nextStage) > rankIn(deal.version, stage)));
      const base = eligible.filter((deal) => reaches(deal, stage)).length;
      const converted = eligible.filter((deal) => (nextStage === undefined ? deal.everWon : reaches(deal, nextStage))).length;
      return base === 0 ? null : converted / base;
    });
    return { reached, won, conversion };
  }

  it('the histories ran on every version, with migrations, reopenings and moves back', () => {
    expect(new Set(versionIds).size).toBe(VERSIONS.length);
    const kinds = deals.flatMap((deal) => deal.transitions.map(([from, to]) => (from === 'won' || from === 'lost' ? 'reopen' : to === 'won' || to === 'lost' ? to : 'move')));
    expect(new Set(kinds)).toEqual(new Set(['reopen', 'move', 'won', 'lost']));
    expect(deals.some((deal, i) => !pinned.includes(deal) && deal.version !== Math.floor(i / 10))).toBe(true);
  });

  it('funnel: reached as the model counts it, and no conversion above 100 %', async () => {
    for (const [query, selected] of [
      ['', deals],
      ['&teamId=north', deals.filter((deal) => current(deal).team === 'north')],
    ] as const) {
      const flow = flowOf<FunnelProcess>((await analyst(`/analytics/funnel?processId=flow${query}`).expect(200)).body);
      const model = modelFunnel(selected);
      expect(Object.fromEntries(flow.stages.map((stage: { stageId: string; reached: number }) => [stage.stageId, stage.reached]))).toEqual(model.reached);
      expect(flow.won).toBe(model.won);
      for (const stage of flow.stages) if (stage.conversionToNext !== null) expect(stage.conversionToNext).toBeLessThanOrEqual(1);
      expect(flow.stages.slice(0, latest.length).map((stage: { conversionToNext: number | null }) => stage.conversionToNext)).toEqual(model.conversion);
      expect(flow.conversionLastToWon).toEqual(model.conversion.at(-1));
      const csv = parseCsv((await analyst(`/analytics/funnel?processId=flow${query}&format=csv`).expect(200)).text);
      for (const stage of flow.stages) {
        const row = csv.find((line) => line.step === stage.stageId)!;
        expect([Number(row.reached), row.conversionToNext === '' ? null : Number(row.conversionToNext)]).toEqual([stage.reached, stage.conversionToNext]);
      }
    }
  });

  itIf(E2E_READ_MODELS === 'postgres', 'the run with read models in PostgreSQL only')('the funnel view in PostgreSQL gives the API\'s funnel', async () => {
    const { url, schema } = api.settings.readModelsPostgres!;
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const flow = flowOf<FunnelProcess>((await analyst('/analytics/funnel?processId=flow').expect(200)).body);
      const view = await client.query(`SELECT stage_id, reached::int AS reached, conversion_to_next, won::int AS won FROM ${schema}.funnel WHERE process_id = 'flow' ORDER BY display_order`);
      expect(view.rows).toEqual(flow.stages.map((stage: { stageId: string; reached: number; conversionToNext: number | null }) => ({ stage_id: stage.stageId, reached: stage.reached, conversion_to_next: stage.conversionToNext, won: flow.won })));
    } finally {
      await client.end();
    }
  });

  it('cohorts: no conversion above 100 % in any month', async () => {
    const { cohorts } = (await analyst('/analytics/cohorts?processId=flow').expect(200)).body;
    expect(cohorts.reduce((sum: number, cohort: { opened: number }) => sum + cohort.opened, 0)).toBe(deals.length);
    for (const cohort of cohorts) {
      for (const process of cohort.processes) for (const stage of process.stages) if (stage.conversionToNext !== null) expect(stage.conversionToNext).toBeLessThanOrEqual(1);
    }
  });

  it('win/loss: by the latest outcome of each deal', async () => {
    const { total } = (await analyst('/analytics/win-loss?processId=flow').expect(200)).body;
    const won = deals.filter((deal) => current(deal).status === 'won');
    const lost = deals.filter((deal) => current(deal).status === 'lost');
    expect([total.won, total.lost]).toEqual([won.length, lost.length]);
    expect(total.amountWon).toBe(won.reduce((sum, deal) => sum + current(deal).amount, 0));
  });

  const boardOf = (at: number, team?: string) => {
    const columns = Object.fromEntries(allStages.map((stage) => [stage, [0, 0, 0]]));
    for (const deal of deals) {
      const state = stateAt(deal, at);
      if (!state || state.status !== 'open' || (team !== undefined && state.team !== team)) continue;
      columns[state.stage]![0]++;
      columns[state.stage]![1] += state.amount;
      // Weighted by the stage's probability in the deal's own version then.
      columns[state.stage]![2] += (state.amount * VERSIONS[state.version]!.probability[state.stage]!) / 100;
    }
    return columns;
  };
  const columnsOf = (body: { processes: { processId: string; stages: { stageId: string; count: number; amount: number; weightedAmount: number }[] }[] }) =>
    Object.fromEntries(flowOf(body).stages.map((stage) => [stage.stageId, [stage.count, stage.amount, Math.round(stage.weightedAmount * 1000) / 1000]]));
  const rounded = (columns: Record<string, number[]>) => Object.fromEntries(Object.entries(columns).map(([id, [count, amount, weighted]]) => [id, [count, amount, Math.round(weighted! * 1000) / 1000]]));

  it('pipeline: the open deals now, as of now, and as of past instants (team then)', async () => {
    const live = (await analyst('/pipeline?processId=flow').expect(200)).body;
    expect(columnsOf(live)).toEqual(rounded(boardOf(NOW)));
    expect(columnsOf((await analyst(`/pipeline?processId=flow&asOf=${new Date(NOW).toISOString()}`).expect(200)).body)).toEqual(columnsOf(live));
    const csv = parseCsv((await analyst('/pipeline?processId=flow&format=csv').expect(200)).text);
    expect(Object.fromEntries(csv.filter((row) => row.processId === 'flow' && allStages.includes(row.stageId!)).map((row) => [row.stageId, [Number(row.count), Number(row.amount), Math.round(Number(row.weightedAmount) * 1000) / 1000]]))).toEqual(columnsOf(live));
    const rand = random(7);
    for (let i = 0; i < 8; i++) {
      const at = START + Math.floor(rand() * (clock - START));
      const team = i % 2 === 0 ? undefined : TEAMS[i % TEAMS.length];
      const body = (await analyst(`/pipeline?processId=flow&asOf=${new Date(at).toISOString()}${team ? `&teamId=${team}` : ''}`).expect(200)).body;
      expect([new Date(at).toISOString(), columnsOf(body)]).toEqual([new Date(at).toISOString(), rounded(boardOf(at, team))]);
    }
  });

  it('transitions: every move, closing and reopening counted once, from the stage it left', async () => {
    const flow = flowOf<TransitionsProcess>((await analyst('/analytics/transitions?processId=flow').expect(200)).body);
    const expected: Record<string, Record<string, number>> = {};
    for (const deal of deals) for (const [from, to] of deal.transitions) ((expected[from] ??= {})[to] = (expected[from]![to] ?? 0) + 1);
    expect(flow.matrix).toEqual(expected);
  });

  it('stage durations: completed and open visits per stage, never negative', async () => {
    const flow = flowOf<StageDurationsResult['processes'][number]>((await analyst('/analytics/stage-durations?processId=flow').expect(200)).body);
    for (const stage of flow.stages) {
      const visits = deals.flatMap((deal) => deal.visits.filter(([id]) => id === stage.stageId).map(([, ms]) => ms));
      const open = deals.filter((deal) => deal.openVisit?.stage === stage.stageId);
      expect([stage.stageId, stage.completed.count, stage.open.count]).toEqual([stage.stageId, visits.length, open.length]);
      if (visits.length > 0) expect(stage.completed.meanSeconds).toBeCloseTo(visits.reduce((a, b) => a + b, 0) / visits.length / 1000, 3);
      for (const value of [stage.completed.meanSeconds, stage.completed.medianSeconds, stage.completed.p90Seconds, stage.open.oldestAgeSeconds]) if (value !== null) expect(value).toBeGreaterThanOrEqual(0);
    }
  });

  it('waterfall: start + changes = end, both ends as the model has the board', async () => {
    for (const [from, to] of [
      [START, NOW],
      [START + 20 * 86_400_000, START + 60 * 86_400_000],
    ]) {
      const body = (await analyst(`/analytics/waterfall?processId=flow&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`).expect(200)).body;
      const count = (columns: Record<string, number[]>) => Object.values(columns).reduce((sum, [n]) => sum + n!, 0);
      expect([body.start.count, body.end.count]).toEqual([count(boardOf(from)), count(boardOf(to))]);
      expect(body.start.count + body.changes.reduce((sum: number, change: { count: number }) => sum + change.count, 0)).toBe(body.end.count);
    }
  });

  it('velocity: deals worked, closings and cycle in a window, per team as it was', async () => {
    const [from, to] = [START + 20 * 86_400_000, START + 60 * 86_400_000];
    const body = (await analyst(`/analytics/velocity?processId=flow&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&groupBy=team`).expect(200)).body;
    const model = (team?: string) => {
      const worked = deals.filter((deal) => {
        const at = stateAt(deal, from);
        if (at?.status === 'open' && (team === undefined || at.team === team)) return true;
        return deal.states.some((state) => state.at > from && state.at <= to && state.status === 'open' && (team === undefined || state.team === team));
      }).length;
      const closings = deals.flatMap((deal) =>
        deal.states.flatMap((state, i) => (i > 0 && state.at > from && state.at <= to && state.status !== 'open' && deal.states[i - 1]!.status === 'open' && (team === undefined || state.team === team) ? [{ state, deal }] : [])),
      );
      const wins = closings.filter(({ state }) => state.status === 'won');
      const cycle = wins.length === 0 ? null : wins.reduce((sum, { state, deal }) => sum + state.at - deal.openedAt, 0) / wins.length / 86_400_000;
      return { opportunities: worked, won: wins.length, lost: closings.length - wins.length, cycle };
    };
    const figures = (f: { opportunities: number; won: number; lost: number; averageCycleDays: number | null }) => ({ opportunities: f.opportunities, won: f.won, lost: f.lost, cycle: f.averageCycleDays === null ? null : Math.round(f.averageCycleDays * 1e6) / 1e6 });
    const round = (m: ReturnType<typeof model>) => ({ ...m, cycle: m.cycle === null ? null : Math.round(m.cycle * 1e6) / 1e6 });
    expect(figures(body.total)).toEqual(round(model()));
    for (const group of body.groups) expect([group.key, figures(group)]).toEqual([group.key, round(model(group.key))]);
  });

  it('cohorts: opened and ever won per month of opening', async () => {
    const { cohorts } = (await analyst('/analytics/cohorts?processId=flow').expect(200)).body;
    const month = (ms: number) => new Date(ms).toISOString().slice(0, 7);
    const expected = [...new Set(deals.map((deal) => month(deal.openedAt)))].sort().map((cohort) => {
      const mine = deals.filter((deal) => month(deal.openedAt) === cohort);
      return [cohort, mine.length, mine.filter((deal) => deal.everWon).length];
    });
    expect(cohorts.map((c: { cohort: string; opened: number; won: number }) => [c.cohort, c.opened, c.won])).toEqual(expected);
  });

  it('win/loss per team: the current team of each closed deal', async () => {
    const { groups } = (await analyst('/analytics/win-loss?processId=flow&groupBy=team').expect(200)).body;
    const closed = deals.filter((deal) => current(deal).status !== 'open');
    const expected = TEAMS.map((team) => {
      const mine = closed.filter((deal) => current(deal).team === team);
      return [team, mine.filter((deal) => current(deal).status === 'won').length, mine.filter((deal) => current(deal).status === 'lost').length];
    }).filter(([, won, lost]) => (won as number) + (lost as number) > 0);
    expect(groups.map((g: { key: string; won: number; lost: number }) => [g.key, g.won, g.lost])).toEqual(expected);
  });

  it('forecast: open deals per month of their expected close date, now and as of now alike', async () => {
    const live = (await analyst('/analytics/forecast?processId=flow').expect(200)).body;
    const asOf = (await analyst(`/analytics/forecast?processId=flow&asOf=${new Date(NOW).toISOString()}`).expect(200)).body;
    const open = (body: { periods: { period: string; open: { count: number; amountsByCurrency: Record<string, number> } }[]; withoutDate: { count: number } }) => [
      body.periods.filter((period) => period.open.count > 0).map((period) => [period.period, period.open.count, period.open.amountsByCurrency.EUR ?? 0]),
      body.withoutDate.count,
    ];
    expect(open(asOf)).toEqual(open(live));
    const months = new Map<string, [number, number]>();
    let withoutDate = 0;
    for (const deal of deals) {
      const state = current(deal);
      if (state.status !== 'open') continue;
      if (state.closeDate === null) withoutDate++;
      else {
        const cell = months.get(state.closeDate.slice(0, 7)) ?? [0, 0];
        months.set(state.closeDate.slice(0, 7), [cell[0] + 1, cell[1] + state.amount]);
      }
    }
    expect(open(live)).toEqual([[...months.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([month, [count, amount]]) => [month, count, amount]), withoutDate]);
  });

  it('rotting: longer in the stage than its rotAfterDays (the latest version that has the stage), now and as of now alike', async () => {
    const live = (await analyst('/analytics/rotting?processId=flow&limit=1000').expect(200)).body;
    const asOf = (await analyst(`/analytics/rotting?processId=flow&limit=1000&asOf=${new Date(NOW).toISOString()}`).expect(200)).body;
    const lines = (body: { count: number; opportunities: { id: string; daysInStage: number; rotAfterDays: number }[] }) => [body.count, body.opportunities.map((o) => [o.id, o.daysInStage, o.rotAfterDays])];
    expect(lines(asOf)).toEqual(lines(live));
    const rotAfter = (stage: string) => [...VERSIONS].reverse().find((version) => version.stages.includes(stage))!.rotAfterDays[stage];
    const expected = deals
      .filter((deal) => current(deal).status === 'open')
      .flatMap((deal) => {
        const { stage, enteredAt } = current(deal);
        const limit = rotAfter(stage);
        return limit !== undefined && NOW - enteredAt > limit * 86_400_000 ? [[deal.id, Math.floor((NOW - enteredAt) / 86_400_000), limit, enteredAt] as const] : [];
      })
      .sort((a, b) => a[3] - b[3] || (a[0] < b[0] ? -1 : 1))
      .map(([id, days, limit]) => [id, days, limit]);
    expect(expected.length).toBeGreaterThan(0);
    expect(lines(live)).toEqual([expected.length, expected]);
  });

  it('pipeline cards: each deal once, its own version, days in stage never negative, the same now and as of now', async () => {
    const cards = (body: { processes: { processId: string; stages: { stageId: string; count: number; opportunities: { id: string; daysInStage: number; rotting: boolean; processVersion?: string }[] }[] }[] }) =>
      flowOf(body).stages.flatMap((stage) => {
        expect(stage.opportunities).toHaveLength(stage.count);
        return stage.opportunities.map((card) => [card.id, stage.stageId, card.daysInStage, card.rotting]);
      });
    const liveBody = (await analyst('/pipeline?processId=flow&include=opportunities').expect(200)).body;
    const live = cards(liveBody);
    expect(cards((await analyst(`/pipeline?processId=flow&include=opportunities&asOf=${new Date(NOW).toISOString()}`).expect(200)).body)).toEqual(live);
    for (const [, , days] of live) expect(days).toBeGreaterThanOrEqual(0);
    const versions = Object.fromEntries(flowOf<CardsProcess>(liveBody).stages.flatMap((stage) => stage.opportunities.map((card) => [card.id, card.processVersion])));
    expect(versions).toEqual(Object.fromEntries(deals.filter((deal) => current(deal).status === 'open').map((deal) => [deal.id, versionIds[deal.version]])));
  });

  it('learned win probability on the cards: a probability, beside the configured one of the deal\'s own version', async () => {
    const body = (await analyst('/pipeline?processId=flow&include=opportunities').expect(200)).body;
    const byId = new Map(deals.map((deal) => [deal.id, deal]));
    const seen = flowOf<CardsProcess>(body).stages.flatMap((stage) =>
      stage.opportunities.map((card) => {
        expect(card.winProbability).toBeGreaterThanOrEqual(0);
        expect(card.winProbability).toBeLessThanOrEqual(100);
        return [card.id, card.configuredProbability] as const;
      }),
    );
    expect(seen).toEqual(seen.map(([id]) => [id, VERSIONS[byId.get(id)!.version]!.probability[current(byId.get(id)!).stage]]));
  });
});

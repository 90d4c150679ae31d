import { Client } from 'pg';
import { mkdirSync, writeFileSync } from 'node:fs';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { readModelsEnv } from './support/e2e-read-models';
import { E2E_READ_MODELS } from './support/e2e-read-models';
import { itIf } from './support/skips';
import { CARDS_PER_COLUMN_DEFAULT, CARDS_PER_COLUMN_MAX } from '../apps/api/src/analytics/pipeline.policy';
import { CALIBRATION_CSV, COHORTS_CSV, FORECAST_ACCURACY_CSV, FORECAST_CSV, FUNNEL_CSV, PIPELINE_CSV, STAGE_DURATIONS_CSV, TRANSITIONS_CSV, VELOCITY_CSV, WATERFALL_CSV, WIN_LOSS_CSV, type CsvTable } from '../apps/api/src/analytics/analytics.rows';
import { parseCsv } from './support/csv-answer';

const DAY = 86_400;
const at = (day: number, hour = 9) => new Date(Date.UTC(2026, 0, day, hour)).toISOString();

/** Parses the CSV this API writes (RFC 4180, CRLF) into objects of strings. */

describe('analytics from the read models (end to end)', () => {
  const dir = temporaryDirectory();
  let api: ApiTestApp & { keys: Record<string, string> };
  let lastPosition = 0;
  let openC = '';

  const command = async (path: string, body: object) => {
    const response = await api.http.post(path).send(body);
    expect(response.status).toBeLessThan(300);
    lastPosition = response.body.position;
    return response.body as { id: string; position: number };
  };
  const journey = async (opportunity: object, steps: [string, object][]) => {
    const { id } = await command('/opportunities', opportunity);
    for (const [action, body] of steps) await command(`/opportunities/${id}/${action}`, body);
    return id;
  };
  const meet = (criteria: string[], day: number): [string, object][] => criteria.map((criterionId) => ['criteria', { criterionId, met: true, occurredAt: at(day, 10) }]);
  const analyst = (path: string) => api.anonymous.get(path).set('Authorization', `Bearer ${api.keys.analyst}`);

  beforeAll(async () => {
    api = await startApiTestApp({
      eventStorePath: `${dir.path}/events.db`,
      env: { READ_MODELS_PATH: `${dir.path}/read-models.db`, READ_YOUR_WRITES_TIMEOUT_MS: '300' },
      extraKeys: [{ name: 'analyst', roles: ['analyst'] }, { name: 'direct-analyst', roles: ['analyst'], teams: ['direct'] }],
    });
    // A: the seed journey, won.  B: lost in Qualification.  C: still in Qualification.  D: another process.
    await journey({ title: 'A', processId: 'standard', teamId: 'direct', ownerId: 'ana', amount: 1000, currency: 'EUR', occurredAt: at(1) }, [
      ['move', { stage: 'qualification', occurredAt: at(2) }],
      ...meet(['need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker'], 4),
      ['move', { stage: 'proposition', occurredAt: at(5) }],
      ...meet(['proposal-given', 'decision-maker-interest', 'pricing-agreed'], 5),
      ['move', { stage: 'negotiation', occurredAt: at(6) }],
      ...meet(['negotiation-concluded', 'terms-agreed', 'contract-submitted'], 7),
      ['win', { occurredAt: at(8) }],
    ]);
    await journey({ title: 'B', processId: 'standard', teamId: 'partners', ownerId: 'bob', amount: 500, currency: 'EUR', occurredAt: at(1) }, [
      ['move', { stage: 'qualification', occurredAt: at(3) }],
      ['lose', { reason: 'price', occurredAt: at(4) }],
    ]);
    openC = await journey({ title: 'C', processId: 'standard', teamId: 'direct', ownerId: 'ana', amount: 200, currency: 'EUR', occurredAt: at(1) }, [['move', { stage: 'qualification', occurredAt: at(2) }]]);
    await journey({ title: 'D', processId: 'inside-sales', teamId: 'inside', amount: 50, currency: 'EUR', occurredAt: at(1) }, []);
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it('shows the pipeline board: open deals per stage in process order, amount and weighted amount', async () => {
    const board = (await analyst(`/pipeline?include=opportunities&minPosition=${lastPosition}`).expect(200)).body;
    const standard = board.processes.find((p: { processId: string }) => p.processId === 'standard');
    expect(standard.stages.map((s: { stageId: string; count: number; amount: number; weightedAmount: number }) => [s.stageId, s.count, s.amount, s.weightedAmount])).toEqual([
      ['new', 0, 0, 0],
      ['qualification', 1, 200, 40],
      ['proposition', 0, 0, 0],
      ['negotiation', 0, 0, 0],
    ]);
    expect(standard.stages[1].opportunities.map((o: { title: string }) => o.title)).toEqual(['C']);
    const inside = board.processes.find((p: { processId: string }) => p.processId === 'inside-sales');
    expect(inside.stages[0]).toMatchObject({ stageId: 'lead', count: 1, amount: 50, weightedAmount: 5 });
  });

  it('shows the board as it stood at a past instant (?asOf=, business time)', async () => {
    const stagesAt = async (instant: string, extra = '') => {
      const board = (await analyst(`/pipeline?asOf=${instant}&minPosition=${lastPosition}${extra}`).expect(200)).body;
      expect(board.asOf).toEqual({ instant: new Date(instant).toISOString(), axis: 'occurredAt' });
      return board.processes.find((p: { processId: string }) => p.processId === 'standard').stages.map((s: { stageId: string; count: number; amount: number }) => [s.stageId, s.count, s.amount]);
    };
    // Day 2, noon: A and C in qualification, B still new.
    expect(await stagesAt(at(2, 12))).toEqual([['new', 1, 500], ['qualification', 2, 1200], ['proposition', 0, 0], ['negotiation', 0, 0]]);
    // Day 5, noon: A in proposition, B lost, C in qualification.
    expect(await stagesAt(at(5, 12))).toEqual([['new', 0, 0], ['qualification', 1, 200], ['proposition', 1, 1000], ['negotiation', 0, 0]]);
    expect(await stagesAt(at(5, 12), '&teamId=partners')).toEqual([['new', 0, 0], ['qualification', 0, 0], ['proposition', 0, 0], ['negotiation', 0, 0]]);
    // Before anything happened: an empty board.
    expect((await stagesAt('2025-12-31T00:00:00Z')).every(([, count]: [string, number]) => count === 0)).toBe(true);
    const csv = parseCsv((await analyst(`/pipeline?asOf=${at(5, 12)}&format=csv`).expect(200)).text);
    expect(csv.find((row) => row.processId === 'standard' && row.stageId === 'proposition')).toMatchObject({ count: '1', amount: '1000' });
  });

  it('learns the win probability from closed deals, and measures its calibration', async () => {
    // Qualification has two closed visits (A won, B lost) and configured 20%: the stage's rate is
    // (1 + 10·0.2) / (2 + 10) = 25%; C, there since day 2, is in a bucket no closed visit reached.
    const board = (await analyst(`/pipeline?include=opportunities&processId=standard&minPosition=${lastPosition}`).expect(200)).body;
    const qualification = board.processes[0].stages[1];
    expect(qualification.opportunities[0]).toMatchObject({ title: 'C', configuredProbability: 20, winProbability: expect.closeTo(25, 9) });
    expect(qualification.weightedAmountLearned).toBeCloseTo(50, 9);
    expect((await api.http.get(`/opportunities/${openC}`).expect(200)).body).toMatchObject({ configuredProbability: 20, winProbability: expect.closeTo(25, 9) });
    const forecast = (await analyst('/analytics/forecast?processId=standard&include=learned').expect(200)).body;
    expect(forecast.withoutDate).toMatchObject({ weightedAmountsByCurrency: { EUR: 40 }, weightedAmountsLearnedByCurrency: { EUR: expect.closeTo(50, 9) } });
    // Before any deal closed (day 3), the learned estimate is the configured one.
    const early = (await analyst(`/pipeline?include=opportunities&processId=standard&asOf=${at(3)}`).expect(200)).body;
    expect(early.processes[0].stages[1].opportunities.find((card: { title: string }) => card.title === 'C')).toMatchObject({ winProbability: 20, configuredProbability: 20 });
    // Every stage entry of a closed deal is scored: A's four (won), B's two (lost). None of them had
    // a closed visit of its stage before it, so learned and configured (10/20/50/80) score alike.
    const calibration = (await analyst('/analytics/win-probability/calibration?processId=standard').expect(200)).body;
    const brier = ((0.1 - 1) ** 2 + (0.2 - 1) ** 2 + (0.5 - 1) ** 2 + (0.8 - 1) ** 2 + 0.1 ** 2 + 0.2 ** 2) / 6;
    expect(calibration).toMatchObject({ estimates: 6, won: 4, brierConfigured: expect.closeTo(brier, 12), brierLearned: expect.closeTo(brier, 12) });
    expect(calibration.bins[1].configured).toEqual({ count: 2, meanPredicted: 10, observedWinRate: 50 });
    const csv = parseCsv((await analyst('/analytics/win-probability/calibration?processId=standard&format=csv').expect(200)).text);
    expect(csv.map((row) => row.bin)).toEqual(['0-10', '10-20', '20-30', '30-40', '40-50', '50-60', '60-70', '70-80', '80-90', '90-100', 'all']);
    expect(csv.at(-1)).toMatchObject({ learnedCount: '6', configuredCount: '6' });
  });

  it('counts wins and losses, by team', async () => {
    const all = (await analyst('/analytics/win-loss?groupBy=team').expect(200)).body;
    expect(all.total).toMatchObject({ won: 1, lost: 1, winRate: 0.5, amountWon: 1000, lostReasons: { price: 1 } });
    expect(all.groups.map((g: { key: string; won: number; lost: number }) => [g.key, g.won, g.lost])).toEqual([
      ['direct', 1, 0],
      ['partners', 0, 1],
    ]);
  });

  it('gives the funnel and the transition matrix', async () => {
    const funnel = (await analyst('/analytics/funnel?processId=standard').expect(200)).body.processes[0];
    expect(funnel.stages.map((s: { stageId: string; reached: number }) => [s.stageId, s.reached])).toEqual([
      ['new', 3],
      ['qualification', 3],
      ['proposition', 1],
      ['negotiation', 1],
    ]);
    expect(funnel.stages[1].conversionToNext).toBeCloseTo(1 / 3);
    expect(funnel).toMatchObject({ won: 1, conversionLastToWon: 1 });

    const matrix = (await analyst('/analytics/transitions?processId=standard').expect(200)).body.processes[0].matrix;
    expect(matrix.new.qualification).toBe(3);
    expect(matrix.qualification).toMatchObject({ proposition: 1, lost: 1 });
    expect(matrix.negotiation.won).toBe(1);
  });

  it('measures time in stage from business time: completed visits and open ones', async () => {
    const stages = (await analyst('/analytics/stage-durations?processId=standard').expect(200)).body.processes[0].stages;
    const byId = Object.fromEntries(stages.map((s: { stageId: string }) => [s.stageId, s]));
    // New: A 1 day, B 2 days, C 1 day. Qualification: A 3 days, B 1 day; C still there.
    expect(byId.new.completed).toEqual({ count: 3, meanSeconds: (4 * DAY) / 3, medianSeconds: DAY, p90Seconds: 2 * DAY });
    expect(byId.qualification.completed).toEqual({ count: 2, meanSeconds: 2 * DAY, medianSeconds: 2 * DAY, p90Seconds: 3 * DAY });
    expect(byId.qualification.open.count).toBe(1);
    expect(byId.qualification.open.oldestAgeSeconds).toBeGreaterThan(300 * DAY);
  });

  it('reads from and to as inclusive bounds: an event exactly on either counts, 1 ms beyond it does not', async () => {
    const shifted = (instant: string, ms: number) => new Date(Date.parse(instant) + ms).toISOString();
    const get = async (path: string, from: string, to: string) =>
      (await analyst(`${path}${path.includes('?') ? '&' : '?'}from=${from}&to=${to}&minPosition=${lastPosition}`).expect(200)).body;
    // Win/loss by the closing: B lost at day 4, A won at day 8.
    expect((await get('/analytics/win-loss', at(4), at(8))).total).toMatchObject({ won: 1, lost: 1 });
    expect((await get('/analytics/win-loss', shifted(at(4), 1), shifted(at(8), -1))).total).toMatchObject({ won: 0, lost: 0 });
    // The funnel by the opening: A, B and C opened at day 1.
    const reached = async (from: string, to: string) => (await get('/analytics/funnel?processId=standard', from, to)).processes[0].stages[0].reached;
    expect(await reached(at(1), at(1))).toBe(3);
    expect([await reached(shifted(at(1), 1), at(30)), await reached(at(0), shifted(at(1), -1))]).toEqual([0, 0]);
    // Stage durations by the end of a visit: A and C left New at day 2, B at day 3.
    const leftNew = async (from: string, to: string) => (await get('/analytics/stage-durations?processId=standard', from, to)).processes[0].stages[0].completed.count;
    expect([await leftNew(at(2), at(2)), await leftNew(at(3), at(3)), await leftNew(shifted(at(2), 1), shifted(at(3), -1))]).toEqual([2, 1, 0]);
    // Transitions by their instant: New → Qualification twice at day 2, once at day 3.
    const moves = async (from: string, to: string) => (await get('/analytics/transitions?processId=standard', from, to)).processes[0].matrix.new?.qualification ?? 0;
    expect([await moves(at(2), at(2)), await moves(at(3), at(3)), await moves(shifted(at(2), 1), shifted(at(3), -1))]).toEqual([2, 1, 0]);
  });

  it('answers CSV with Accept: text/csv or ?format=csv, with the same numbers as JSON', async () => {
    const json = (await analyst('/analytics/funnel').expect(200)).body;
    const csv = await analyst('/analytics/funnel').set('Accept', 'text/csv').expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parseCsv(csv.text);
    for (const process of json.processes) {
      for (const stage of process.stages) {
        expect(rows).toContainEqual({ processId: process.processId, step: stage.stageId, reached: String(stage.reached), conversionToNext: stage.conversionToNext === null ? '' : String(stage.conversionToNext) });
      }
    }
    const winLoss = parseCsv((await analyst('/analytics/win-loss?groupBy=reason&format=csv').expect(200)).text);
    expect(winLoss).toContainEqual(expect.objectContaining({ group: 'price', lost: '1' }));
  });

  it('gives the grouped win/loss CSV its total line first, told apart from a group of the same name by its line column', async () => {
    for (const groupBy of ['team', 'owner', 'reason', 'month', 'process']) {
      const json = (await analyst(`/analytics/win-loss?groupBy=${groupBy}`).expect(200)).body;
      const rows = parseCsv((await analyst(`/analytics/win-loss?groupBy=${groupBy}&format=csv`).expect(200)).text);
      const cells = (figures: { won: number; lost: number; winRate: number | null }) => ({ won: String(figures.won), lost: String(figures.lost), winRate: figures.winRate === null ? '' : String(figures.winRate) });
      expect([groupBy, rows.length]).toEqual([groupBy, json.groups.length + 1]);
      expect([groupBy, rows[0]]).toEqual([groupBy, expect.objectContaining({ group: 'total', line: 'total', ...cells(json.total) })]);
      json.groups.forEach((group: { key: string | null; won: number; lost: number; winRate: number | null }, index: number) =>
        expect([groupBy, rows[index + 1]]).toEqual([groupBy, expect.objectContaining({ group: group.key ?? '', line: 'group', ...cells(group) })]),
      );
    }
    // Without groupBy, the one line is the total, as before.
    expect(parseCsv((await analyst('/analytics/win-loss?format=csv').expect(200)).text)).toEqual([expect.objectContaining({ group: 'total', line: 'total' })]);
  });

  it('heads each CSV with the columns the route declares for an answer without rows', async () => {
    const routes: [string, CsvTable<never>][] = [
      ['/pipeline', PIPELINE_CSV],
      ['/pipeline?closed=won,lost', PIPELINE_CSV],
      ['/analytics/win-loss?groupBy=month', WIN_LOSS_CSV],
      ['/analytics/stage-durations', STAGE_DURATIONS_CSV],
      ['/analytics/funnel', FUNNEL_CSV],
      ['/analytics/transitions', TRANSITIONS_CSV],
      ['/analytics/forecast', FORECAST_CSV],
      [`/analytics/forecast-accuracy?from=${at(1)}&to=${at(20)}`, FORECAST_ACCURACY_CSV],
      ['/analytics/win-probability/calibration', CALIBRATION_CSV],
      [`/analytics/waterfall?include=opportunities&from=${at(1, 0)}&to=${at(20)}`, WATERFALL_CSV],
      [`/analytics/velocity?from=${at(1, 0)}&to=${at(20)}`, VELOCITY_CSV],
      ['/analytics/cohorts', COHORTS_CSV],
    ];
    for (const [path, csv] of routes) {
      const lines = (await analyst(`${path}${path.includes('?') ? '&' : '?'}format=csv`).expect(200)).text.split('\r\n');
      expect([path, lines.length > 2]).toEqual([path, true]); // rows, not only a header: the header is the rows' own
      expect([path, lines[0]]).toEqual([path, csv.columns.join(',')]);
    }
  });

  it('waits for a position it was told about, and answers 503 when the models do not reach it in time', async () => {
    const { position } = await command('/opportunities', { title: 'E', processId: 'standard', teamId: 'direct', amount: 10 });
    const board = (await analyst(`/pipeline?minPosition=${position}`).expect(200)).body;
    expect(board.processes.find((p: { processId: string }) => p.processId === 'standard').stages[0].count).toBe(1);
    // A position past the end of the log is a mistake, told at once.
    const beyond = await analyst(`/pipeline?minPosition=${position + 1_000_000}`).expect(400);
    expect(beyond.body).toMatchObject({ code: 'REQUEST.POSITION_BEYOND_LOG', minPosition: position + 1_000_000, head: expect.any(Number) });
    // Read models that do not reach a position the log has (here: an instance serving a projector's
    // snapshots while no projector runs) answer 503 once the wait is over.
    const readModelsOfNoProjector = { READ_MODELS_PATH: `${dir.path}/no-projector.db`, ...(await readModelsEnv(`${dir.path}/no-projector`)) };
    const stale = await startApiTestApp({ eventStorePath: `${dir.path}/events.db`, env: { PROJECTIONS: 'external', READ_YOUR_WRITES_TIMEOUT_MS: '200', ...readModelsOfNoProjector } });
    try {
      const behind = await stale.http.get(`/pipeline?minPosition=${position}`).expect(503);
      expect(behind.body).toMatchObject({ code: 'PROJECTIONS.BEHIND', position: expect.any(Number), minPosition: position });
      // As every 503: when to ask again.
      expect(behind.headers['retry-after']).toBe('1');
    } finally {
      await stale.close();
    }
    const health = (await api.anonymous.get('/health').expect(200)).body;
    expect(health.projections.map((p: { name: string }) => p.name).sort()).toEqual(['funnel', 'pipeline', 'stage-durations', 'stage-intervals', 'transitions', 'win-loss', 'win-probability']);
    expect(health.projections.every((p: { checkpoint: number; lag: number }) => p.checkpoint >= position && p.lag === 0)).toBe(true);
  });

  it('shows an analyst limited to a team only that team\'s figures', async () => {
    const scoped = (await api.anonymous.get('/analytics/win-loss').set('Authorization', `Bearer ${api.keys['direct-analyst']}`).expect(200)).body;
    expect(scoped.total).toMatchObject({ won: 1, lost: 0 });
    const other = await api.anonymous.get('/analytics/win-loss?teamId=partners').set('Authorization', `Bearer ${api.keys['direct-analyst']}`).expect(403);
    expect(other.body.code).toBe('AUTH.TEAM_FORBIDDEN');
    // A team id no deal can have is the client's typo, not a team it may not see: 400 naming the field, for a limited caller too.
    for (const teamId of ['%20direct', 'direct%20', 'Direct%20team', '%E2%80%8Bdirect']) {
      const malformed = await api.anonymous.get(`/analytics/win-loss?teamId=${teamId}`).set('Authorization', `Bearer ${api.keys['direct-analyst']}`);
      expect([teamId, malformed.status, malformed.body.code, malformed.body.errors?.map((error: { field: string }) => error.field)]).toEqual([teamId, 400, 'REQUEST.VALIDATION_FAILED', ['teamId']]);
    }
  });

  it('rebuilds a projection on request and answers the same afterwards', async () => {
    const before = (await analyst('/analytics/transitions').expect(200)).body;
    await api.http.post('/admin/projections/transitions/rebuild').send({}).expect(202);
    let status: { checkpoint: number; lastRebuild: { finishedAt?: string; position: number; error?: string } | null } | undefined;
    // Polled until it ends, not for a fixed time: on PostgreSQL a rebuild on a CI machine busy with
    // other suites has taken more than 2 s, and the suite's own timeout bounds a rebuild that never ends.
    for (;;) {
      status = (await api.http.get('/admin/projections').expect(200)).body.projections.find((p: { name: string }) => p.name === 'transitions');
      if (status?.lastRebuild?.finishedAt || status?.lastRebuild?.error) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // The rebuild really ran to the end: without this the old model would pass the comparison.
    expect(status!.lastRebuild).toMatchObject({ finishedAt: expect.any(String), position: status!.checkpoint });
    expect(status!.lastRebuild!.error).toBeUndefined();
    // On PostgreSQL the read side is one schema, rebuilt whole: every model says it was; in memory only the one asked.
    const all = (await api.http.get('/admin/projections').expect(200)).body.projections as { name: string; lastRebuild: unknown }[];
    const rebuilt = all.filter((projection) => projection.lastRebuild !== null).map((projection) => projection.name);
    expect(rebuilt).toEqual(process.env.STAGECRAFT_E2E_READ_MODELS === 'postgres' ? all.map((projection) => projection.name) : ['transitions']);
    expect((await analyst('/analytics/transitions').expect(200)).body).toEqual(before);
    expect((await api.http.post('/admin/projections/nope/rebuild').send({}).expect(404)).body.code).toBe('PROJECTION.NOT_FOUND');
  });

  // Last: it closes and reopens more deals, which the figures above must not see.
  it('lists recently closed opportunities per process (?closed=won,lost): latest outcome, newest first, reopened ones gone', async () => {
    type Card = { id: string; title: string; ownerId: string | null; teamId: string | null; amount: number | null; currency: string | null; closedAt: string; closedInStage: string | null; lostReason?: string | null; processVersion?: string };
    type Section = { count: number; amount: number; amountsByCurrency: Record<string, number>; opportunities?: Card[] };
    type Board = { processes: { processId: string; stages: unknown[]; won?: Section; lost?: Section }[]; closed?: { from: string; to: string; limit: number } };
    const january = 'closedFrom=2026-01-01T00:00:00Z&closedTo=2026-01-31T23:59:59Z';
    const board = async (query: string, key = api.keys.analyst!) =>
      (await api.anonymous.get(`/pipeline?minPosition=${lastPosition}&${query}`).set('Authorization', `Bearer ${key}`).expect(200)).body as Board;
    const standardOf = (answer: Board) => answer.processes.find((p) => p.processId === 'standard')!;

    const answer = await board(`include=opportunities&closed=won,lost&${january}`);
    // Each closed card names its process version: its rules decide a reopening (the board asks them).
    const processVersion = (await api.http.get('/processes/standard').expect(200)).body.version as string;
    expect(answer.closed).toEqual({ from: '2026-01-01T00:00:00.000Z', to: '2026-01-31T23:59:59.000Z', limit: 50 });
    const standard = standardOf(answer);
    expect(standard.won).toEqual({
      count: 1,
      amount: 1000,
      amountsByCurrency: { EUR: 1000 },
      opportunities: [{ id: expect.any(String), title: 'A', ownerId: 'ana', teamId: 'direct', amount: 1000, currency: 'EUR', closedAt: at(8), closedInStage: 'negotiation', nextSteps: null, processVersion }],
    });
    expect(standard.lost).toEqual({
      count: 1,
      amount: 500,
      amountsByCurrency: { EUR: 500 },
      opportunities: [{ id: expect.any(String), title: 'B', ownerId: 'bob', teamId: 'partners', amount: 500, currency: 'EUR', closedAt: at(4), closedInStage: 'qualification', lostReason: 'price', nextSteps: null, processVersion }],
    });
    // Open cards carry their stage's criteria: C entered Qualification (5 criteria) and met none.
    const qualification = (standard.stages as { stageId: string; opportunities: { title: string; criteria: unknown }[] }[]).find((stage) => stage.stageId === 'qualification')!;
    expect(qualification.opportunities.map((card) => [card.title, card.criteria])).toEqual([['C', { met: 0, total: 5 }]]);
    expect(answer.processes.find((p) => p.processId === 'inside-sales')).toMatchObject({ won: { count: 0, amount: 0, opportunities: [] }, lost: { count: 0, opportunities: [] } });
    // Only additions: the stages are what they are without ?closed=, and without it nothing closed appears.
    const plain = await board('include=opportunities');
    expect(answer.processes.map((p) => p.stages)).toEqual(plain.processes.map((p) => p.stages));
    expect(plain.closed).toBeUndefined();
    expect(Object.keys(standardOf(plain)).sort()).toEqual(['processId', 'stages']);

    // One outcome, figures only without include=opportunities, a window that leaves B out, and a team-limited analyst.
    expect(standardOf(await board(`closed=lost&${january}`))).toEqual({ processId: 'standard', stages: expect.any(Array), lost: { count: 1, amount: 500, amountsByCurrency: { EUR: 500 } } });
    expect(standardOf(await board('closed=won,lost&closedFrom=2026-01-05T00:00:00Z&closedTo=2026-01-31T00:00:00Z')).lost!.count).toBe(0);
    const scoped = standardOf(await board(`closed=won,lost&${january}`, api.keys['direct-analyst']!));
    expect([scoped.won!.count, scoped.lost!.count]).toEqual([1, 0]);

    // Closed now (the server's clock): in the default window, the 30 days up to now.
    const lose = async (id: string, reason: string) => command(`/opportunities/${id}/lose`, { reason });
    await journey({ title: 'F', processId: 'standard', teamId: 'partners', ownerId: 'fay', amount: 70, currency: 'USD' }, [['lose', { reason: 'timing' }]]);
    const g = await journey({ title: 'G', processId: 'standard', teamId: 'partners', ownerId: 'gus', amount: 80, currency: 'USD' }, [['lose', { reason: 'competitor' }]]);
    const recent = await board('include=opportunities&closed=lost&processId=standard');
    expect(Date.parse(recent.closed!.to) - Date.parse(recent.closed!.from)).toBe(30 * DAY * 1000);
    const lost = recent.processes[0]!.lost!;
    expect(lost.opportunities!.map((card) => [card.title, card.lostReason])).toEqual([['G', 'competitor'], ['F', 'timing']]);
    expect(lost).toMatchObject({ count: 2, amount: 150, amountsByCurrency: { USD: 150 } });
    expect(lost.opportunities!.map((card) => Date.parse(card.closedAt))).toEqual([...lost.opportunities!.map((card) => Date.parse(card.closedAt))].sort((a, b) => b - a));
    // closedLimit cuts the cards, never the count.
    const limited = (await board('include=opportunities&closed=lost&processId=standard&closedLimit=1')).processes[0]!.lost!;
    expect([limited.count, limited.opportunities!.map((card) => card.title)]).toEqual([2, ['G']]);

    // Reopened: out of Lost, back on the board; lost again: back in Lost with the new closing.
    await command(`/opportunities/${g}/reopen`, { stage: 'qualification' });
    const reopened = (await board('include=opportunities&closed=lost&processId=standard')).processes[0]!;
    expect(reopened.lost!.opportunities!.map((card) => card.title)).toEqual(['F']);
    expect((reopened.stages as { stageId: string; opportunities: { id: string }[] }[]).find((stage) => stage.stageId === 'qualification')!.opportunities.map((o) => o.id)).toContain(g);
    await lose(g, 'price');
    const again = (await board('include=opportunities&closed=lost&processId=standard')).processes[0]!.lost!;
    expect(again.opportunities!.map((card) => [card.title, card.lostReason])).toEqual([['G', 'price'], ['F', 'timing']]);

    // CSV: one line per stage, then Won and Lost.
    const csv = parseCsv((await analyst(`/pipeline?closed=won,lost&${january}&processId=standard&format=csv`).expect(200)).text);
    expect(csv.map((row) => row.stageId)).toEqual(['new', 'qualification', 'proposition', 'negotiation', 'won', 'lost']);
    expect(csv.at(-2)).toMatchObject({ stageId: 'won', name: 'Won', count: '1', amount: '1000', probability: '', weightedAmount: '' });
    expect(csv.at(-1)).toMatchObject({ stageId: 'lost', count: '1', amount: '500' });
  });

  // After the closed-cards test: it opens three more deals in New, which the figures above must not see.
  it('caps the cards per column (?cardsPerColumn=): the ones longest in the stage first, how many were left out, totals of the whole column', async () => {
    type Card = { id: string; title: string; stageEnteredAt: string };
    type Stage = { stageId: string; count: number; amount: number; weightedAmount: number; amountsByCurrency: Record<string, number>; opportunities: Card[]; opportunitiesOmitted?: number };
    type Board = { processes: { processId: string; stages: Stage[]; won?: { count: number; opportunities?: unknown[] } }[] };
    for (const [title, day] of [['N2', 11], ['N1', 10], ['N3', 12]] as const) {
      await command('/opportunities', { title, processId: 'standard', teamId: 'direct', ownerId: 'ana', amount: 100, currency: 'EUR', occurredAt: at(day) });
    }
    const board = async (query: string) => (await analyst(`/pipeline?processId=standard&minPosition=${lastPosition}&${query}`).expect(200)).body as Board;
    const stagesOf = (answer: Board) => answer.processes[0]!.stages;

    const full = stagesOf(await board('include=opportunities'));
    const capped = stagesOf(await board('include=opportunities&cardsPerColumn=2'));
    // E was opened by an earlier test (now, so after January's N1–N3).
    expect(full.find((stage) => stage.stageId === 'new')!.opportunities.map((card) => card.title)).toEqual(['N1', 'N2', 'N3', 'E']);
    expect(capped.map((stage) => [stage.stageId, stage.count, stage.opportunities.map((card) => card.title), stage.opportunitiesOmitted])).toEqual([
      ['new', 4, ['N1', 'N2'], 2],
      ['qualification', 1, ['C'], 0],
      ['proposition', 0, [], 0],
      ['negotiation', 0, [], 0],
    ]);
    // Every figure and the first cards are those of the answer with the default cap, which left none out here.
    expect(capped.map(({ opportunitiesOmitted: _omitted, ...stage }) => stage)).toEqual(
      full.map(({ opportunitiesOmitted: _omitted, ...stage }) => ({ ...stage, opportunities: stage.opportunities.slice(0, 2) })),
    );
    expect(full.map((stage) => stage.opportunitiesOmitted)).toEqual([0, 0, 0, 0]);

    // With closed cards (their own closedLimit applies), and on a past board.
    const withClosed = await board('include=opportunities&cardsPerColumn=1&closed=won&closedFrom=2026-01-01T00:00:00Z&closedTo=2026-01-31T23:59:59Z');
    expect(stagesOf(withClosed).map((stage) => [stage.stageId, stage.opportunities.length, stage.opportunitiesOmitted])).toEqual([['new', 1, 3], ['qualification', 1, 0], ['proposition', 0, 0], ['negotiation', 0, 0]]);
    expect(withClosed.processes[0]!.won).toMatchObject({ count: 1, opportunities: [expect.anything()] });
    const past = stagesOf(await board(`include=opportunities&cardsPerColumn=1&asOf=${at(12, 12)}`));
    expect(past.find((stage) => stage.stageId === 'new')).toMatchObject({ count: 3, opportunities: [{ title: 'N1' }], opportunitiesOmitted: 2 });

    // CSV lists no cards: the same lines with or without the cap.
    const csv = (query: string) => analyst(`/pipeline?processId=standard&format=csv&include=opportunities${query}`).expect(200);
    expect((await csv('&cardsPerColumn=1')).text).toBe((await csv('')).text);
  });

  // Only in the run with READ_MODELS_URL: the rows are there for analysts, and the views give the API's figures.
  itIf(E2E_READ_MODELS === 'postgres', 'the run with read models in PostgreSQL only')('keeps the read models in PostgreSQL, where the views give the same figures as the API', async () => {
    const { url, schema } = api.settings.readModelsPostgres!;
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const board = (await analyst(`/pipeline?minPosition=${lastPosition}`).expect(200)).body;
      const open = board.processes.flatMap((p: { stages: { count: number }[] }) => p.stages).reduce((sum: number, s: { count: number }) => sum + s.count, 0);
      const rows = await client.query(`SELECT count(*)::int AS n FROM ${schema}.opportunities WHERE status = 'open'`);
      expect(rows.rows[0].n).toBe(open);
      const funnel = (await analyst('/analytics/funnel').expect(200)).body;
      const view = await client.query(`SELECT process_id, stage_id, reached::int AS reached, conversion_to_next, won::int AS won FROM ${schema}.funnel ORDER BY process_id, display_order`);
      expect(view.rows).toEqual(
        funnel.processes.flatMap((p: { processId: string; won: number; stages: { stageId: string; reached: number; conversionToNext: number | null }[] }) =>
          p.stages.map((s) => ({ process_id: p.processId, stage_id: s.stageId, reached: s.reached, conversion_to_next: s.conversionToNext, won: p.won })),
        ),
      );
      const winLoss = (await analyst('/analytics/win-loss?groupBy=team').expect(200)).body;
      const total = await client.query(`SELECT won::int AS won, lost::int AS lost, win_rate FROM ${schema}.win_loss WHERE group_by = 'total'`);
      expect(total.rows[0]).toEqual({ won: winLoss.total.won, lost: winLoss.total.lost, win_rate: winLoss.total.winRate });
      // Amounts per outcome and currency, never added across currencies (migration 6).
      const amounts = await client.query(`SELECT outcome, currency, amount FROM ${schema}.win_loss_amounts ORDER BY outcome, currency COLLATE "C"`);
      const perCurrency = (outcome: string, byCurrency: Record<string, number>) => Object.entries(byCurrency).map(([currency, amount]) => ({ outcome, currency: currency === 'unspecified' ? null : currency, amount }));
      expect(amounts.rows).toEqual([...perCurrency('lost', winLoss.total.amountLostByCurrency), ...perCurrency('won', winLoss.total.amountWonByCurrency)].sort((a, b) => a.outcome.localeCompare(b.outcome) || String(a.currency).localeCompare(String(b.currency))));
      const teams = await client.query(`SELECT key, won::int AS won, lost::int AS lost FROM ${schema}.win_loss WHERE group_by = 'team' ORDER BY key COLLATE "C" NULLS LAST`);
      expect(teams.rows).toEqual(winLoss.groups.map((g: { key: string | null; won: number; lost: number }) => ({ key: g.key, won: g.won, lost: g.lost })));
      const durations = (await analyst('/analytics/stage-durations?processId=standard').expect(200)).body.processes[0].stages;
      const durationView = await client.query(`SELECT stage_id, completed_count::int AS count, mean_seconds, median_seconds, p90_seconds FROM ${schema}.stage_durations WHERE process_id = 'standard' ORDER BY display_order`);
      expect(durationView.rows).toEqual(durations.map((s: { stageId: string; completed: { count: number; meanSeconds: number | null; medianSeconds: number | null; p90Seconds: number | null } }) => ({ stage_id: s.stageId, count: s.completed.count, mean_seconds: s.completed.meanSeconds, median_seconds: s.completed.medianSeconds, p90_seconds: s.completed.p90Seconds })));
      const comments = await client.query(
        `SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL`,
        [schema],
      );
      expect(comments.rows).toEqual([]); // every column of every table says what it holds
    } finally {
      await client.end();
    }
  });

  it('refuses bad filters with field errors', async () => {
    const bad = await analyst('/analytics/win-loss?groupBy=colour&from=yesterday&minPosition=-3').expect(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['from', 'groupBy', 'minPosition']);
  });
});

// Cards listed with include=opportunities are always capped (apps/api/src/analytics/pipeline.policy.ts):
// without cardsPerColumn a column of 40k deals once listed every one of them in one answer.
describe('the default cap on the cards of a column (end to end)', () => {
  const dir = temporaryDirectory();
  let api: ApiTestApp & { keys: Record<string, string> };
  let lastPosition = 0;
  const DEALS = CARDS_PER_COLUMN_DEFAULT + 3;

  beforeAll(async () => {
    api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db`, env: { READ_MODELS_PATH: `${dir.path}/read-models.db` }, extraKeys: [{ name: 'analyst', roles: ['analyst'] }] });
    for (let i = 0; i < DEALS; i += 1) {
      const response = await api.http.post('/opportunities').send({ title: `Deal ${i}`, processId: 'standard', teamId: 'direct', occurredAt: at(1 + (i % 28)) });
      expect(response.status).toBe(201);
      lastPosition = response.body.position;
    }
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it('lists at most CARDS_PER_COLUMN_DEFAULT cards per column and says how many it left out, also on a past board; cardsPerColumn asks for more', async () => {
    type Stage = { stageId: string; count: number; opportunities: unknown[]; opportunitiesOmitted?: number };
    const board = async (query: string) => (await api.anonymous.get(`/pipeline?processId=standard&include=opportunities&minPosition=${lastPosition}${query}`).set('Authorization', `Bearer ${api.keys.analyst}`).expect(200)).body.processes[0].stages[0] as Stage;
    expect(await board('')).toMatchObject({ stageId: 'new', count: DEALS, opportunities: expect.any(Array), opportunitiesOmitted: 3 });
    expect((await board('')).opportunities).toHaveLength(CARDS_PER_COLUMN_DEFAULT);
    expect((await board(`&asOf=${at(28, 12)}`)).opportunitiesOmitted).toBe(3);
    const more = await board(`&cardsPerColumn=${CARDS_PER_COLUMN_MAX}`);
    expect([more.opportunities.length, more.opportunitiesOmitted]).toEqual([DEALS, 0]);
  });
});

// Amounts are added exactly, in whole minor units (libs/projections/src/exact-amounts.ts): every
// unweighted sum the API answers is the exact decimal, on both read sides, and agrees with the
// waterfall. 0.1 + 0.2 would be 0.30000000000000004 as floats, 626.97 + 142.69 769.6600000000001.
describe('amounts added exactly (end to end)', () => {
  const dir = temporaryDirectory();
  let api: ApiTestApp & { keys: Record<string, string> };
  let lastPosition = 0;
  const day = (month: number, date: number) => new Date(Date.UTC(2026, month - 1, date, 9)).toISOString();
  const analyst = (path: string) => api.anonymous.get(`${path}${path.includes('?') ? '&' : '?'}minPosition=${lastPosition}`).set('Authorization', `Bearer ${api.keys.analyst}`);
  const send = async (path: string, body: object) => {
    const response = await api.http.post(path).send(body);
    expect({ path, status: response.status < 300 ? 'ok' : response.body }).toEqual({ path, status: 'ok' });
    lastPosition = response.body.position;
    return response.body as { id: string };
  };
  const open = (title: string, body: object, opened: string) => send('/opportunities', { title, processId: 'quick', teamId: 'direct', occurredAt: opened, ...body });
  const NOISE = /0\.3000000000|769\.6600000000|0\.2999999999|769\.6599999999/;

  beforeAll(async () => {
    const processesDir = `${dir.path}/processes`;
    mkdirSync(processesDir);
    writeFileSync(`${processesDir}/quick.yaml`, 'id: quick\nname: Quick\nstages:\n  - { id: talk, name: Talk, probability: 20 }\nrules: { winFrom: [talk] }\nlostReasons: [price]\n');
    api = await startApiTestApp({
      eventStorePath: `${dir.path}/events.db`,
      processesDir,
      clock: () => new Date(day(3, 1)),
      env: { READ_MODELS_PATH: `${dir.path}/read-models.db`, READ_YOUR_WRITES_TIMEOUT_MS: '2000' },
      extraKeys: [{ name: 'analyst', roles: ['analyst'] }],
    });
    // Open: 0.1 + 0.2 EUR with a February close date, 626.97 + 142.69 without a currency or a date.
    await open('E1', { amount: 0.1, currency: 'EUR', expectedCloseDate: '2026-02-10' }, day(1, 2));
    await open('E2', { amount: 0.2, currency: 'EUR', expectedCloseDate: '2026-02-20' }, day(1, 3));
    await open('N1', { amount: 626.97 }, day(1, 4));
    await open('N2', { amount: 142.69 }, day(1, 5));
    // Won in February: 0.1 + 0.2 USD; lost in February: 626.97 + 142.69 GBP.
    const w1 = await open('W1', { amount: 0.1, currency: 'USD', expectedCloseDate: '2026-02-05' }, day(1, 6));
    const w2 = await open('W2', { amount: 0.2, currency: 'USD', expectedCloseDate: '2026-02-06' }, day(1, 7));
    const l1 = await open('L1', { amount: 626.97, currency: 'GBP' }, day(1, 8));
    const l2 = await open('L2', { amount: 142.69, currency: 'GBP' }, day(1, 9));
    await send(`/opportunities/${w1.id}/win`, { occurredAt: day(2, 5) });
    await send(`/opportunities/${w2.id}/win`, { occurredAt: day(2, 6) });
    await send(`/opportunities/${l1.id}/lose`, { reason: 'price', occurredAt: day(2, 7) });
    await send(`/opportunities/${l2.id}/lose`, { reason: 'price', occurredAt: day(2, 8) });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it('adds the open columns exactly, live and as of an instant, as the waterfall does (JSON and CSV)', async () => {
    const talk = async (query: string) => (await analyst(`/pipeline?processId=quick${query}`).expect(200)).body.processes[0].stages[0];
    expect((await talk('')).amountsByCurrency).toEqual({ unspecified: 769.66, EUR: 0.3 });
    const before = { unspecified: 769.66, EUR: 0.3, USD: 0.3, GBP: 769.66 };
    expect((await talk(`&asOf=${day(2, 1)}`)).amountsByCurrency).toEqual(before);
    const waterfall = (await analyst(`/analytics/waterfall?processId=quick&from=${day(1, 1)}&to=${day(2, 1)}&by=stage`).expect(200)).body;
    expect(waterfall.processes[0].stages[0].end.amountsByCurrency).toEqual(before);
    expect(waterfall.end.amountsByCurrency).toEqual(before);
    // One currency: the column's amount is that exact sum too.
    expect(await talk('&asOf=2026-01-03T12:00:00Z')).toMatchObject({ amount: 0.3, amountsByCurrency: { EUR: 0.3 } });
    for (const query of ['', `&asOf=${day(2, 1)}`]) {
      const csv = (await analyst(`/pipeline?processId=quick&format=csv${query}`).expect(200)).text;
      expect(csv).not.toMatch(NOISE);
      expect(JSON.parse(parseCsv(csv)[0]!.amountsByCurrency!)).toMatchObject({ unspecified: 769.66, EUR: 0.3 });
    }
  });

  it('adds the closed sections and win/loss exactly (JSON and CSV)', async () => {
    const closed = (await analyst(`/pipeline?processId=quick&closed=won,lost&closedFrom=${day(2, 1)}&closedTo=${day(2, 28)}`).expect(200)).body.processes[0];
    expect([closed.won.amount, closed.won.amountsByCurrency, closed.lost.amount, closed.lost.amountsByCurrency]).toEqual([0.3, { USD: 0.3 }, 769.66, { GBP: 769.66 }]);
    const closedCsv = (await analyst(`/pipeline?processId=quick&closed=won,lost&closedFrom=${day(2, 1)}&closedTo=${day(2, 28)}&format=csv`).expect(200)).text;
    expect(closedCsv).not.toMatch(NOISE);
    expect(parseCsv(closedCsv).filter((row) => row.stageId === 'won' || row.stageId === 'lost').map((row) => [row.stageId, row.amount])).toEqual([['won', '0.3'], ['lost', '769.66']]);
    for (const query of ['', '?groupBy=team', '?from=2026-02-01T00:00:00Z&to=2026-02-07T12:00:00Z']) {
      const winLoss = (await analyst(`/analytics/win-loss${query}`).expect(200)).body;
      for (const figures of [winLoss.total, ...(winLoss.groups ?? [])]) {
        expect([figures.amountWon, figures.amountWonByCurrency, figures.amountLost, figures.amountLostByCurrency]).toEqual([0.3, { USD: 0.3 }, query.includes('from') ? 626.97 : 769.66, { GBP: query.includes('from') ? 626.97 : 769.66 }]);
      }
    }
    const winLossCsv = (await analyst('/analytics/win-loss?format=csv').expect(200)).text;
    expect(winLossCsv).not.toMatch(NOISE);
    expect(parseCsv(winLossCsv)[0]).toMatchObject({ amountWon: '0.3', amountLost: '769.66' });
  });

  it('adds the forecast and its accuracy exactly, now and as of an instant (JSON and CSV)', async () => {
    const forecast = (await analyst('/analytics/forecast?processId=quick').expect(200)).body;
    const february = forecast.periods.find((p: { period: string }) => p.period === '2026-02');
    expect([february.open.amountsByCurrency, february.won.amountsByCurrency, forecast.withoutDate.amountsByCurrency]).toEqual([{ EUR: 0.3 }, { USD: 0.3 }, { unspecified: 769.66 }]);
    const then = (await analyst(`/analytics/forecast?processId=quick&asOf=${day(2, 1)}`).expect(200)).body;
    expect(then.periods.find((p: { period: string }) => p.period === '2026-02').open.amountsByCurrency).toEqual({ EUR: 0.3, USD: 0.3 });
    expect(then.withoutDate.amountsByCurrency).toEqual({ GBP: 769.66, unspecified: 769.66 });
    const accuracy = (await analyst('/analytics/forecast-accuracy?processId=quick').expect(200)).body;
    const feb = accuracy.periods.find((p: { period: string }) => p.period === '2026-02');
    expect([feb.forecast.amountsByCurrency, feb.won.amountsByCurrency]).toEqual([{ EUR: 0.3, USD: 0.3 }, { USD: 0.3 }]);
    for (const path of ['/analytics/forecast?processId=quick&format=csv', `/analytics/forecast?processId=quick&asOf=${day(2, 1)}&format=csv`, '/analytics/forecast-accuracy?processId=quick&format=csv']) {
      const csv = (await analyst(path).expect(200)).text;
      expect(csv).not.toMatch(NOISE);
    }
    const csv = parseCsv((await analyst('/analytics/forecast?processId=quick&format=csv').expect(200)).text);
    expect(csv.filter((row) => row.period === '2026-02').map((row) => [row.currency, row.openAmount, row.wonAmount])).toEqual([['EUR', '0.3', '0'], ['USD', '0', '0.3']]);
    expect(csv.find((row) => row.period === 'without date')).toMatchObject({ currency: 'unspecified', openAmount: '769.66' });
  });

  itIf(E2E_READ_MODELS === 'postgres', 'the run with read models in PostgreSQL only')('gives the same exact sums in the win_loss_amounts view', async () => {
    await analyst('/analytics/win-loss').expect(200);
    const { url, schema } = api.settings.readModelsPostgres!;
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      // The shortest text of each double, so a float sum's noise would show.
      await client.query('SET extra_float_digits = 3');
      const rows = (await client.query(`SELECT outcome, currency, amount FROM ${schema}.win_loss_amounts ORDER BY outcome, currency`)).rows;
      expect(rows).toEqual([{ outcome: 'lost', currency: 'GBP', amount: 769.66 }, { outcome: 'won', currency: 'USD', amount: 0.3 }]);
    } finally {
      await client.end();
    }
  });
});

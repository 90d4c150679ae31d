import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';

// Calibration of deals migrated to another process version between a stage entry and its outcome
// (README, "Learned win probability"): each entry is scored with the estimate the product gave at
// the entry instant — the stage and version the deal entered, that version's configured
// probability, and the learned probability the board as of that instant showed on its card — not
// with the stage a later migration mapped the visit to. Runs on both read sides (the jest projects
// "sqlite" and "e2e on postgres read models").

const at = (month: number, day: number, hour = 9) => new Date(Date.UTC(2026, month - 1, day, hour)).toISOString();
const NOW = new Date(at(7, 1));

// v1: sign at 80. v2: sign is renamed review (60) and lead's probability changes from 10 to 20.
const V1 = `
id: deals
name: Deals
stages:
  - { id: lead, name: Lead, probability: 10 }
  - { id: sign, name: Sign, probability: 80 }
rules: { winFrom: [sign], allowSkipping: true }
lostReasons: [price]
`;
const V2 = `
id: deals
name: Deals
stages:
  - { id: lead, name: Lead, probability: 20 }
  - { id: review, name: Review, probability: 60 }
rules: { winFrom: [review], allowSkipping: true }
lostReasons: [price]
`;

describe('win probability calibration of deals migrated after a stage entry (end to end)', () => {
  const dir = temporaryDirectory();
  const processesDir = join(dir.path, 'processes');
  const eventStorePath = join(dir.path, 'events.db');
  let api: ApiTestApp & { keys: Record<string, string> };
  let lastPosition = 0;
  const ids: Record<string, string> = {};

  const start = async (yaml: string) => {
    writeFileSync(join(processesDir, 'deals.yaml'), yaml);
    api = await startApiTestApp({
      eventStorePath,
      processesDir,
      clock: () => NOW,
      env: { READ_MODELS_PATH: join(dir.path, 'read-models.db'), READ_YOUR_WRITES_TIMEOUT_MS: '5000' },
      extraKeys: [{ name: 'analyst', roles: ['analyst'] }],
    });
    return (await api.http.get('/processes/deals').expect(200)).body.version as string;
  };
  const send = async (path: string, body: object) => {
    const response = await api.http.post(path).send(body);
    if (response.status >= 300) throw new Error(`${path} ${JSON.stringify(body)}: ${response.status} ${JSON.stringify(response.body)}`);
    lastPosition = response.body.position;
    return response.body as { id: string };
  };
  const open = async (name: string, when: string) => (ids[name] = (await send('/opportunities', { title: name, processId: 'deals', teamId: 'direct', amount: 100, occurredAt: when })).id);
  const analyst = (path: string) => api.anonymous.get(`${path}${path.includes('?') ? '&' : '?'}minPosition=${lastPosition}`).set('Authorization', `Bearer ${api.keys.analyst}`).expect(200);
  /** The card of a deal on the board as of an instant: its stage, learned and configured probability. */
  const cardAsOf = async (id: string, instant: string) => {
    const body = (await analyst(`/pipeline?include=opportunities&cardsPerColumn=100&asOf=${instant}`)).body as { processes: { stages: { stageId: string; opportunities: { id: string; winProbability: number; configuredProbability: number }[] }[] }[] };
    for (const stage of body.processes.flatMap((process) => process.stages)) {
      const card = stage.opportunities.find((o) => o.id === id);
      if (card) return { stageId: stage.stageId, winProbability: card.winProbability, configuredProbability: card.configuredProbability };
    }
    throw new Error(`${id} is not on the board as of ${instant}`);
  };

  beforeAll(async () => {
    mkdirSync(processesDir);
    await start(V1);
    // Two lives closed in sign before the entries scored: the learned estimate of sign moves away from 80.
    for (const [name, day] of [['early lost 1', 2], ['early lost 2', 4]] as const) {
      await open(name, at(4, day));
      await send(`/opportunities/${ids[name]}/move`, { stage: 'sign', occurredAt: at(4, day + 1) });
      await send(`/opportunities/${ids[name]}/lose`, { reason: 'price', occurredAt: at(4, day + 10) });
    }
    // The colleague's repro: into sign (80) on 05-03 under v1, migrated on 06-02 (sign → review, 60), won.
    await open('signed', at(5, 1));
    await send(`/opportunities/${ids.signed}/move`, { stage: 'sign', occurredAt: at(5, 3) });
    // Opened in lead (10) on 05-04 under v1, migrated on 06-02 (lead stays lead, now 20), lost.
    await open('led', at(5, 4));
    await api.close();

    const v2 = await start(V2);
    await send(`/opportunities/${ids.signed}/migrate`, { toVersion: v2, stageMapping: { sign: 'review' }, occurredAt: at(6, 2) });
    await send(`/opportunities/${ids.led}/migrate`, { toVersion: v2, stageMapping: { sign: 'review' }, occurredAt: at(6, 2) });
    await send(`/opportunities/${ids.signed}/win`, { occurredAt: at(6, 10) });
    await send(`/opportunities/${ids.led}/lose`, { reason: 'price', occurredAt: at(6, 11) });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it('scores each entry with the stage, configured probability and learned estimate of the board as of the entry instant', async () => {
    const signed = await cardAsOf(ids.signed!, at(5, 3));
    const led = await cardAsOf(ids.led!, at(5, 4));
    // The board then: in sign at v1's 80, and in lead at v1's 10; sign learned from the two lives lost before.
    expect([signed.stageId, signed.configuredProbability, led.stageId, led.configuredProbability]).toEqual(['sign', 80, 'lead', 10]);
    expect(signed.winProbability).toBeLessThan(80);

    const body = (await analyst(`/analytics/win-probability/calibration?from=${at(5, 2)}&to=${at(5, 5)}`)).body as {
      estimates: number;
      won: number;
      brierLearned: number;
      brierConfigured: number;
      bins: { from: number; learned: { count: number; meanPredicted: number | null }; configured: { count: number; meanPredicted: number | null } }[];
    };
    // Two entries in the period: signed into sign (won), led into lead (lost).
    expect([body.estimates, body.won]).toEqual([2, 1]);
    expect(body.brierConfigured).toBeCloseTo(((0.8 - 1) ** 2 + 0.1 ** 2) / 2, 12);
    expect(body.brierLearned).toBeCloseTo(((signed.winProbability / 100 - 1) ** 2 + (led.winProbability / 100) ** 2) / 2, 12);
    const filled = (side: 'learned' | 'configured') => body.bins.filter((bin) => bin[side].count > 0).map((bin) => [bin.from, bin[side].count, bin[side].meanPredicted]);
    expect(filled('configured')).toEqual([
      [10, 1, 10],
      [80, 1, 80],
    ]);
    const learnedBins = [signed.winProbability, led.winProbability].map((p) => [Math.min(90, Math.floor(p / 10) * 10), 1, p]).sort((a, b) => a[0]! - b[0]!);
    expect(filled('learned').map(([from, count, mean]) => [from, count, mean === null ? null : Number(mean.toFixed(9))])).toEqual(learnedBins.map(([from, count, p]) => [from, count, Number(p!.toFixed(9))]));
  });

  it('filters by the process and period of the entry, whatever the version the deal ends on', async () => {
    const sign = await cardAsOf(ids.signed!, at(5, 3));
    const body = (await analyst(`/analytics/win-probability/calibration?processId=deals&from=${at(5, 3)}&to=${at(5, 3)}`)).body as { estimates: number; brierLearned: number; brierConfigured: number };
    expect([body.estimates, body.brierConfigured]).toEqual([1, expect.closeTo(0.04, 12)]);
    expect(body.brierLearned).toBeCloseTo((sign.winProbability / 100 - 1) ** 2, 12);
  });
});

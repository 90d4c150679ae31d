import { join } from 'node:path';
import { spawnApi, type ApiChildProcess } from './support/api-child-process';
import { temporaryDirectory } from './support/api-test-app';

// The same query gives the same figures on servers in any time zone: instants carry their zone
// (zoneless ones are refused), and months, days and periods are counted in UTC. The events sit
// near day and month boundaries, where a local-time reading would move them.

const ZONES = ['UTC', 'Pacific/Kiritimati', 'America/St_Johns', 'Asia/Kathmandu'];

// Times chosen to fall on another day (or month) in at least one of the zones above.
const JAN_31_LATE = '2026-01-31T23:30:00Z';
const FEB_01_EARLY = '2026-02-01T00:15:00Z';
const MAR_01_EARLY = '2026-03-01T02:00:00Z';

const QUERIES = [
  '/pipeline?include=opportunities',
  '/pipeline?asOf=2026-02-01T00:00:00Z&include=opportunities',
  '/pipeline?asOf=2026-02-01T14:00:00%2B14:00&include=opportunities',
  '/pipeline?closed=won,lost&include=opportunities&closedFrom=2026-01-31T00:00:00Z&closedTo=2026-02-01T00:00:00Z',
  '/analytics/win-loss',
  '/analytics/win-loss?groupBy=month',
  '/analytics/win-loss?groupBy=month&format=csv',
  '/analytics/win-loss?from=2026-02-01T00:00:00Z&to=2026-03-01T00:00:00Z',
  '/analytics/win-loss?from=2026-02-01T10:00:00%2B10:00&to=2026-03-01T00:00:00-00:00',
  '/analytics/stage-durations',
  '/analytics/stage-durations?from=2026-01-31T12:00:00Z&to=2026-02-01T12:00:00Z',
  '/analytics/funnel?to=2026-03-01T05:45:00%2B05:45&format=csv',
  '/analytics/funnel?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z',
  '/analytics/transitions',
  '/analytics/transitions?format=csv',
];

async function post(api: ApiChildProcess, path: string, body: object): Promise<{ id: string; position: number }> {
  const response = await fetch(`${api.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBeLessThan(300);
  return (await response.json()) as { id: string; position: number };
}

async function answers(api: ApiChildProcess, position: number): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const query of QUERIES) {
    const response = await fetch(`${api.baseUrl}${query}${query.includes('?') ? '&' : '?'}minPosition=${position}`);
    expect({ query, status: response.status }).toEqual({ query, status: 200 });
    // Open visits' ages run up to the wall clock, which moves between the runs: not compared.
    result[query] = (await response.text()).replace(/"oldestAgeSeconds":[0-9.]+/g, '"oldestAgeSeconds":"(now − entry)"');
  }
  return result;
}

describe('figures do not depend on the server time zone', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  it(`answers every analytics query identically with TZ=${ZONES.join(', ')}`, async () => {
    const env = { EVENT_STORE_PATH: join(dir.path, 'events.db') };
    let position = 0;
    const byZone: Record<string, Record<string, string>> = {};
    for (const zone of ZONES) {
      // Read models of its own: each zone folds the log itself, none inherits another's saved models.
      const api = await spawnApi({ ...env, TZ: zone, READ_MODELS_PATH: join(dir.path, `read-models-${zone.replace('/', '-')}.db`) });
      try {
        if (zone === ZONES[0]) {
          const qualify = ['need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker'];
          const won = await post(api, '/opportunities', { title: 'Won at midnight', processId: 'standard', amount: 100, occurredAt: '2026-01-20T09:00:00Z' });
          await post(api, `/opportunities/${won.id}/move`, { stage: 'qualification', occurredAt: JAN_31_LATE });
          for (const criterionId of qualify) await post(api, `/opportunities/${won.id}/criteria`, { criterionId, met: true, occurredAt: JAN_31_LATE });
          await post(api, `/opportunities/${won.id}/move`, { stage: 'proposition', occurredAt: FEB_01_EARLY });
          for (const criterionId of ['proposal-given', 'decision-maker-interest', 'pricing-agreed']) await post(api, `/opportunities/${won.id}/criteria`, { criterionId, met: true, occurredAt: FEB_01_EARLY });
          await post(api, `/opportunities/${won.id}/move`, { stage: 'negotiation', occurredAt: FEB_01_EARLY });
          for (const criterionId of ['negotiation-concluded', 'terms-agreed', 'contract-submitted']) await post(api, `/opportunities/${won.id}/criteria`, { criterionId, met: true, occurredAt: FEB_01_EARLY });
          await post(api, `/opportunities/${won.id}/win`, { occurredAt: FEB_01_EARLY });
          const lost = await post(api, '/opportunities', { title: 'Lost late on the 31st', processId: 'standard', amount: 40, occurredAt: '2026-01-25T09:00:00Z' });
          await post(api, `/opportunities/${lost.id}/move`, { stage: 'qualification', occurredAt: JAN_31_LATE });
          await post(api, `/opportunities/${lost.id}/lose`, { reason: 'price', occurredAt: JAN_31_LATE });
          const open = await post(api, '/opportunities', { title: 'Opened on the 1st of March', processId: 'standard', amount: 7, occurredAt: MAR_01_EARLY });
          position = open.position;
        }
        byZone[zone] = await answers(api, position);
      } finally {
        api.child.kill('SIGTERM');
        await api.exited();
      }
    }
    // The data are where the zones disagree: the month grouping has both January and February.
    expect(byZone.UTC!['/analytics/win-loss?groupBy=month']).toContain('2026-01');
    expect(byZone.UTC!['/analytics/win-loss?groupBy=month']).toContain('2026-02');
    for (const zone of ZONES.slice(1)) {
      for (const query of QUERIES) expect({ zone, query, answer: byZone[zone]![query] }).toEqual({ zone, query, answer: byZone.UTC![query] });
    }
  });
});

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { readSettings } from '@stagecraft/config';
import { openEventStore, type StoredEvent } from '@stagecraft/event-store';
import { fromOpportunityStreamId } from '@stagecraft/opportunity';
import { auditProcessRules, type AuditedEvent } from '@stagecraft/opportunity/testing';
import { PROCESS_STREAM_PREFIX, type ProcessDefinition } from '@stagecraft/sales-process';
import { ROOT, SHIPPED_PROCESSES, startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { eventStoreEnv } from './support/e2e-store';
import { stagecraft } from './support/stagecraft-cli';

// No bypass (issue 13, item 1): the process rules hold for every caller on every path. First the
// reopens an outsider tried, then random command sequences over HTTP, a bulk migration and a CLI
// backfill import on one store; every stream in that store is then read as an auditor reads it
// (libs/opportunity/src/testing/process-rules.auditor.ts, written apart from the decider).

type Api = ApiTestApp & { keys: Record<string, string> };

describe('no bypass: reopen follows the process', () => {
  const dir = temporaryDirectory();
  let api: Api;
  beforeAll(async () => {
    api = await startApiTestApp({ eventStorePath: join(dir.path, 'events.db') });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  const send = (path: string, body: object) => api.http.post(path).send(body);
  const open = async (processId: string, teamId: string) => (await send('/opportunities', { title: 'Deal', processId, teamId }).expect(201)).body.id as string;

  it('standard: a deal lost in New reopens in New or Qualification, never in Negotiation', async () => {
    const id = await open('standard', 'direct');
    await send(`/opportunities/${id}/lose`, { reason: 'price' }).expect(200);
    const refused = (await send(`/opportunities/${id}/reopen`, { stage: 'negotiation' }).expect(422)).body;
    expect(refused).toMatchObject({ code: 'OPPORTUNITY.SKIP_NOT_ALLOWED', closedIn: 'new', reopenableStages: ['new', 'qualification'] });
    expect(refused.detail).toContain('Cannot reopen in "negotiation"');
    expect((await send(`/opportunities/${id}/reopen`, { stage: 'proposition' }).expect(422)).body.code).toBe('OPPORTUNITY.SKIP_NOT_ALLOWED');
    expect((await send(`/opportunities/${id}/reopen`, { stage: 'qualification' }).expect(200)).body).toMatchObject({ stage: 'qualification', status: 'open' });
  });

  it('standard: a deal lost in Qualification cannot reopen past its unmet criteria, but may go back', async () => {
    const id = await open('standard', 'direct');
    await send(`/opportunities/${id}/move`, { stage: 'qualification' }).expect(200);
    await send(`/opportunities/${id}/criteria`, { criterionId: 'need-confirmed', met: true }).expect(200);
    await send(`/opportunities/${id}/lose`, { reason: 'timing' }).expect(200);
    // Criteria met before the close do not carry over: the reopened visit starts from none.
    const refused = (await send(`/opportunities/${id}/reopen`, { stage: 'proposition' }).expect(422)).body;
    expect(refused).toMatchObject({ code: 'OPPORTUNITY.EXIT_CRITERIA_UNMET', stage: 'qualification', closedIn: 'qualification' });
    expect(refused.unmetCriteria.map((criterion: { id: string }) => criterion.id)).toContain('need-confirmed');
    expect((await send(`/opportunities/${id}/reopen`, { stage: 'new' }).expect(200)).body.stage).toBe('new');
  });

  it('inside-sales (no going back): a deal lost in Closing reopens only in Closing', async () => {
    const id = await open('inside-sales', 'inside');
    await send(`/opportunities/${id}/criteria`, { criterionId: 'contact-made', met: true }).expect(200);
    await send(`/opportunities/${id}/move`, { stage: 'closing' }).expect(200);
    await send(`/opportunities/${id}/lose`, { reason: 'price' }).expect(200);
    for (const stage of ['lead', 'quote']) {
      expect((await send(`/opportunities/${id}/reopen`, { stage }).expect(422)).body).toMatchObject({ code: 'OPPORTUNITY.BACKWARD_NOT_ALLOWED', reopenableStages: ['closing'] });
    }
    expect((await send(`/opportunities/${id}/reopen`, {}).expect(200)).body.stage).toBe('closing');
  });

  it('a won deal reopens where it was won, or earlier where going back is allowed', async () => {
    const id = await open('inside-sales', 'inside');
    await send(`/opportunities/${id}/criteria`, { criterionId: 'contact-made', met: true }).expect(200);
    await send(`/opportunities/${id}/move`, { stage: 'quote' }).expect(200);
    await send(`/opportunities/${id}/criteria`, { criterionId: 'quote-sent', met: true }).expect(200);
    await send(`/opportunities/${id}/win`, {}).expect(200);
    expect((await send(`/opportunities/${id}/reopen`, { stage: 'closing' }).expect(422)).body.code).toBe('OPPORTUNITY.EXIT_CRITERIA_UNMET');
    expect((await send(`/opportunities/${id}/reopen`, { stage: 'lead' }).expect(422)).body.code).toBe('OPPORTUNITY.BACKWARD_NOT_ALLOWED');
    expect((await send(`/opportunities/${id}/reopen`, { stage: 'quote' }).expect(200)).body.stage).toBe('quote');
  });
});

describe('no bypass: every history a store holds keeps the rules, whatever path wrote it', () => {
  const dir = temporaryDirectory();
  const processesDir = join(dir.path, 'processes');
  const eventStorePath = join(dir.path, 'events.db');
  let api: Api;

  beforeAll(async () => {
    mkdirSync(processesDir);
    for (const file of ['standard.yaml', 'inside-sales.yaml']) copyFileSync(join(SHIPPED_PROCESSES, file), join(processesDir, file));
    api = await startApiTestApp({ eventStorePath, processesDir });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  const STANDARD = ['new', 'qualification', 'proposition', 'negotiation', 'limbo'];
  const INSIDE = ['lead', 'quote', 'closing', 'limbo'];
  const CRITERIA = ['need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker', 'proposal-given', 'decision-maker-interest', 'pricing-agreed', 'negotiation-concluded', 'terms-agreed', 'contract-submitted', 'contact-made', 'quote-sent', 'order-form-signed'];
  const step = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('criterion' as const), criterionId: fc.constantFrom(...CRITERIA), met: fc.boolean() }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('move' as const), stage: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('win' as const) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('lose' as const), reason: fc.constantFrom('price', 'timing', 'no-response', 'bogus') }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('reopen' as const), stage: fc.option(fc.nat(), { nil: undefined }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('patch' as const), teamId: fc.constantFrom('direct', 'partners', 'inside', 'ghost') }) },
  );
  const deal = fc.record({ inside: fc.boolean(), steps: fc.array(step, { minLength: 5, maxLength: 25 }) });

  it('random HTTP commands, a bulk migration and a CLI backfill leave only histories that keep every rule', async () => {
    // 1. Random command sequences over HTTP; refusals are expected, 5xx never.
    const deals = fc.sample(fc.array(deal, { minLength: 12, maxLength: 12 }), { seed: 1313, numRuns: 1 })[0]!;
    const statuses = new Set<number>();
    for (const { inside, steps } of deals) {
      const processId = inside ? 'inside-sales' : 'standard';
      const stages = inside ? INSIDE : STANDARD;
      const id = (await api.http.post('/opportunities').send({ title: 'Random', processId, teamId: inside ? 'inside' : 'direct' }).expect(201)).body.id as string;
      for (const s of steps) {
        const path = `/opportunities/${id}`;
        const response =
          s.kind === 'criterion'
            ? await api.http.post(`${path}/criteria`).send({ criterionId: s.criterionId, met: s.met })
            : s.kind === 'move'
              ? await api.http.post(`${path}/move`).send({ stage: stages[s.stage % stages.length] })
              : s.kind === 'win'
                ? await api.http.post(`${path}/win`).send({})
                : s.kind === 'lose'
                  ? await api.http.post(`${path}/lose`).send({ reason: s.reason })
                  : s.kind === 'reopen'
                    ? await api.http.post(`${path}/reopen`).send(s.stage === undefined ? {} : { stage: stages[s.stage % stages.length] })
                    : await api.http.patch(path).send({ teamId: s.teamId });
        statuses.add(response.status);
      }
    }
    expect([...statuses].filter((status) => status >= 500)).toEqual([]);
    expect(statuses).toContain(422); // the sequences did try what the rules forbid

    // 2. A new version without Proposition; every open deal on v1 migrates, Proposition mapped to Negotiation.
    const v1 = (await api.http.get('/processes/standard').expect(200)).body.version as string;
    await api.close();
    const file = join(processesDir, 'standard.yaml');
    const yaml = readFileSync(file, 'utf8').replace(/ {2}- id: proposition\n[\s\S]*?(?= {2}- id: negotiation)/, '');
    expect(yaml).not.toContain('id: proposition');
    writeFileSync(file, yaml);
    api = await startApiTestApp({ eventStorePath, processesDir });
    const v2 = (await api.http.get('/processes/standard').expect(200)).body.version as string;
    const report = (await api.http.post('/processes/standard/migrate').send({ fromVersion: v1, toVersion: v2, stageMapping: { proposition: 'negotiation' } }).expect(200)).body;
    expect(report.refused.filter((refusal: { status: number }) => refusal.status >= 500)).toEqual([]);
    // A stage the new version keeps cannot be sent elsewhere by a mapping.
    // Refused once, for every deal, as the single route refuses it (nothing is migrated).
    const kept = (await api.http.post('/processes/standard/migrate').send({ fromVersion: v1, toVersion: v2, stageMapping: { new: 'negotiation' } }).expect(422)).body;
    expect(kept).toMatchObject({ code: 'OPPORTUNITY.INVALID_STAGE_MAPPING', problem: 'stage-still-exists' });
    await api.close();

    // 3. A backfill through the CLI (on v2): a deal lost in Qualification and later found in Negotiation.
    const csv = join(dir.path, 'backfill.csv');
    writeFileSync(
      csv,
      [
        'opportunityId,occurredAt,stage,outcome,lostReason,processId,title,teamId',
        'SF-1,2026-01-01T09:00:00Z,new,,,standard,Backfilled,direct',
        'SF-1,2026-01-02T09:00:00Z,qualification,,,,,',
        'SF-1,2026-01-03T09:00:00Z,qualification,lost,price,,,',
        'SF-1,2026-01-05T09:00:00Z,negotiation,,,,,',
        'SF-2,2026-01-01T09:00:00Z,lead,,,inside-sales,Backfilled inside,inside',
        'SF-2,2026-01-02T09:00:00Z,closing,lost,price,,,',
        'SF-2,2026-01-03T09:00:00Z,lead,,,,,',
      ].join('\n'),
    );
    const env = { ...(await eventStoreEnv(eventStorePath)), PROCESSES_DIR: processesDir, READ_MODELS_PATH: join(dir.path, 'read-models.db') };
    const imported = stagecraft(env, 'import', csv, '--json');
    expect(imported.stderr).not.toContain('Error');
    const summary = JSON.parse(imported.stdout) as { imported: number; rejected: { line: number; reason: string }[] };
    // SF-1 reopens where it closed and moves on, recording the criteria the source never tracked
    // (a reopen straight into Negotiation would pass Qualification's criteria);
    // SF-2 cannot go back from Closing on a process without backward moves: that row is refused.
    expect(summary.rejected.map((rejection) => rejection.line)).toEqual([8]);
    expect(summary.rejected[0]!.reason).toContain('OPPORTUNITY.BACKWARD_NOT_ALLOWED');

    // 4. The auditor reads every stream of the store.
    const store = openEventStore(readSettings(env, ROOT));
    let log: StoredEvent[];
    try {
      log = await store.readAll();
    } finally {
      await store.close();
    }
    const recordings = log
      .filter((event) => event.stream.startsWith(PROCESS_STREAM_PREFIX))
      .map((event) => ({ version: String(event.data.version), definition: event.data.definition as unknown as ProcessDefinition, position: event.position }));
    const versions = (version: string, asOf = Infinity) => {
      const latest = recordings.filter((recording) => recording.version === version && recording.position < asOf).at(-1);
      return latest && { definition: latest.definition, recordedOrder: latest.position };
    };
    const streams = new Map<string, AuditedEvent[]>();
    for (const event of log) if (fromOpportunityStreamId(event.stream) !== undefined) streams.set(event.stream, [...(streams.get(event.stream) ?? []), event]);
    expect(streams.size).toBeGreaterThanOrEqual(deals.length + 2);
    const problems = [...streams].flatMap(([stream, events]) => auditProcessRules(events, versions).map((problem) => `${stream} ${problem}`));
    expect(problems).toEqual([]);
    expect(log.some((event) => event.type === 'ProcessMigrated')).toBe(true);
    expect(log.some((event) => event.type === 'OpportunityReopened')).toBe(true);
  });
});

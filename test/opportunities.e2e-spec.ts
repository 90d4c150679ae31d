import { randomUUID } from 'node:crypto';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { E2E_STORE } from './support/e2e-store';

const QUALIFICATION = ['need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker'];
const PROPOSITION = ['proposal-given', 'decision-maker-interest', 'pricing-agreed'];
const NEGOTIATION = ['negotiation-concluded', 'terms-agreed', 'contract-submitted'];

describe('the command API on the embedded store (end to end)', () => {
  const dir = temporaryDirectory();
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db` });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  const open = async (body: Record<string, unknown> = {}) => {
    const response = await api.http.post('/opportunities').send({ title: 'ACME renewal', processId: 'standard', ...body }).expect(201);
    return response.body as { id: string; revision: number; position: number };
  };
  const meetAll = async (id: string, criteria: string[]) => {
    for (const criterionId of criteria) {
      await api.http.post(`/opportunities/${id}/criteria`).send({ criterionId, met: true, note: `${criterionId} checked` }).expect(200);
    }
  };

  it('runs the seed journey: New → Qualification → (refused) → criteria → Proposition → Negotiation → won', async () => {
    const opened = await api.http
      .post('/opportunities')
      .set('X-Actor', 'ana@example.com')
      .set('X-Correlation-Id', 'journey-1')
      .send({ title: 'ACME renewal', processId: 'standard', teamId: 'direct', ownerId: 'ana', amount: 48000, currency: 'EUR' })
      .expect(201);
    expect(opened.body).toEqual({ id: expect.any(String), stage: 'new', status: 'open', revision: 0, position: expect.any(Number) });
    expect(opened.headers.location).toBe(`/opportunities/${opened.body.id}`);
    const id: string = opened.body.id;

    await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);

    const refused = await api.http.post(`/opportunities/${id}/move`).send({ stage: 'proposition' }).expect(422);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body.code).toBe('OPPORTUNITY.EXIT_CRITERIA_UNMET');
    expect(refused.body.unmetCriteria.map((c: { id: string }) => c.id)).toEqual(QUALIFICATION);
    expect(refused.body.unmetCriteria[1]).toEqual({ id: 'budget-confirmed', description: 'There is a budget' });

    await meetAll(id, QUALIFICATION);
    await api.http.post(`/opportunities/${id}/move`).send({ stage: 'proposition' }).expect(200);
    await meetAll(id, PROPOSITION);
    await api.http.post(`/opportunities/${id}/move`).send({ stage: 'negotiation' }).expect(200);
    await meetAll(id, NEGOTIATION);
    const won = await api.http.post(`/opportunities/${id}/win`).send({ note: 'Signed on the 3rd' }).expect(200);
    expect(won.body).toMatchObject({ id, stage: 'negotiation', status: 'won', revision: 15 });

    const view = await api.http.get(`/opportunities/${id}`).expect(200);
    expect(view.body).toMatchObject({
      id,
      processId: 'standard',
      processVersion: expect.stringMatching(/^[0-9a-f]{16}$/),
      title: 'ACME renewal',
      teamId: 'direct',
      ownerId: 'ana',
      amount: 48000,
      currency: 'EUR',
      stage: 'negotiation',
      status: 'won',
      criteriaMet: [],
      revision: 15,
      closedAt: expect.any(String),
    });
    expect(view.headers.etag).toBe('"15"');

    const history = await api.http.get(`/opportunities/${id}/history`).expect(200);
    const events = history.body.events as { revision: number; position: number; type: string; metadata: Record<string, unknown> }[];
    expect(events.map((e) => e.revision)).toEqual([...Array(16).keys()]);
    expect(events.map((e) => e.type)).toEqual([
      'OpportunityOpened',
      'StageChanged',
      ...QUALIFICATION.map(() => 'ExitCriterionMet'),
      'StageChanged',
      ...PROPOSITION.map(() => 'ExitCriterionMet'),
      'StageChanged',
      ...NEGOTIATION.map(() => 'ExitCriterionMet'),
      'OpportunityWon',
    ]);
    const positions = events.map((e) => e.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(events[0]!.metadata).toMatchObject({
      actor: 'test-service',
      onBehalfOf: 'ana@example.com',
      authenticatedBy: expect.stringMatching(/^api-key:[0-9a-f]{12}$/),
      correlationId: 'journey-1',
      commandId: expect.any(String),
      recordedAt: expect.any(String),
    });
    expect(events[0]!.metadata.causationId).toBe(events[0]!.metadata.commandId);
    expect(events[1]!.metadata).toMatchObject({ actor: 'test-service', correlationId: expect.any(String) });
    expect(events[1]!.metadata.onBehalfOf).toBeUndefined();
    expect(new Set(events.map((e) => e.metadata.commandId)).size).toBe(16);
  });

  it('loses another opportunity with a reason, refuses a bad reason, then reopens it', async () => {
    const { id } = await open();
    const bad = await api.http.post(`/opportunities/${id}/lose`).send({ reason: 'bad-luck' }).expect(422);
    expect(bad.body.code).toBe('OPPORTUNITY.INVALID_LOST_REASON');
    expect(bad.body.lostReasons).toContain('competitor');

    const lost = await api.http.post(`/opportunities/${id}/lose`).send({ reason: 'competitor', note: 'Went with BigCo' }).expect(200);
    expect(lost.body).toMatchObject({ status: 'lost', stage: 'new' });
    expect((await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(422)).body.code).toBe('OPPORTUNITY.ALREADY_CLOSED');

    const reopened = await api.http.post(`/opportunities/${id}/reopen`).send({}).expect(200);
    expect(reopened.body).toMatchObject({ status: 'open', stage: 'new', revision: 2 });
    const history = await api.http.get(`/opportunities/${id}/history`).expect(200);
    expect(history.body.events.map((e: { type: string }) => e.type)).toEqual(['OpportunityOpened', 'OpportunityLost', 'OpportunityReopened']);
    expect(history.body.events[1].data).toMatchObject({ reason: 'competitor', note: 'Went with BigCo', stage: 'new' });
  });

  it('refuses a win outside winFrom with every exit criterion of the stage met (winFrom alone refuses), appending nothing', async () => {
    const { id } = await open();
    await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
    await meetAll(id, QUALIFICATION);
    const before = (await api.http.get(`/opportunities/${id}`).expect(200)).body.revision;
    const refused = await api.http.post(`/opportunities/${id}/win`).send({}).expect(422);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'OPPORTUNITY.NOT_WINNABLE_FROM_STAGE', stage: 'qualification', winFrom: ['negotiation'] });
    expect((await api.http.get(`/opportunities/${id}`).expect(200)).body).toMatchObject({ status: 'open', stage: 'qualification', revision: before });
    // The criteria were all that a move forward needs: only winFrom stood in the way.
    await api.http.post(`/opportunities/${id}/move`).send({ stage: 'proposition' }).expect(200);
  });

  it('keeps the business time a backfilling client gives, and refuses one that goes backwards', async () => {
    const { id } = await open({ occurredAt: '2025-01-10T09:00:00Z' });
    await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification', occurredAt: '2025-01-12T10:30:00+01:00' }).expect(200);
    const back = await api.http.post(`/opportunities/${id}/criteria`).send({ criterionId: 'goals', met: true, occurredAt: '2025-01-11T00:00:00Z' }).expect(422);
    expect(back.body.code).toBe('OPPORTUNITY.OCCURRED_AT_BEFORE_LAST_EVENT');
    const view = await api.http.get(`/opportunities/${id}`).expect(200);
    expect(view.body).toMatchObject({ openedAt: '2025-01-10T09:00:00.000Z', stageEnteredAt: '2025-01-12T09:30:00.000Z' });
  });

  it('records only the changed details, and revokes criteria', async () => {
    const { id } = await open({ amount: 100, ownerId: 'ana' });
    const patched = await api.http.patch(`/opportunities/${id}`).send({ amount: 250, ownerId: 'ana' }).expect(200);
    expect(patched.body.revision).toBe(1);
    const history = await api.http.get(`/opportunities/${id}/history`).expect(200);
    expect(history.body.events[1]).toMatchObject({ type: 'OpportunityDetailsChanged', data: { amount: 250 } });
    expect(history.body.events[1].data.ownerId).toBeUndefined();

    await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
    await api.http.post(`/opportunities/${id}/criteria`).send({ criterionId: 'goals', met: true }).expect(200);
    await api.http.post(`/opportunities/${id}/criteria`).send({ criterionId: 'goals', met: false, note: 'Goals changed' }).expect(200);
    const view = await api.http.get(`/opportunities/${id}`).expect(200);
    expect(view.body.criteriaMet).toEqual([]);
    expect(view.body.exitCriteria).toContainEqual({ id: 'goals', description: 'What the prospect wants to achieve is identified', met: false });
  });

  describe('concurrency', () => {
    it('lets exactly one of 50 parallel moves with the same expectedRevision through; the others get 409', async () => {
      const { id, revision } = await open();
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification', expectedRevision: revision })),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(49);
      const conflict = responses.find((r) => r.status === 409)!;
      expect(conflict.body).toMatchObject({ code: 'OPPORTUNITY.REVISION_CONFLICT', expectedRevision: 0, actualRevision: 1 });
      const history = await api.http.get(`/opportunities/${id}/history`).expect(200);
      expect(history.body.events).toHaveLength(2);
    });

    it('an open that expects a revision of an opportunity not made yet is a conflict whose actual revision is null, not a placeholder', async () => {
      const id = randomUUID();
      for (const send of [
        () => api.http.post('/opportunities').send({ id, title: 'Early', processId: 'standard', expectedRevision: 0 }),
        () => api.http.post('/opportunities').set('If-Match', '"0"').send({ id, title: 'Early', processId: 'standard' }),
      ]) {
        const conflict = await send();
        expect(conflict.status).toBe(409);
        expect(conflict.body).toMatchObject({ code: 'OPPORTUNITY.REVISION_CONFLICT', expectedRevision: 0, actualRevision: null });
        expect(conflict.body.detail).toMatch(/does not exist yet/);
      }
      await api.http.get(`/opportunities/${id}`).expect(404);
    });

    it('accepts If-Match as the expected revision, and refuses a body that disagrees with it', async () => {
      const { id } = await open();
      expect((await api.http.post(`/opportunities/${id}/move`).set('If-Match', '"3"').send({ stage: 'qualification' }).expect(409)).body.code).toBe('OPPORTUNITY.REVISION_CONFLICT');
      const moved = await api.http.post(`/opportunities/${id}/move`).set('If-Match', '"0"').send({ stage: 'qualification' }).expect(200);
      expect(moved.headers.etag).toBe('"1"');
      const disagree = await api.http.post(`/opportunities/${id}/move`).set('If-Match', '"1"').send({ stage: 'new', expectedRevision: 0 }).expect(400);
      expect(disagree.body.code).toBe('REQUEST.CONFLICTING_REVISIONS');
    });

    it('lands every one of 40 parallel commands on one deal (a hot stream), none answered 409 CONCURRENT_MODIFICATION', async () => {
      const { id } = await open();
      await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
      const responses = await Promise.all(
        Array.from({ length: 40 }, (_, i) => api.http.post(`/opportunities/${id}/criteria`).set('Idempotency-Key', `hot-${id}-${i}`).send({ criterionId: 'goals', met: i % 2 === 0, note: `step ${i}` })),
      );
      expect(responses.filter((r) => r.status !== 200).map((r) => r.body.code)).toEqual([]);
      const view = await api.http.get(`/opportunities/${id}`).expect(200);
      expect(view.body.revision).toBe(41);
    });

    it('retries conflicts inside the handler when the client gave no expected revision: all criteria land', async () => {
      const { id } = await open();
      await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
      const responses = await Promise.all(QUALIFICATION.map((criterionId) => api.http.post(`/opportunities/${id}/criteria`).send({ criterionId, met: true })));
      expect(responses.map((r) => r.status)).toEqual(QUALIFICATION.map(() => 200));
      const view = await api.http.get(`/opportunities/${id}`).expect(200);
      expect([...view.body.criteriaMet].sort()).toEqual([...QUALIFICATION].sort());
      expect(view.body.revision).toBe(6);
    });
  });

  describe('history', () => {
    it('pages the events: fromRevision and limit, each page naming the next', async () => {
      const { id } = await open();
      await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
      for (let i = 0; i < 12; i++) await api.http.post(`/opportunities/${id}/criteria`).send({ criterionId: 'goals', met: i % 2 === 0 }).expect(200);
      const page = async (query: string) => {
        const { events, nextFromRevision } = (await api.http.get(`/opportunities/${id}/history${query}`).expect(200)).body as { events: { revision: number }[]; nextFromRevision: number | null };
        return [events.map((event) => event.revision), nextFromRevision];
      };
      const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
      expect(await page('')).toEqual([range(0, 13), null]);
      expect(await page('?limit=5')).toEqual([range(0, 4), 5]);
      expect(await page('?fromRevision=5&limit=5')).toEqual([range(5, 9), 10]);
      expect(await page('?fromRevision=10&limit=5')).toEqual([range(10, 13), null]);
      expect(await page('?fromRevision=10&limit=4')).toEqual([range(10, 13), null]);
      expect(await page('?fromRevision=14')).toEqual([[], null]);
      for (const [query, field] of [['?limit=0', 'limit'], ['?limit=10001', 'limit'], ['?fromRevision=-1', 'fromRevision'], ['?fromRevision=1e3', 'fromRevision'], ['?view=timeline&limit=0', 'limit'], ['?view=timeline&fromRevision=x', 'fromRevision']]) {
        const refused = await api.http.get(`/opportunities/${id}/history${query}`).expect(400);
        expect([query, refused.body.code, refused.body.errors?.[0]?.field]).toEqual([query, 'REQUEST.VALIDATION_FAILED', field]);
      }
    });

    it('pages the timeline as the events, by the revision of the event that made each step; a step reads the same on any page', async () => {
      const { id } = await open();
      await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
      for (let i = 0; i < 4; i++) await api.http.post(`/opportunities/${id}/criteria`).send({ criterionId: 'goals', met: i % 2 === 0, note: `call ${i}` }).expect(200);
      for (const day of ['2026-06-01', '2026-07-01', '2026-08-01', '2026-09-01']) await api.http.patch(`/opportunities/${id}`).send({ expectedCloseDate: day }).expect(200);
      type Timeline = { steps: { revision: number }[]; nextFromRevision: number | null };
      const timeline = async (query: string) => (await api.http.get(`/opportunities/${id}/history?view=timeline${query}`).expect(200)).body as Timeline;
      const page = async (query: string) => {
        const { steps, nextFromRevision } = await timeline(query);
        return [steps.map((step) => step.revision), nextFromRevision];
      };
      // Steps: the opening (0), the move (1), the four date changes (6–9); the criteria (2–5) are no steps.
      const whole = await timeline('');
      expect([whole.steps.map((step) => step.revision), whole.nextFromRevision]).toEqual([[0, 1, 6, 7, 8, 9], null]);
      expect(await page('&limit=2')).toEqual([[0, 1], 6]);
      expect(await page('&fromRevision=2&limit=2')).toEqual([[6, 7], 8]);
      expect(await page('&fromRevision=8&limit=2')).toEqual([[8, 9], null]);
      expect(await page('&fromRevision=10')).toEqual([[], null]);
      // A step on a later page still knows the stage it left and when it entered it.
      expect((await timeline('&fromRevision=7&limit=1')).steps).toEqual([whole.steps[3]]);
    });
  });

  describe('idempotency', () => {
    it('applies a command sent twice with the same Idempotency-Key once, and answers the same', async () => {
      const { id } = await open();
      const send = () => api.http.post(`/opportunities/${id}/move`).set('Idempotency-Key', `move-${id}`).send({ stage: 'qualification' });
      const first = await send().expect(200);
      const second = await send().expect(200);
      expect(second.body).toEqual(first.body);
      expect(second.headers['idempotent-replayed']).toBe('true');
      const history = await api.http.get(`/opportunities/${id}/history`).expect(200);
      expect(history.body.events).toHaveLength(2);
    });

    it('opens one opportunity for a repeated open without an id, even when the repeats race', async () => {
      const key = randomUUID();
      const responses = await Promise.all(Array.from({ length: 5 }, () => api.http.post('/opportunities').set('Idempotency-Key', key).send({ title: 'Once', processId: 'standard' })));
      expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
      expect(new Set(responses.map((r) => JSON.stringify(r.body))).size).toBe(1);
      const history = await api.http.get(`/opportunities/${responses[0]!.body.id}/history`).expect(200);
      expect(history.body.events).toHaveLength(1);
    });

    it('refuses the same key with a different request', async () => {
      const { id } = await open();
      await api.http.post(`/opportunities/${id}/move`).set('Idempotency-Key', 'k-reused').send({ stage: 'qualification' }).expect(200);
      const reused = await api.http.post(`/opportunities/${id}/move`).set('Idempotency-Key', 'k-reused').send({ stage: 'new' }).expect(422);
      expect(reused.body.code).toBe('COMMAND.IDEMPOTENCY_KEY_REUSED');
    });
  });

  describe('processes and health', () => {
    it('lists the processes with their versions and serves the machine as JSON', async () => {
      const list = await api.http.get('/processes').expect(200);
      expect(list.body.processes.map((p: { id: string }) => p.id)).toEqual(['inside-sales', 'standard']);
      const standard = await api.http.get('/processes/standard').expect(200);
      expect(standard.body.definition.stages).toHaveLength(4);
      // The main process is the one whose file says default: true, not the first file.
      expect(list.body.processes.map((p: { id: string; default: boolean }) => [p.id, p.default])).toEqual([
        ['inside-sales', false],
        ['standard', true],
      ]);
      // Where a deal may go from each stage, as the rule table says; a refused step says why, as a move would be refused.
      const fromProposition = (standard.body.moves as { from: string; options: { to: string; allowed: boolean; requiredCriteria: string[]; refusal?: { code: string; message: string } }[] }[]).find(
        (entry) => entry.from === 'proposition',
      )!.options;
      expect(fromProposition.map((option) => [option.to, option.allowed, option.refusal?.code ?? null])).toEqual([
        ['new', true, null],
        ['qualification', true, null],
        ['negotiation', true, null],
        ['won', false, 'OPPORTUNITY.NOT_WINNABLE_FROM_STAGE'],
        ['lost', true, null],
      ]);
      expect(fromProposition.find((option) => option.to === 'negotiation')!.requiredCriteria).toEqual(['proposal-given', 'decision-maker-interest', 'pricing-agreed']);
      const deal = (await api.http.post('/opportunities').send({ title: 'Table check', processId: 'standard', teamId: 'direct' }).expect(201)).body.id as string;
      await api.http.post(`/opportunities/${deal}/move`).send({ stage: 'qualification' }).expect(200);
      const skip = standard.body.moves.find((entry: { from: string }) => entry.from === 'qualification').options.find((option: { to: string }) => option.to === 'negotiation');
      const refused = await api.http.post(`/opportunities/${deal}/move`).send({ stage: 'negotiation' }).expect(422);
      expect([refused.body.code, refused.body.detail]).toEqual([skip.refusal.code, skip.refusal.message]);
      expect(standard.body.versions).toEqual([{ version: standard.body.version, recordedAt: expect.any(String), source: expect.stringContaining('standard.yaml'), current: true }]);
      const machine = await api.http.get('/processes/standard/machine').expect(200);
      expect(Object.keys(machine.body.states)).toEqual(['new', 'qualification', 'proposition', 'negotiation', 'closed']);
      expect((await api.http.get('/processes/nope').expect(404)).body.code).toBe('PROCESS.NOT_FOUND');
      expect((await api.http.get('/processes/standard/machine?version=deadbeef').expect(404)).body.code).toBe('PROCESS.VERSION_NOT_FOUND');
    });

    it('reports the store and the loaded processes', async () => {
      const health = await api.http.get('/health').expect(200);
      expect(health.body).toMatchObject({ status: 'ok', store: { kind: E2E_STORE, reachable: true }, processes: [{ id: 'inside-sales' }, { id: 'standard' }] });
    });

    it('serves the OpenAPI description', async () => {
      const docs = await api.http.get('/docs/openapi.json').expect(200);
      expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/opportunities', '/opportunities/{id}/move', '/processes/{id}/machine', '/health']));
    });

    it('serves the docs page with every file it loads, and nothing else of the folder it comes from', async () => {
      for (const page of ['/docs', '/docs/']) {
        const html = (await api.anonymous.get(page).expect(200)).text;
        const files = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((match) => match[1]!).filter((file) => !file.startsWith('http') && !file.startsWith('data:'));
        expect(files.length).toBeGreaterThanOrEqual(4);
        for (const file of files) {
          const path = new URL(file, `http://localhost${page}`).pathname;
          expect([page, path, (await api.anonymous.get(path)).status]).toEqual([page, path, 200]);
        }
      }
      const notFound = ['/docs/package.json', '/docs/README.md', '/docs/index.js', `/docs/${'a'.repeat(256)}`, '/docs/%2e%2e/%2e%2e/package.json', '/docs/.%2e/', '/docs/docs/package.json'];
      for (const path of notFound) {
        const answer = await api.anonymous.get(path);
        expect([path, answer.status, answer.body.code]).toEqual([path, 404, 'ROUTE.NOT_FOUND']);
      }
      expect((await api.anonymous.delete('/docs/anything')).status).toBe(404);
      const method = await api.anonymous.delete('/docs/swagger-ui.css');
      expect([method.status, method.body.code]).toEqual([405, 'ROUTE.METHOD_NOT_ALLOWED']);
      for (const path of ['/docs?x=1', '/docs/openapi.json?x=1']) {
        const answer = await api.anonymous.get(path);
        expect([path, answer.status, answer.body.code, answer.body.errors?.[0]?.field]).toEqual([path, 400, 'REQUEST.VALIDATION_FAILED', 'x']);
      }
    });
  });
});

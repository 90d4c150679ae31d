import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHIPPED_PROCESSES, startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';

// Issue 13, items 5–7: one deal per id whatever its case; no answer that tells a caller limited
// to teams that another team's deal exists; an Idempotency-Key that means one thing.

type Api = ApiTestApp & { keys: Record<string, string> };

describe('ids, team limits and idempotency keys hold for every caller', () => {
  const dir = temporaryDirectory();
  let api: Api;
  beforeAll(async () => {
    api = await startApiTestApp({
      eventStorePath: join(dir.path, 'events.db'),
      extraKeys: [
        { name: 'direct-writer', roles: ['writer'], teams: ['direct'] },
        { name: 'partners-writer', roles: ['writer'], teams: ['partners'] },
        { name: 'direct-auditor', roles: ['auditor'], teams: ['direct'] },
        { name: 'direct-admin', roles: ['admin'], teams: ['direct'] },
      ],
    });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  const as = (key: string) => ({
    get: (path: string) => api.anonymous.get(path).set('Authorization', `Bearer ${api.keys[key]}`),
    post: (path: string, body: object, headers: Record<string, string> = {}) => api.anonymous.post(path).set('Authorization', `Bearer ${api.keys[key]}`).set(headers).send(body),
  });
  const open = async (body: object = {}) => (await api.http.post('/opportunities').send({ title: 'Deal', processId: 'standard', teamId: 'direct', ...body }).expect(201)).body.id as string;
  const events = async (id: string) => (await api.http.get(`/opportunities/${id}/history`).expect(200)).body.events as unknown[];

  describe('one deal, one id', () => {
    it('the capitals of an existing id name the same deal: opening them again is a conflict, reading and moving reach it', async () => {
      const id = await open({ id: randomUUID() });
      const upper = id.toUpperCase();
      expect((await api.http.post('/opportunities').send({ id: upper, title: 'Twin', processId: 'standard', teamId: 'direct' }).expect(409)).body.code).toBe('OPPORTUNITY.ALREADY_OPENED');
      // A key limited to another team cannot make a twin either.
      expect((await as('partners-writer').post('/opportunities', { id: upper, title: 'Twin', processId: 'standard', teamId: 'partners' })).body.code).toBe('OPPORTUNITY.ALREADY_OPENED');
      expect((await api.http.get(`/opportunities/${upper}`).expect(200)).body.id).toBe(id);
      expect((await api.http.post(`/opportunities/${upper}/move`).send({ stage: 'qualification' }).expect(200)).body).toMatchObject({ id, revision: 1 });
      expect(await events(id)).toHaveLength(2);
    });

    it('an id given in capitals is stored in lower case', async () => {
      const given = randomUUID().toUpperCase();
      const answer = (await api.http.post('/opportunities').send({ id: given, title: 'Shouting', processId: 'standard' }).expect(201)).body;
      expect(answer.id).toBe(given.toLowerCase());
      expect((await api.http.get(`/opportunities/${given.toLowerCase()}/history`).expect(200)).body.events).toHaveLength(1);
    });

    it('every read asked in capitals names the deal by its one id, as the commands do', async () => {
      const id = await open({ id: randomUUID() });
      const upper = id.toUpperCase();
      expect((await api.http.get(`/opportunities/${upper}/history?view=timeline`).expect(200)).body.opportunityId).toBe(id);
      expect((await api.http.get(`/opportunities/${upper}/verify`).expect(200)).body.opportunityId).toBe(id);
      expect((await api.http.get(`/opportunities/${upper}?asOf=2999-01-01T00:00:00Z`).expect(200)).body.id).toBe(id);
      // Not found, whoever asks, says the id as a command's refusal says it (lower case).
      const unknown = randomUUID();
      for (const path of ['', '/history', '/history?view=timeline', '?asOf=2999-01-01T00:00:00Z']) {
        expect((await api.http.get(`/opportunities/${unknown.toUpperCase()}${path}`).expect(404)).body.opportunityId).toBe(unknown);
      }
      expect((await api.http.get(`/opportunities/${unknown.toUpperCase()}/verify`).expect(404)).body.opportunityId).toBe(unknown);
      expect((await api.http.post(`/opportunities/${unknown.toUpperCase()}/move`).send({ stage: 'qualification' }).expect(404)).body.opportunityId).toBe(unknown);
    });
  });

  describe('no oracle across teams', () => {
    it('another team\'s deal answers exactly as an unknown id does, on every route', async () => {
      const theirs = await open({ teamId: 'partners' });
      const unknown = randomUUID();
      const routes = [
        (id: string) => as('direct-writer').get(`/opportunities/${id}`),
        (id: string) => as('direct-writer').post(`/opportunities/${id}/move`, { stage: 'qualification' }),
        (id: string) => as('direct-writer').post(`/opportunities/${id}/criteria`, { criterionId: 'need-confirmed', met: true }),
        (id: string) => as('direct-writer').post(`/opportunities/${id}/lose`, { reason: 'price' }),
        (id: string) => as('direct-auditor').get(`/opportunities/${id}/history`),
        (id: string) => as('direct-auditor').get(`/opportunities/${id}/history?view=timeline`),
        (id: string) => as('direct-auditor').get(`/opportunities/${id}/verify`),
        (id: string) => as('direct-auditor').get(`/opportunities/${id}?asOf=2030-01-01T00:00:00Z`),
      ];
      for (const route of routes) {
        const [foreign, missing] = [await route(theirs), await route(unknown)];
        const blank = (body: Record<string, unknown>, id: string) => JSON.parse(JSON.stringify(body).split(id).join('<id>')) as unknown;
        expect({ status: foreign.status, body: blank(foreign.body, theirs) }).toEqual({ status: missing.status, body: blank(missing.body, unknown) });
        expect(foreign.status).toBe(404);
      }
      expect(await events(theirs)).toHaveLength(1); // nothing was appended
    });

    it('opening in a team the caller may not use is refused the same whether or not the id is taken', async () => {
      const theirs = await open({ teamId: 'partners' });
      const taken = await as('direct-writer').post('/opportunities', { id: theirs, title: 'Probe', processId: 'standard', teamId: 'partners' });
      const free = await as('direct-writer').post('/opportunities', { id: randomUUID(), title: 'Probe', processId: 'standard', teamId: 'partners' });
      for (const answer of [taken, free]) expect([answer.status, answer.body.code, answer.body.allowedTeams]).toEqual([403, 'AUTH.TEAM_FORBIDDEN', ['direct']]);
      expect(JSON.stringify(taken.body)).not.toContain(theirs);
      expect(await events(theirs)).toHaveLength(1);
    });

    it('another caller\'s Idempotency-Key, used to open without an id, does not give out the id of the deal it opened in another team', async () => {
      const key = `their-key-${randomUUID()}`;
      const theirs = (await as('partners-writer').post('/opportunities', { title: 'Theirs', processId: 'standard', teamId: 'partners' }, { 'Idempotency-Key': key }).expect(201)).body.id as string;
      for (const body of [
        { title: 'Mine', processId: 'standard', teamId: 'direct' },
        { title: 'Theirs', processId: 'standard', teamId: 'direct' },
      ]) {
        const answer = await as('direct-writer').post('/opportunities', body, { 'Idempotency-Key': key });
        expect([answer.status, answer.body.code]).toEqual([422, 'COMMAND.IDEMPOTENCY_KEY_REUSED']);
        expect(JSON.stringify(answer.body)).not.toContain(theirs);
        expect(answer.headers.location).toBeUndefined();
      }
      // Its owner's retry is still a replay, and nothing was appended.
      const retry = await as('partners-writer').post('/opportunities', { title: 'Theirs', processId: 'standard', teamId: 'partners' }, { 'Idempotency-Key': key }).expect(201);
      expect([retry.body.id, retry.headers['idempotent-replayed']]).toEqual([theirs, 'true']);
      expect(await events(theirs)).toHaveLength(1);
    });

    it('a team-limited admin\'s bulk migration reports only its teams\' deals', async () => {
      const v = (await api.http.get('/processes/standard').expect(200)).body.version as string;
      const theirs = await open({ teamId: 'partners' });
      const mine = await open({ teamId: 'direct' });
      // A newer version, recorded by a second instance on the same store (a rolling deploy).
      const processesDir = join(dir.path, 'processes-v2');
      mkdirSync(processesDir);
      writeFileSync(join(processesDir, 'standard.yaml'), readFileSync(join(SHIPPED_PROCESSES, 'standard.yaml'), 'utf8').replace('name: New\n', 'name: Fresh\n'));
      const second = await startApiTestApp({ eventStorePath: join(dir.path, 'events.db'), processesDir });
      const v2 = (await second.http.get('/processes/standard').expect(200)).body.version as string;
      await second.close();
      expect(v2).not.toBe(v);
      const report = (await as('direct-admin').post('/processes/standard/migrate', { fromVersion: v, toVersion: v2 }).expect(200)).body;
      const listed = [...report.migrated, ...report.refused.map((refusal: { opportunityId: string }) => refusal.opportunityId)];
      expect(listed).toContain(mine);
      expect(listed).not.toContain(theirs);
      expect((await api.http.get(`/opportunities/${theirs}`).expect(200)).body.processVersion).toBe(v);
    });

    it('a team-limited admin may neither manage keys nor rebuild a read model: both reach every team', async () => {
      const admin = (method: 'get' | 'post' | 'delete', path: string, body?: object) => {
        const call = api.anonymous[method](path).set('Authorization', `Bearer ${api.keys['direct-admin']}`);
        return body ? call.send(body) : call;
      };
      const made = (await api.http.post('/admin/api-keys').send({ name: 'kept', roles: ['analyst'] }).expect(201)).body.id as string;
      const refused = [
        await admin('get', '/admin/api-keys'),
        await admin('post', '/admin/api-keys', { name: 'everywhere', roles: ['admin'] }),
        await admin('delete', `/admin/api-keys/${made}`),
        await admin('post', '/admin/projections/pipeline/rebuild', {}),
      ];
      for (const answer of refused) expect([answer.status, answer.body.code, answer.body.allowedTeams]).toEqual([403, 'AUTH.TEAM_FORBIDDEN', ['direct']]);
      expect(refused[3]!.body.detail).toMatch(/Rebuilding a read model .* needs an admin without a team limit/);
      // Nothing happened: the key is still there, no key was made, no rebuild started.
      const keys = (await api.http.get('/admin/api-keys').expect(200)).body.keys as { id: string; name: string }[];
      expect(keys.map((key) => key.id)).toContain(made);
      expect(keys.map((key) => key.name)).not.toContain('everywhere');
      const projections = (await admin('get', '/admin/projections').expect(200)).body.projections as { name: string; lastRebuild: unknown }[];
      expect(projections.find((projection) => projection.name === 'pipeline')?.lastRebuild).toBeNull();
    });
  });

  describe('an Idempotency-Key means one command', () => {
    it('a key that opened one id cannot open another, with or without an id', async () => {
      const key = randomUUID();
      const x = randomUUID();
      await api.http.post('/opportunities').set('Idempotency-Key', key).send({ id: x, title: 'X', processId: 'standard' }).expect(201);
      const y = randomUUID();
      const reused = await api.http.post('/opportunities').set('Idempotency-Key', key).send({ id: y, title: 'X', processId: 'standard' }).expect(422);
      expect(reused.body.code).toBe('COMMAND.IDEMPOTENCY_KEY_REUSED');
      await api.http.get(`/opportunities/${y}`).expect(404);
      expect((await api.http.post('/opportunities').set('Idempotency-Key', key).send({ title: 'X', processId: 'standard' }).expect(422)).body.code).toBe('COMMAND.IDEMPOTENCY_KEY_REUSED');
      // The very same request again is a retry.
      const again = await api.http.post('/opportunities').set('Idempotency-Key', key).send({ id: x, title: 'X', processId: 'standard' }).expect(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
    });

    it('a keyed request that changed nothing is remembered: its retry after another change is a replay, and the key with another body is refused', async () => {
      const id = await open({ amount: 100, currency: 'EUR' });
      const key = randomUUID();
      const first = await api.http.patch(`/opportunities/${id}`).set('Idempotency-Key', key).send({ amount: 100 }).expect(200);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      await api.http.patch(`/opportunities/${id}`).send({ amount: 250 }).expect(200);
      const retry = await api.http.patch(`/opportunities/${id}`).set('Idempotency-Key', key).send({ amount: 100 }).expect(200);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.body).toEqual(first.body);
      expect((await api.http.get(`/opportunities/${id}`).expect(200)).body.amount).toBe(250);
      const reused = await api.http.patch(`/opportunities/${id}`).set('Idempotency-Key', key).send({ amount: 999 }).expect(422);
      expect(reused.body.code).toBe('COMMAND.IDEMPOTENCY_KEY_REUSED');
      expect((await api.http.get(`/opportunities/${id}`).expect(200)).body.amount).toBe(250);
      // The history lists it; the timeline (moves) and the board do not count it as a change.
      expect((await events(id)).map((event) => (event as { type: string }).type)).toEqual(['OpportunityOpened', 'NoChangeRecorded', 'OpportunityDetailsChanged']);
      await api.http.get(`/opportunities/${id}/history?view=timeline`).expect(200);
    });

    it('a key that is the id of a command sent without one on that deal (the history shows it) is refused as reused, never a 500', async () => {
      const id = await open();
      await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
      // The server chose these ids (no key was sent); the history shows them to every reader of the deal.
      const [opening, move] = ((await events(id)) as { metadata: { commandId: string } }[]).map((event) => event.metadata.commandId);
      const reusing = [
        // As many events as the command that used the id (the store takes the append for a retry of it)…
        () => api.http.post(`/opportunities/${id}/move`).set('Idempotency-Key', opening!).send({ stage: 'new' }),
        () => api.http.post(`/opportunities/${id}/criteria`).set('Idempotency-Key', move!).send({ criterionId: 'goals', met: true }),
        // …and more events than it (PATCH: details and the expected close date), in the body's commandId too.
        () => api.http.patch(`/opportunities/${id}`).send({ title: 'Renamed', expectedCloseDate: '2027-01-31', commandId: move }),
      ];
      for (const send of reusing) {
        const refused = await send();
        expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 422, code: 'COMMAND.IDEMPOTENCY_KEY_REUSED' });
      }
      expect(await events(id)).toHaveLength(2);
      expect((await api.http.get(`/opportunities/${id}`).expect(200)).body).toMatchObject({ stage: 'qualification', title: 'Deal', criteriaMet: [] });
    });

    it('two opens racing with one key and different ids: one deal, the other refused', async () => {
      const key = randomUUID();
      const ids = Array.from({ length: 6 }, () => randomUUID());
      const answers = await Promise.all(ids.map((id) => api.http.post('/opportunities').set('Idempotency-Key', key).send({ id, title: 'Race', processId: 'standard' })));
      expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
      expect(answers.filter((answer) => answer.status === 422).map((answer) => answer.body.code)).toEqual(Array(5).fill('COMMAND.IDEMPOTENCY_KEY_REUSED'));
      const opened = await Promise.all(ids.map((id) => api.http.get(`/opportunities/${id}`)));
      expect(opened.filter((answer) => answer.status === 200)).toHaveLength(1);
    });

    it.each([
      ['an open', async () => ({ path: '/opportunities', body: { title: 'Race', processId: 'standard' } })],
      ['a move', async () => ({ path: `/opportunities/${await open()}/move`, body: { stage: 'qualification' } })],
    ])('every racing replay of %s says it is one: one answer without Idempotent-Replayed, the others with it', async (_name, prepare) => {
      const { path, body } = await prepare();
      const key = randomUUID();
      const answers = await Promise.all(Array.from({ length: 40 }, () => api.http.post(path).set('Idempotency-Key', key).send(body)));
      expect(new Set(answers.map((answer) => answer.status)).size).toBe(1);
      expect(answers[0]!.status).toBeLessThan(300);
      expect(new Set(answers.map((answer) => JSON.stringify(answer.body))).size).toBe(1);
      expect(answers.filter((answer) => answer.headers['idempotent-replayed'] === 'true')).toHaveLength(39);
      const id = answers[0]!.body.id as string;
      expect(await events(id)).toHaveLength(path === '/opportunities' ? 1 : 2);
    });

    it('racing replays that share one X-Correlation-Id and land in the same millisecond on two instances each say they are one too', async () => {
      // A client's retries of one operation carry its correlation id; under load several reach two
      // instances within one millisecond (clocks standing still at one instant make that certain here).
      const still = new Date();
      const store = join(dir.path, 'frozen.db');
      const instances = [await startApiTestApp({ eventStorePath: store, clock: () => still }), await startApiTestApp({ eventStorePath: store, clock: () => still })];
      try {
        const opened = (await instances[0]!.http.post('/opportunities').send({ title: 'Race', processId: 'standard' }).expect(201)).body.id as string;
        for (const [path, body] of [
          ['/opportunities', { title: 'Race', processId: 'standard' }],
          [`/opportunities/${opened}/move`, { stage: 'qualification' }],
        ] as const) {
          const [key, correlationId] = [randomUUID(), randomUUID()];
          const answers = await Promise.all(Array.from({ length: 40 }, (_, index) => instances[index % 2]!.http.post(path).set('Idempotency-Key', key).set('X-Correlation-Id', correlationId).send(body)));
          expect(answers.map((answer) => answer.status).filter((status) => status >= 300)).toEqual([]);
          expect(new Set(answers.map((answer) => JSON.stringify(answer.body))).size).toBe(1);
          expect(answers.filter((answer) => answer.headers['idempotent-replayed'] === 'true')).toHaveLength(39);
        }
      } finally {
        for (const instance of instances) await instance.close();
      }
    });
  });
});

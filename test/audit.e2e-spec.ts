import Database from 'better-sqlite3';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chainHash, GENESIS_HASH } from '@stagecraft/audit';
import { getSQLiteEventStore, openEventStore } from '@stagecraft/event-store';
import { SHIPPED_PROCESSES, startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { E2E_STORE, eventStoreEnv } from './support/e2e-store';
import { describeIf } from './support/skips';

// These specs tamper with the SQLite file itself (or write to it without the API); on the
// KurrentDB run there is no file to tamper with, so they run on SQLite only.
const onTheSQLiteFile = describeIf(E2E_STORE === 'sqlite', 'edits the SQLite file: a KurrentDB server gives no such access');

type Api = ApiTestApp & { keys: Record<string, string> };

/** Edits the SQLite file directly, as someone with write access to ./data/ could. */
function tamper(eventStorePath: string, edit: (db: Database.Database) => void): void {
  const db = new Database(eventStorePath);
  try {
    edit(db);
  } finally {
    db.close();
  }
}

const QUALIFICATION = ['need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker'];

/** A deal backfilled in March: opened on the 2nd, qualified on the 10th, in proposition from the 20th, lost on 2 April. */
async function backfilledDeal(api: Api): Promise<string> {
  const id = (await api.http.post('/opportunities').send({ title: 'ACME', processId: 'standard', teamId: 'direct', amount: 1000, occurredAt: '2026-03-02T09:00:00Z' }).expect(201)).body.id;
  await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification', occurredAt: '2026-03-10T09:00:00Z' }).expect(200);
  for (const [index, criterionId] of QUALIFICATION.entries()) {
    await api.http.post(`/opportunities/${id}/criteria`).send({ criterionId, met: true, note: `evidence ${index}`, occurredAt: `2026-03-1${index}T10:00:00Z` }).expect(200);
  }
  await api.http.post(`/opportunities/${id}/move`).send({ stage: 'proposition', note: 'all five confirmed', occurredAt: '2026-03-20T09:00:00Z' }).expect(200);
  await api.http.post(`/opportunities/${id}/lose`).send({ reason: 'price', occurredAt: '2026-04-02T09:00:00Z' }).expect(200);
  return id;
}

describe('auditors: as-of reads, timeline, tamper evidence', () => {
  const dir = temporaryDirectory();
  const eventStorePath = join(dir.path, 'events.db');
  let api: Api;
  let id: string;
  beforeAll(async () => {
    api = await startApiTestApp({ eventStorePath });
    id = await backfilledDeal(api);
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it('shows the deal as it stood at an instant of business time, and says which axis it used', async () => {
    const march31 = (await api.http.get(`/opportunities/${id}?asOf=2026-03-31T23:59:59Z`).expect(200)).body;
    expect(march31).toMatchObject({ id, status: 'open', stage: 'proposition', stageEnteredAt: '2026-03-20T09:00:00.000Z', revision: 7 });
    expect(march31.asOf).toEqual({ instant: '2026-03-31T23:59:59.000Z', axis: 'occurredAt', eventsFolded: 8, latestRevision: 8 });
    const march15 = (await api.http.get(`/opportunities/${id}?asOf=2026-03-13T12:00:00%2B02:00`).expect(200)).body;
    expect(march15).toMatchObject({ stage: 'qualification', criteriaMet: ['need-confirmed', 'budget-confirmed', 'pain-points', 'goals'] });
    // The instant is inclusive: at exactly the move, the move has happened.
    expect((await api.http.get(`/opportunities/${id}?asOf=2026-03-20T09:00:00Z`).expect(200)).body.stage).toBe('proposition');
    expect((await api.http.get(`/opportunities/${id}?asOf=2026-04-03T00:00:00Z`).expect(200)).body).toMatchObject({ status: 'lost', lostReason: 'price' });
    const before = await api.http.get(`/opportunities/${id}?asOf=2026-03-01T00:00:00Z`).expect(404);
    expect(before.body).toMatchObject({ code: 'OPPORTUNITY.NOT_YET_OPENED', openedAt: '2026-03-02T09:00:00.000Z' });
    // The detail says from when to ask, as `stagecraft history --as-of` does.
    expect(before.body.detail).toBe(`Opportunity "${id}" was not open yet at 2026-03-01T00:00:00.000Z (by occurredAt): it was opened at 2026-03-02T09:00:00.000Z.`);
  });

  it('with asOfRecorded, shows what the system knew: nothing of a deal backfilled later', async () => {
    const known = await api.http.get(`/opportunities/${id}?asOfRecorded=2026-03-31T23:59:59Z`);
    // Recorded today (the server's clock), so on 31 March the system knew nothing of it.
    expect(known.status).toBe(404);
    expect(known.body.code).toBe('OPPORTUNITY.NOT_YET_OPENED');
    expect(known.body.detail).toMatch(new RegExp(`\\(by recordedAt\\): it was recorded at ${known.body.recordedAt}\\.$`));
    const now = (await api.http.get(`/opportunities/${id}?asOfRecorded=${new Date(Date.now() + 60_000).toISOString()}`).expect(200)).body;
    expect(now).toMatchObject({ status: 'lost', asOf: { axis: 'recordedAt', eventsFolded: 9 } });
  });

  it('gives a readable timeline: stages before/after, time in the stage left, actor, the evidence, the note', async () => {
    const { steps } = (await api.http.get(`/opportunities/${id}/history?view=timeline`).expect(200)).body;
    expect(steps.map((s: Record<string, unknown>) => [s.kind, s.stageBefore, s.stageAfter, s.secondsInStageLeft])).toEqual([
      ['opened', null, 'new', null],
      ['moved', 'new', 'qualification', 8 * 86_400],
      ['moved', 'qualification', 'proposition', 10 * 86_400],
      ['lost', 'proposition', 'lost', 13 * 86_400],
    ]);
    const qualified = steps[2];
    expect(qualified).toMatchObject({ actor: 'test-service', note: 'all five confirmed', stageBeforeName: 'Qualification', stageAfterName: 'Proposition' });
    expect(qualified.criteriaMet.map((c: { criterionId: string }) => c.criterionId)).toEqual(QUALIFICATION);
    expect(qualified.criteriaMet[0]).toMatchObject({ description: 'The need to buy the product or service is confirmed', metAt: '2026-03-10T10:00:00.000Z', metBy: 'test-service', note: 'evidence 0' });
  });

  it('chains every event: an untouched store verifies clean, its process stream too', async () => {
    const history = (await api.http.get(`/opportunities/${id}/history`).expect(200)).body.events;
    expect(history[0].metadata.prevHash).toBe('0'.repeat(64));
    expect(history[1].metadata.prevHash).toBe(history[0].metadata.hash);
    const verdict = (await api.http.get(`/opportunities/${id}/verify`).expect(200)).body;
    expect(verdict).toMatchObject({ ok: true, opportunity: { ok: true, events: 9, unchained: 0, headHash: history[8].metadata.hash, lastRevision: 8 }, process: { ok: true, stream: 'sales-process-standard' } });
  });

  onTheSQLiteFile('editing the SQLite file directly is detected', () => {
    const reopen = async (edit: (db: Database.Database) => void) => {
      await api.close();
      tamper(eventStorePath, edit);
      api = await startApiTestApp({ eventStorePath });
    };
    const verdictOf = async (opportunityId: string) => (await api.http.get(`/opportunities/${opportunityId}/verify`).expect(200)).body;

    it('an edited row: the first broken stream and revision', async () => {
      const victim = await backfilledDeal(api);
      await reopen((db) => {
        const row = db.prepare('SELECT data FROM events WHERE stream = ? AND revision = 4').get(`opportunity-${victim}`) as { data: string };
        const data = JSON.parse(row.data);
        data.note = 'a better-sounding note';
        db.prepare('UPDATE events SET data = ? WHERE stream = ? AND revision = 4').run(JSON.stringify(data), `opportunity-${victim}`);
      });
      expect(await verdictOf(victim)).toMatchObject({ ok: false, opportunity: { ok: false, stream: `opportunity-${victim}`, revision: 4, reason: 'hash-mismatch' } });
      // Other opportunities are unaffected.
      expect((await verdictOf(id)).ok).toBe(true);
    });

    it('a command on an edited or shortened stream: refused, nothing appended; reads still show what is stored', async () => {
      const edited = await backfilledDeal(api);
      const shortened = await backfilledDeal(api);
      await reopen((db) => {
        db.prepare(`UPDATE events SET data = json_set(data, '$.amount', 1000000) WHERE stream = ? AND revision = 0`).run(`opportunity-${edited}`);
        db.prepare('DELETE FROM events WHERE stream = ? AND revision = 3').run(`opportunity-${shortened}`);
      });
      for (const [victim, revision, reason] of [
        [edited, 0, 'hash-mismatch'],
        [shortened, 4, 'revision-gap'],
      ] as const) {
        const before = (await api.http.get(`/opportunities/${victim}/history`).expect(200)).body.events.length;
        const refused = await api.http.post(`/opportunities/${victim}/reopen`).send({}).expect(500);
        expect(refused.body).toMatchObject({ code: 'EVENT_STORE.CHAIN_BROKEN', stream: `opportunity-${victim}`, revision, reason });
        expect(refused.body.detail).toContain(`/verify`);
        expect((await api.http.get(`/opportunities/${victim}/history`).expect(200)).body.events).toHaveLength(before);
        expect((await verdictOf(victim)).opportunity).toMatchObject({ ok: false, revision, reason });
      }
      expect((await api.http.get(`/opportunities/${edited}`).expect(200)).body).toMatchObject({ amount: 1000000, status: 'lost' });
      // An intact deal next to them still takes commands.
      await api.http.post(`/opportunities/${await backfilledDeal(api)}/reopen`).send({}).expect(200);
    });

    it('a rewritten actor in the metadata', async () => {
      const victim = await backfilledDeal(api);
      await reopen((db) => {
        db.prepare(`UPDATE events SET metadata = json_set(metadata, '$.actor', 'someone-else') WHERE stream = ? AND revision = 1`).run(`opportunity-${victim}`);
      });
      expect((await verdictOf(victim)).opportunity).toMatchObject({ ok: false, revision: 1, reason: 'hash-mismatch' });
    });

    it('a deleted row', async () => {
      const victim = await backfilledDeal(api);
      await reopen((db) => {
        db.prepare('DELETE FROM events WHERE stream = ? AND revision = 3').run(`opportunity-${victim}`);
      });
      expect((await verdictOf(victim)).opportunity).toMatchObject({ ok: false, revision: 4, reason: 'revision-gap' });
    });

    it('two rows reordered (their revisions swapped)', async () => {
      const victim = await backfilledDeal(api);
      await reopen((db) => {
        const stream = `opportunity-${victim}`;
        const swap = db.prepare('UPDATE events SET revision = ? WHERE stream = ? AND revision = ?');
        db.transaction(() => {
          swap.run(-1, stream, 3);
          swap.run(3, stream, 4);
          swap.run(4, stream, -1);
        })();
      });
      expect((await verdictOf(victim)).opportunity).toMatchObject({ ok: false, revision: 3, reason: 'prev-hash-mismatch' });
    });

    it('an event whose type was rewritten so the stream no longer replays: reads say so with a code, verify locates it', async () => {
      const victim = await backfilledDeal(api);
      await reopen((db) => {
        db.prepare(`UPDATE events SET type = 'OpportunityWon' WHERE stream = ? AND revision = 1`).run(`opportunity-${victim}`);
      });
      const read = await api.http.get(`/opportunities/${victim}`).expect(500);
      expect(read.body).toMatchObject({ code: 'EVENT_STORE.STREAM_UNREADABLE', detail: expect.stringContaining('verify') });
      // The raw events stay readable, so an auditor can see what was stored.
      expect((await api.http.get(`/opportunities/${victim}/history`).expect(200)).body.events[1]).toMatchObject({ revision: 1, type: 'OpportunityWon' });
      expect((await api.http.get(`/opportunities/${victim}/history?view=timeline`).expect(500)).body.code).toBe('EVENT_STORE.STREAM_UNREADABLE');
      expect((await verdictOf(victim)).opportunity).toMatchObject({ ok: false, revision: 1, reason: 'hash-mismatch' });
    });

    it('an event whose data was edited into JSON nested too deep to write back out: every read answers it as unreadable, with its code, and verify locates it', async () => {
      const victim = await backfilledDeal(api);
      await reopen((db) => {
        const row = db.prepare('SELECT data FROM events WHERE stream = ? AND revision = 4').get(`opportunity-${victim}`) as { data: string };
        // JSON.parse takes it; writing it out again (an answer, a hash) would overflow the stack.
        const deep = `${'['.repeat(20_000)}1${']'.repeat(20_000)}`;
        db.prepare('UPDATE events SET data = ? WHERE stream = ? AND revision = 4').run(`${row.data.slice(0, -1)},"x":${deep}}`, `opportunity-${victim}`);
      });
      for (const path of [`/opportunities/${victim}`, `/opportunities/${victim}/history`, `/opportunities/${victim}/history?view=timeline`, `/opportunities/${victim}?asOf=2026-03-31T00:00:00Z`]) {
        expect((await api.http.get(path).expect(500)).body).toMatchObject({ code: 'EVENT_STORE.STREAM_UNREADABLE' });
      }
      expect((await verdictOf(victim)).opportunity).toMatchObject({ ok: false, revision: 4, reason: 'unreadable', detail: expect.stringContaining('nested deeper') });
    });

    it('the event the read models last took in, edited into something unreadable: the API still starts (their check of which event stands there reads its id), and verify locates it', async () => {
      const victim = await backfilledDeal(api);
      await reopen((db) => {
        db.prepare(`UPDATE events SET data = 'not json' WHERE position = (SELECT max(position) FROM events)`).run();
      });
      expect((await verdictOf(victim)).opportunity).toMatchObject({ ok: false, revision: 8, reason: 'unreadable' });
      // The models folded that event before the edit, and keep what they folded, as after any other edit.
      expect((await api.http.get('/health').expect(200)).body.projections.every((model: { failed?: string }) => model.failed === undefined)).toBe(true);
      await api.http.get('/pipeline').expect(200);
    });

    it('the last event renumbered below revision 0: not read as a stream that ends before it, but unreadable, and verify says so', async () => {
      const victim = await backfilledDeal(api);
      await reopen((db) => {
        db.prepare('UPDATE events SET revision = -1 WHERE stream = ? AND revision = 8').run(`opportunity-${victim}`);
      });
      // Read from revision 0 up, the row was left out: the lost deal read as open, and verify said intact.
      expect((await api.http.get(`/opportunities/${victim}`).expect(500)).body).toMatchObject({ code: 'EVENT_STORE.STREAM_UNREADABLE' });
      expect((await api.http.get(`/opportunities/${victim}/history`).expect(500)).body).toMatchObject({ code: 'EVENT_STORE.STREAM_UNREADABLE' });
      // At the revision where it stands, after the 8 events stored before it, as verify --all names it (not at revision 0, where its -1 sorts).
      expect(await verdictOf(victim)).toMatchObject({ ok: false, opportunity: { ok: false, revision: 8, reason: 'unreadable', detail: expect.stringContaining('its revision is not a whole number (-1)') } });
    });

    it("a stream that no longer replays, or whose rows no longer read, tells a caller limited to other teams nothing: every route answers it as an id never used", async () => {
      const partners = async () => (await api.http.post('/opportunities').send({ title: 'Elsewhere', processId: 'standard', teamId: 'partners', amount: 5 }).expect(201)).body.id as string;
      const [replaysNot, readsNot, intact] = [await partners(), await partners(), await partners()];
      for (const victim of [replaysNot, readsNot, intact]) await api.http.post(`/opportunities/${victim}/lose`).send({ reason: 'price' }).expect(200);
      await api.close();
      tamper(eventStorePath, (db) => {
        db.prepare(`UPDATE events SET type = 'OpportunityOpened' WHERE stream = ? AND revision = 1`).run(`opportunity-${replaysNot}`);
        db.prepare(`UPDATE events SET data = '{not json' WHERE stream = ? AND revision = 1`).run(`opportunity-${readsNot}`);
      });
      api = await startApiTestApp({ eventStorePath, extraKeys: [{ name: 'direct-only', roles: ['writer', 'auditor'], teams: ['direct'] }] });
      const limited = (method: 'get' | 'post' | 'patch', path: string, body?: object) => {
        const request = api.anonymous[method](path).set('authorization', `Bearer ${api.keys['direct-only']}`);
        return body ? request.send(body) : request;
      };
      const answerOf = async (method: 'get' | 'post' | 'patch', path: string, body?: object) => {
        const { status, body: problem } = await limited(method, path, body);
        return { status, code: problem.code };
      };
      const never = '00000000-0000-4000-8000-00000000beef';
      const routes: ['get' | 'post' | 'patch', string, object?][] = [
        ['get', ''],
        ['get', '?asOf=2999-01-01T00:00:00Z'],
        ['get', '?asOfRecorded=2999-01-01T00:00:00Z'],
        ['get', '/history'],
        ['get', '/history?view=timeline'],
        ['get', '/verify'],
        ['post', '/reopen', {}],
        ['post', '/move', { stage: 'qualification' }],
        ['patch', '', { title: 'Mine now' }],
      ];
      for (const victim of [replaysNot, readsNot]) {
        for (const [method, suffix, body] of routes) {
          const unknown = await answerOf(method, `/opportunities/${never}${suffix}`, body);
          expect(unknown).toEqual({ status: 404, code: 'OPPORTUNITY.NOT_FOUND' });
          expect([method, suffix, await answerOf(method, `/opportunities/${victim}${suffix}`, body)]).toEqual([method, suffix, unknown]);
        }
        // Opening under its id is refused as for any id in use, the intact deal's included.
        const opening = { id: victim, title: 'Mine', processId: 'standard', teamId: 'direct' };
        expect(await answerOf('post', '/opportunities', opening)).toEqual(await answerOf('post', '/opportunities', { ...opening, id: intact }));
      }
      // An unlimited caller is still told the stored log is damaged.
      expect((await api.http.get(`/opportunities/${replaysNot}`).expect(500)).body.code).toBe('EVENT_STORE.STREAM_UNREADABLE');
      expect((await api.http.get(`/opportunities/${readsNot}/history`).expect(500)).body.code).toBe('EVENT_STORE.STREAM_UNREADABLE');
    });

    it('hashes stripped from an edited event, the whole stream or its end: no command is decided on it, and /verify says missing-hash as verify --all does', async () => {
      // A whole stream rewritten without hashes passes for one written before tamper evidence
      // unless the log says otherwise: it was chained from its first position on. A command on it
      // would chain the forgery on, and /verify would then call it vouched for.
      const [whole, end, prefix] = [await backfilledDeal(api), await backfilledDeal(api), await backfilledDeal(api)];
      await reopen((db) => {
        const strip = "metadata = json_remove(metadata, '$.hash', '$.prevHash')";
        db.prepare(`UPDATE events SET ${strip}, data = json_set(data, '$.amount', 999999) WHERE stream = ? AND revision = 0`).run(`opportunity-${whole}`);
        db.prepare(`UPDATE events SET ${strip} WHERE stream = ?`).run(`opportunity-${whole}`);
        db.prepare(`UPDATE events SET ${strip}, data = json_set(data, '$.reason', 'competitor') WHERE stream = ? AND revision = 8`).run(`opportunity-${end}`);
        // Its first events stripped (the chain after them still holds) and a later one edited: the first break is named.
        db.prepare(`UPDATE events SET ${strip} WHERE stream = ? AND revision < 3`).run(`opportunity-${prefix}`);
        db.prepare(`UPDATE events SET data = json_set(data, '$.note', 'edited') WHERE stream = ? AND revision = 6`).run(`opportunity-${prefix}`);
      });
      for (const [victim, revision] of [
        [whole, 0],
        [end, 8],
        [prefix, 0],
      ] as const) {
        const before = (await api.http.get(`/opportunities/${victim}/history`).expect(200)).body.events.length;
        const refused = await api.http.post(`/opportunities/${victim}/reopen`).send({}).expect(500);
        expect(refused.body).toMatchObject({ code: 'EVENT_STORE.CHAIN_BROKEN', stream: `opportunity-${victim}`, revision, reason: 'missing-hash' });
        expect((await api.http.get(`/opportunities/${victim}/history`).expect(200)).body.events).toHaveLength(before);
        expect(await verdictOf(victim)).toMatchObject({ ok: false, opportunity: { ok: false, stream: `opportunity-${victim}`, revision, reason: 'missing-hash' } });
      }
      // Reads still serve what is stored (reads do not judge the chains); only nothing is decided on it.
      expect((await api.http.get(`/opportunities/${whole}`).expect(200)).body).toMatchObject({ amount: 999999, status: 'lost' });
    });

    it('a rewritten process definition', async () => {
      await reopen((db) => {
        db.prepare(`UPDATE events SET data = json_set(data, '$.definition.name', 'Relaxed rules') WHERE stream = 'sales-process-standard' AND revision = 0`).run();
      });
      expect(await verdictOf(id)).toMatchObject({ ok: false, opportunity: { ok: true }, process: { ok: false, stream: 'sales-process-standard', revision: 0, reason: 'hash-mismatch' } });
    });
  });
});

describe(`a stream written into the store without hashes, after the log was chained (${E2E_STORE})`, () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  it('is no deal written before tamper evidence: no command is decided on it, and /verify says missing-hash', async () => {
    const eventStorePath = join(dir.path, 'events.db');
    const api = await startApiTestApp({ eventStorePath });
    try {
      const { version } = (await api.http.get('/processes/standard').expect(200)).body;
      // Anyone who can write to the store (a KurrentDB client, the SQLite file) can append a deal
      // that carries no hash: nothing in its own stream tells it from one written before hashes.
      const env = await eventStoreEnv(eventStorePath);
      const store = openEventStore({ eventStoreUrl: env.EVENT_STORE_URL, eventStorePath, durability: 'full' });
      const id = '5b0c7e1a-2d3f-4a6b-8c9d-0e1f2a3b4c5d';
      try {
        await store.appendToStream(
          `opportunity-${id}`,
          [{ id: '00000000-0000-4000-8000-00000000f0e0', type: 'OpportunityOpened', data: { opportunityId: id, occurredAt: '2026-01-05T09:00:00.000Z', processId: 'standard', processVersion: version, stage: 'new', title: 'Forged', teamId: 'direct', amount: 1000000 }, metadata: { actor: 'ceo', recordedAt: '2026-01-05T09:00:00.000Z' } }],
          { expectedRevision: 'no_stream' },
        );
      } finally {
        await store.close();
      }
      const refused = await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(500);
      expect(refused.body).toMatchObject({ code: 'EVENT_STORE.CHAIN_BROKEN', stream: `opportunity-${id}`, revision: 0, reason: 'missing-hash' });
      expect((await api.http.get(`/opportunities/${id}/verify`).expect(200)).body).toMatchObject({ ok: false, opportunity: { ok: false, revision: 0, reason: 'missing-hash', detail: expect.stringContaining('carries no hash although the log was chained from position') } });
      expect((await api.http.get(`/opportunities/${id}/history`).expect(200)).body.events).toHaveLength(1);
    } finally {
      await api.close();
    }
  });
});

onTheSQLiteFile('stores written before tamper evidence', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  it('report the old events as unchained, then vouch for them once new events are chained after them', async () => {
    const eventStorePath = join(dir.path, 'events.db');
    const first = await startApiTestApp({ eventStorePath });
    const { version } = (await first.http.get('/processes/standard').expect(200)).body;
    await first.close();
    // A store written before this change holds no hash anywhere: its process version had none either
    // (an event without a hash after the log's first hashed one was stripped, not written before).
    tamper(eventStorePath, (db) => db.prepare("UPDATE events SET metadata = json_remove(metadata, '$.hash', '$.prevHash')").run());
    // Two events written as before this change: no prevHash, no hash.
    const id = '7d1c4a52-3c6b-4d6e-9b1a-5f3e2d1c0b9a';
    const store = getSQLiteEventStore({ path: eventStorePath });
    await store.appendToStream(
      `opportunity-${id}`,
      [
        { id: '00000000-0000-4000-8000-000000000001', type: 'OpportunityOpened', data: { opportunityId: id, occurredAt: '2026-01-05T09:00:00.000Z', processId: 'standard', processVersion: version, stage: 'new', title: 'Old deal' }, metadata: { actor: 'legacy', recordedAt: '2026-01-05T09:00:00.000Z' } },
        { id: '00000000-0000-4000-8000-000000000002', type: 'StageChanged', data: { opportunityId: id, occurredAt: '2026-01-06T09:00:00.000Z', from: 'new', to: 'qualification', direction: 'forward' }, metadata: { actor: 'legacy', recordedAt: '2026-01-06T09:00:00.000Z' } },
      ],
      { expectedRevision: 'no_stream' },
    );
    await store.close();

    const second = await startApiTestApp({ eventStorePath });
    try {
      expect((await second.http.get(`/opportunities/${id}/verify`).expect(200)).body.opportunity).toMatchObject({ ok: true, events: 2, unchained: 2, unchainedCovered: false });
      await second.http.post(`/opportunities/${id}/criteria`).send({ criterionId: 'goals', met: true }).expect(200);
      expect((await second.http.get(`/opportunities/${id}/verify`).expect(200)).body.opportunity).toMatchObject({ ok: true, events: 3, unchained: 2, unchainedCovered: true });
    } finally {
      await second.close();
    }
    // Now an edit to an old event is detected, where the chain first vouches for it.
    tamper(eventStorePath, (db) => db.prepare(`UPDATE events SET data = json_set(data, '$.title', 'Renamed') WHERE stream = ? AND revision = 0`).run(`opportunity-${id}`));
    const third = await startApiTestApp({ eventStorePath });
    try {
      expect((await third.http.get(`/opportunities/${id}/verify`).expect(200)).body.opportunity).toMatchObject({ ok: false, revision: 2, reason: 'prev-hash-mismatch' });
    } finally {
      await third.close();
    }
  });
});

onTheSQLiteFile('a process version rewritten in the store, its chain recomputed', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  it('decides no command of a deal on it by the rules written there: CHAIN_BROKEN, and verify says definition-mismatch', async () => {
    const eventStorePath = join(dir.path, 'events.db');
    const processesDir = join(dir.path, 'processes');
    mkdirSync(processesDir);
    const file = join(processesDir, 'standard.yaml');
    copyFileSync(join(SHIPPED_PROCESSES, 'standard.yaml'), file);
    const first = await startApiTestApp({ eventStorePath, processesDir });
    const id = (await first.http.post('/opportunities').send({ title: 'On v1', processId: 'standard' }).expect(201)).body.id;
    await first.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
    await first.close();
    // Someone drops Qualification's exit criteria from the recorded v1 and recomputes its hash.
    tamper(eventStorePath, (db) => {
      const row = db.prepare("SELECT type, data, metadata FROM events WHERE stream = 'sales-process-standard' AND revision = 0").get() as { type: string; data: string; metadata: string };
      const data = JSON.parse(row.data);
      data.definition.stages.find((stage: { id: string }) => stage.id === 'qualification').exitCriteria = [];
      const metadata = JSON.parse(row.metadata);
      metadata.hash = chainHash(GENESIS_HASH, { stream: 'sales-process-standard', revision: 0, type: row.type, data, metadata });
      db.prepare("UPDATE events SET data = ?, metadata = ? WHERE stream = 'sales-process-standard' AND revision = 0").run(JSON.stringify(data), JSON.stringify(metadata));
    });
    // The file changes meanwhile, so v1 is no longer the file's own version: it is read from the store.
    writeFileSync(file, readFileSync(file, 'utf8').replace('name: Standard B2B sales', 'name: Standard B2B sales, v2'));
    const second = await startApiTestApp({ eventStorePath, processesDir });
    try {
      const refused = await second.http.post(`/opportunities/${id}/move`).send({ stage: 'proposition' }).expect(500);
      expect(refused.body).toMatchObject({ code: 'EVENT_STORE.CHAIN_BROKEN', stream: 'sales-process-standard', revision: 0, reason: 'definition-mismatch' });
      expect((await second.http.get(`/opportunities/${id}/verify`).expect(200)).body).toMatchObject({ ok: false, opportunity: { ok: true }, process: { ok: false, revision: 0, reason: 'definition-mismatch' } });
      // Reads serve what is stored, edited or not (README, "For auditors"): the deal as the rewritten definition shows it.
      expect((await second.http.get(`/opportunities/${id}`).expect(200)).body).toMatchObject({ id, stage: 'qualification', exitCriteria: [] });
      expect((await second.http.get(`/opportunities/${id}?asOf=2100-01-01T00:00:00Z`).expect(200)).body).toMatchObject({ id, stage: 'qualification', exitCriteria: [] });
      expect((await second.http.get(`/opportunities/${id}/history?view=timeline`).expect(200)).body.steps.at(-1)).toMatchObject({ stageAfter: 'qualification', stageAfterName: 'Qualification' });
      // So does the version itself, which a board asks for the moves of that deal's card.
      const version = (await second.http.get(`/opportunities/${id}`).expect(200)).body.processVersion as string;
      const answered = await second.http.get(`/processes/standard?version=${version}`);
      expect([answered.status, answered.body.code]).toEqual([200, undefined]);
      const stored = answered.body;
      expect(stored).toMatchObject({ version, moves: expect.any(Array) });
      expect(stored.definition.stages.find((stage: { id: string }) => stage.id === 'qualification').exitCriteria).toEqual([]);
      await second.http.get(`/processes/standard/machine?version=${version}`).expect(200);
      // A deal opened on the file's version goes on as ever.
      const fresh = (await second.http.post('/opportunities').send({ title: 'On v2', processId: 'standard' }).expect(201)).body.id;
      await second.http.post(`/opportunities/${fresh}/move`).send({ stage: 'qualification' }).expect(200);
    } finally {
      await second.close();
    }
  });
});

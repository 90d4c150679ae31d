import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvRecords } from '@stagecraft/csv';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';

// GET /opportunities?q=: a rep finds any deal, open or closed, not only the cards the board loaded.
// Runs on every store and read side the jest projects give it (in-memory / PostgreSQL read models).

const at = (month: number, day: number, hour = 9) => new Date(Date.UTC(2026, month - 1, day, hour)).toISOString();
const NOW = new Date(at(6, 1, 12));

const QUICK = `
id: quick
name: Quick deals
stages:
  - { id: talk, name: Talk, probability: 20 }
  - { id: sign, name: Sign, probability: 80 }
rules: { winFrom: [talk, sign] }
lostReasons: [price]
teams: [north, south]
`;

interface Hit {
  readonly id: string;
  readonly title: string;
  readonly status: string;
  readonly stageId: string | null;
  readonly closedAt: string | null;
  readonly ownerId: string | null;
  readonly teamId: string | null;
}

describe('GET /opportunities?q= (end to end)', () => {
  const dir = temporaryDirectory();
  let api: ApiTestApp & { keys: Record<string, string> };
  let lastPosition = 0;
  const ids: Record<string, string> = {};

  const send = async (path: string, body: object) => {
    const response = await api.http.post(path).send(body);
    expect({ path, status: response.status, body: response.status < 300 ? undefined : response.body }).toMatchObject({ status: path === '/opportunities' ? 201 : 200 });
    lastPosition = response.body.position;
    return response.body as { id: string };
  };
  const as = (key: string, query: string) => api.anonymous.get(`/opportunities?${query}&minPosition=${lastPosition}`).set('Authorization', `Bearer ${api.keys[key]}`);
  const found = async (query: string, key = 'analyst') => {
    const response = await as(key, query);
    expect({ status: response.status, body: response.status === 200 ? undefined : response.body }).toEqual({ status: 200 });
    return response.body as { opportunities: Hit[]; next: string | null };
  };

  beforeAll(async () => {
    const processesDir = join(dir.path, 'processes');
    mkdirSync(processesDir);
    writeFileSync(join(processesDir, 'quick.yaml'), QUICK);
    api = await startApiTestApp({
      eventStorePath: `${dir.path}/events.db`,
      processesDir,
      clock: () => NOW,
      env: { READ_MODELS_PATH: `${dir.path}/read-models.db`, READ_YOUR_WRITES_TIMEOUT_MS: '2000' },
      extraKeys: [
        { name: 'analyst', roles: ['analyst'] },
        { name: 'north-rep', roles: ['writer'], teams: ['north'] },
      ],
    });
    const open = async (name: string, body: object) => (ids[name] = (await send('/opportunities', { title: name, processId: 'quick', ...body })).id);
    // Opened in this order: the answer lists them newest first.
    await open('Société Générale renewal', { teamId: 'north', ownerId: 'zoe.lambert', occurredAt: at(1, 5) });
    await open('Acme expansion', { teamId: 'south', ownerId: 'bob', amount: 500, currency: 'EUR', occurredAt: at(1, 6) });
    await open('ACME   pilot', { teamId: 'north', ownerId: 'ann', occurredAt: at(1, 7) });
    await open('Globex', { teamId: 'north', ownerId: 'ann', occurredAt: at(1, 8) });
    await open('Acme support', { teamId: 'north', ownerId: 'bob', occurredAt: at(1, 9) });
    // Closed months before the board's 30 days of closed cards: only the search finds them.
    await send(`/opportunities/${ids['Acme expansion']}/win`, { occurredAt: at(1, 20) });
    await send(`/opportunities/${ids['ACME   pilot']}/lose`, { reason: 'price', occurredAt: at(1, 21) });
    await send(`/opportunities/${ids['Acme support']}/move`, { stage: 'sign', occurredAt: at(2, 1) });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it('finds open and closed deals by their title, newest first, however case, accents and spaces are written', async () => {
    const acme = await found('q=acme');
    expect(acme.opportunities.map((hit) => [hit.title, hit.status, hit.stageId, hit.closedAt])).toEqual([
      ['Acme support', 'open', 'sign', null],
      ['ACME   pilot', 'lost', null, at(1, 21)],
      ['Acme expansion', 'won', null, at(1, 20)],
    ]);
    expect(acme.next).toBeNull();
    expect((await found('q=SOCIETE%20%20generale')).opportunities.map((hit) => hit.title)).toEqual(['Société Générale renewal']);
    expect((await found('q=acme%20pilot')).opportunities.map((hit) => hit.title)).toEqual(['ACME   pilot']);
    // The board lists none of the closed ones: they closed before its window.
    const board = (await api.anonymous.get('/pipeline?include=opportunities&closed=won,lost').set('Authorization', `Bearer ${api.keys.analyst}`).expect(200)).body;
    const onBoard = JSON.stringify(board);
    expect([onBoard.includes(ids['Acme expansion']!), onBoard.includes(ids['ACME   pilot']!)]).toEqual([false, false]);
  });

  it('finds by owner and by a piece of the id, and answers an empty list for words nothing holds', async () => {
    expect((await found('q=LAMBERT')).opportunities.map((hit) => hit.title)).toEqual(['Société Générale renewal']);
    const id = ids.Globex!;
    expect((await found(`q=${id.slice(9, 18).toUpperCase()}`)).opportunities.map((hit) => hit.id)).toEqual([id]);
    expect(await found('q=initech')).toEqual({ opportunities: [], next: null });
  });

  it('narrows by status, team and owner', async () => {
    expect((await found('q=acme&status=won,lost')).opportunities.map((hit) => hit.title)).toEqual(['ACME   pilot', 'Acme expansion']);
    expect((await found('q=acme&status=open')).opportunities.map((hit) => hit.title)).toEqual(['Acme support']);
    expect((await found('q=acme&teamId=south')).opportunities.map((hit) => hit.title)).toEqual(['Acme expansion']);
    expect((await found('q=a&ownerId=ann')).opportunities.map((hit) => hit.title)).toEqual(['Globex', 'ACME   pilot']);
  });

  it('pages with limit and after: the pages joined are the whole list, each deal once, and the last says next: null', async () => {
    const whole = (await found('q=e&limit=100')).opportunities.map((hit) => hit.id);
    expect(whole.length).toBe(5);
    const pages: string[][] = [];
    let after: string | null = null;
    do {
      const page: { opportunities: Hit[]; next: string | null } = await found(`q=e&limit=2${after === null ? '' : `&after=${after}`}`);
      pages.push(page.opportunities.map((hit) => hit.id));
      after = page.next;
    } while (after !== null && pages.length < 10);
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual(whole);
    // A cursor in capitals names the same deal, as an id in a path does: the same next page, not a 400.
    expect((await found(`q=e&limit=2&after=${whole[1]!.toUpperCase()}`)).opportunities.map((hit) => hit.id)).toEqual(pages[1]);
    // CSV: a line per deal, the cursor in a header.
    const csv = await as('analyst', 'q=e&limit=2&format=csv').expect(200);
    expect(csv.headers['x-next-after']).toBe(whole[1]);
    const lines: string[][] = [];
    for await (const record of readCsvRecords([csv.text])) lines.push([...record.cells]);
    expect(lines.map((cells) => cells[0])).toEqual(['id', ...whole.slice(0, 2)]);
  });

  it('pages on from a deal won or renamed since its page: the cursor says where it stood, not what it matched', async () => {
    const page = await found('q=e&status=open&limit=1');
    expect(page.opportunities.map((hit) => hit.title)).toEqual(['Acme support']);
    await send(`/opportunities/${page.next}/win`, { occurredAt: at(3, 1) });
    // Acme support (the cursor) is won now, and the question asks for open deals: the next page still comes.
    const next = await found(`q=e&status=open&limit=1&after=${page.next}`);
    expect(next.opportunities.map((hit) => hit.title)).toEqual(['Globex']);
    await send(`/opportunities/${page.next}/reopen`, { stage: 'sign', occurredAt: at(3, 2) });
  });

  it('gives a team-limited rep its team\'s deals only, and takes no cursor naming a deal it cannot see', async () => {
    expect((await found('q=acme', 'north-rep')).opportunities.map((hit) => [hit.title, hit.teamId])).toEqual([
      ['Acme support', 'north'],
      ['ACME   pilot', 'north'],
    ]);
    expect((await as('north-rep', 'q=acme&teamId=south').expect(403)).body.code).toBe('AUTH.TEAM_FORBIDDEN');
    const refused = (await as('north-rep', `q=acme&after=${ids['Acme expansion']}`).expect(400)).body;
    expect([refused.code, refused.errors.map((error: { field: string }) => error.field)]).toEqual(['REQUEST.VALIDATION_FAILED', ['after']]);
  });

  it.each([
    ['no q', 'limit=5', 'q'],
    ['q of spaces and marks alone', 'q=%20%CC%81%20', 'q'],
    ['q of punctuation alone', 'q=-', 'q'],
    ['q too long', `q=${'a'.repeat(201)}`, 'q'],
    ['limit 0', 'q=a&limit=0', 'limit'],
    ['limit over 100', 'q=a&limit=101', 'limit'],
    ['an unknown status', 'q=a&status=closed', 'status'],
    ['after that is no id', 'q=a&after=abc', 'after'],
    ['after naming no deal', 'q=a&after=00000000-0000-4000-8000-000000000000', 'after'],
    ['a period', 'q=a&from=2026-01-01T00:00:00Z', 'from'],
  ])('refuses %s with 400 naming the field', async (_name, query, field) => {
    const response = await as('analyst', query);
    expect([response.status, response.body.code, response.body.errors?.map((error: { field: string }) => error.field)]).toEqual([400, 'REQUEST.VALIDATION_FAILED', [field]]);
  });
});

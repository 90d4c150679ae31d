import { INSTANT_RULE } from '@stagecraft/opportunity';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';

// Every route that reads an instant asOf (or asOfRecorded) refuses a value that is not one the same
// way: 400 REQUEST.VALIDATION_FAILED naming the parameter, the value as sent and the form it takes,
// in JSON or CSV alike — never a 500, never another instant read in its place.

interface AsOfRoute {
  readonly name: string;
  readonly field: 'asOf' | 'asOfRecorded';
  /** The request path with `value` (as it goes in the URL) in the parameter. */
  path(value: string, id: string): string;
  readonly accept?: string;
}

const ROUTES: readonly AsOfRoute[] = [
  { name: 'the board', field: 'asOf', path: (value) => `/pipeline?asOf=${value}` },
  { name: 'the board with its cards', field: 'asOf', path: (value) => `/pipeline?include=opportunities&asOf=${value}` },
  { name: 'the board as CSV (format)', field: 'asOf', path: (value) => `/pipeline?format=csv&asOf=${value}` },
  { name: 'the board as CSV (Accept)', field: 'asOf', path: (value) => `/pipeline?asOf=${value}`, accept: 'text/csv' },
  { name: 'the forecast', field: 'asOf', path: (value) => `/analytics/forecast?asOf=${value}` },
  { name: 'the forecast as CSV', field: 'asOf', path: (value) => `/analytics/forecast?format=csv&asOf=${value}` },
  { name: 'the rotting deals', field: 'asOf', path: (value) => `/analytics/rotting?asOf=${value}` },
  { name: 'the rotting deals as CSV', field: 'asOf', path: (value) => `/analytics/rotting?asOf=${value}`, accept: 'text/csv' },
  { name: 'an opportunity by business time', field: 'asOf', path: (value, id) => `/opportunities/${id}?asOf=${value}` },
  { name: 'an opportunity by recording time', field: 'asOfRecorded', path: (value, id) => `/opportunities/${id}?asOfRecorded=${value}` },
];

/** Values that are no instant, as they go in the URL, and what the server reads from them. */
const BAD_VALUES: readonly { readonly why: string; readonly sent: string; readonly read: string }[] = [
  { why: 'words', sent: 'last-march', read: 'last-march' },
  { why: 'empty', sent: '', read: '' },
  { why: 'a date alone', sent: '2026-03-31', read: '2026-03-31' },
  { why: 'no zone (the server would read its own)', sent: '2026-03-31T23:59:59', read: '2026-03-31T23:59:59' },
  { why: 'epoch milliseconds', sent: '1774915200000', read: '1774915200000' },
  { why: '30 February (Date.parse reads 2 March)', sent: '2026-02-30T10:00:00Z', read: '2026-02-30T10:00:00Z' },
  { why: '24:00', sent: '2026-03-31T24:00:00Z', read: '2026-03-31T24:00:00Z' },
  { why: 'year 0000', sent: '0000-12-31T00:00:00Z', read: '0000-12-31T00:00:00Z' },
  { why: 'year 10000 once read in UTC', sent: '9999-12-31T23:00:00-01:00', read: '9999-12-31T23:00:00-01:00' },
  { why: 'an offset of 25 hours', sent: '2026-01-01T00:00:00%2B25:00', read: '2026-01-01T00:00:00+25:00' },
  { why: 'an offset of 60 minutes', sent: '2026-01-01T00:00:00%2B05:60', read: '2026-01-01T00:00:00+05:60' },
  { why: 'an offset without its colon', sent: '2026-01-01T00:00:00%2B0530', read: '2026-01-01T00:00:00+0530' },
  { why: 'an offset whose "+" the query string read as a space', sent: '2026-01-01T00:00:00+05:30', read: '2026-01-01T00:00:00 05:30' },
  { why: 'lower case t and z', sent: '2026-01-01t00:00:00z', read: '2026-01-01t00:00:00z' },
  { why: 'a line break after it', sent: '2026-01-01T00:00:00Z%0A', read: '2026-01-01T00:00:00Z\n' },
  { why: 'a value of 300 characters', sent: '2'.repeat(300), read: '2'.repeat(300) },
];

describe('a value of asOf that is not an instant', () => {
  const dir = temporaryDirectory();
  let api: ApiTestApp;
  let id: string;

  beforeAll(async () => {
    api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db` });
    id = (await api.http.post('/opportunities').send({ title: 'Deal', processId: 'standard', occurredAt: '2026-01-01T00:00:00Z' }).expect(201)).body.id;
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  const ask = async (route: AsOfRoute, value: string) => {
    const call = api.http.get(route.path(value, id));
    return route.accept === undefined ? call : call.set('Accept', route.accept);
  };

  it.each(BAD_VALUES)('is refused alike on every route, naming the parameter, the value and the form: $why', async ({ sent, read }) => {
    const refusals = new Map<string, unknown>();
    for (const route of ROUTES) {
      const answer = await ask(route, sent);
      const context = `${route.name}: ${route.path(sent, ':id')}`;
      expect({ context, status: answer.status, type: answer.headers['content-type'], code: answer.body.code }).toEqual({ context, status: 400, type: expect.stringMatching(/^application\/problem\+json/), code: 'REQUEST.VALIDATION_FAILED' });
      const [error, ...others] = answer.body.errors as { field: string; message: string }[];
      expect({ context, others, field: error?.field }).toEqual({ context, others: [], field: route.field });
      const { message } = error!;
      // The parameter, the form it takes, and the value as read (quoted, escaped, a long one cut short).
      expect({ context, message }).toEqual({ context, message: expect.stringContaining(`${route.field} must be ${INSTANT_RULE}`) });
      const shown = JSON.stringify(read.length > 64 ? read.slice(0, 63) : read).slice(0, -1);
      expect({ context, message }).toEqual({ context, message: expect.stringContaining(`got ${shown}`) });
      expect({ context, length: message.length < 600, lines: message.split('\n').length }).toEqual({ context, length: true, lines: 1 });
      expect(answer.body.detail).toBe(`The request has invalid fields: ${route.field}: ${message}`);
      // The same words wherever the parameter has the same name.
      if (!refusals.has(route.field)) refusals.set(route.field, answer.body.errors);
      expect({ context, errors: answer.body.errors }).toEqual({ context, errors: refusals.get(route.field) });
    }
  });

  it('is taken on every route when it is one, an offset given as %2B included', async () => {
    for (const route of ROUTES) {
      // Years ahead: recorded by then too, so the recording clock answers as well.
      for (const value of ['2999-03-31T23:59:59Z', '2999-03-31T23:59:59.5%2B05:30', '2999-03-31T23:59:59-00:00']) {
        const answer = await ask(route, value);
        expect({ route: route.name, value, status: answer.status }).toEqual({ route: route.name, value, status: 200 });
      }
    }
  });
});

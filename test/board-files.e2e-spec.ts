import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';

// The board's files are served by the static file server, whose refusals of a Range or a
// precondition it cannot meet reached the problem path as bare statuses: every one was answered
// 400 REQUEST.REJECTED ("the request could not be processed"), whatever it was. Each is its own
// status with a code and a detail that says what to change.
describe("the board's files refuse what they cannot serve with the status and a code that say why", () => {
  const dir = temporaryDirectory();
  const assets = join(dir.path, 'board');
  const script = 'console.log("board");\n';
  let api: ApiTestApp;

  beforeAll(async () => {
    mkdirSync(assets);
    writeFileSync(join(assets, 'index.html'), '<!doctype html><title>Board</title>');
    writeFileSync(join(assets, 'board.js'), script);
    api = await startApiTestApp({ eventStorePath: join(dir.path, 'events.db'), env: { BOARD_ASSETS_DIR: assets } });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it('a range past the end of the file: 416 REQUEST.RANGE_NOT_SATISFIABLE, with the length to ask within', async () => {
    for (const range of ['bytes=999999-', `bytes=${script.length}-`]) {
      const answer = await api.anonymous.get('/board/board.js').set('Range', range).expect(416);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ status: 416, code: 'REQUEST.RANGE_NOT_SATISFIABLE', detail: expect.stringContaining(`${script.length}`) });
      expect(answer.headers['content-range']).toBe(`bytes */${script.length}`);
    }
    await api.anonymous.head('/board/board.js').set('Range', 'bytes=999999-').expect(416);
    // A range it can serve is served.
    const part = await api.anonymous.get('/board/board.js').set('Range', 'bytes=0-6').expect(206);
    expect(part.text).toBe(script.slice(0, 7));
  });

  it('a precondition the file does not meet: 412 REQUEST.PRECONDITION_FAILED', async () => {
    const { etag } = (await api.anonymous.get('/board/board.js').expect(200)).headers as { etag: string };
    const answer = await api.anonymous.get('/board/board.js').set('If-Match', '"not-this-one"').expect(412);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(answer.body).toMatchObject({ status: 412, code: 'REQUEST.PRECONDITION_FAILED', detail: expect.any(String) });
    await api.anonymous.get('/board/board.js').set('If-Unmodified-Since', 'Thu, 01 Jan 1970 00:00:00 GMT').expect(412);
    await api.anonymous.get('/board/board.js').set('If-Match', etag).expect(200);
  });

  // The file server read these headers with Date.parse and parseInt, which guess: "3000" was the
  // year 3000 (If-Modified-Since: 304, a cache told its stale copy is current), "2026" a date the
  // file was changed after (If-Unmodified-Since: 412), and "bytes=1e3-" the range from byte 1.
  // RFC 9110 says a date that is not an HTTP-date is ignored (13.1.3, 13.1.4), and so is a Range
  // whose If-Range is neither a date nor an entity tag, or that is not a byte range at all (14.2).
  it('ignores a date that is not an HTTP-date and a Range that is not a byte range, rather than guessing what they meant', async () => {
    for (const date of ['3000', '2026', '0', '-1', '12/31/2099', 'tomorrow', 'Wed, 21 Oct 2099 07:28:00']) {
      const modified = await api.anonymous.get('/board/board.js').set('If-Modified-Since', date).expect(200);
      expect(modified.text).toBe(script);
      await api.anonymous.get('/board/board.js').set('If-Unmodified-Since', date).expect(200);
      const ranged = await api.anonymous.get('/board/board.js').set('Range', 'bytes=0-6').set('If-Range', date).expect(200);
      expect(ranged.text).toBe(script);
    }
    for (const range of ['bytes=1e3-', 'bytes=0x1-', 'bytes=+1-2', 'bytes=1.5-2', 'bytes=', 'bytes=-', 'bytes=a-b']) {
      const answer = await api.anonymous.get('/board/board.js').set('Range', range).expect(200);
      expect(answer.text).toBe(script);
    }
    // The three forms of an HTTP-date are read, as RFC 9110 has every recipient read them.
    for (const date of ['Wed, 21 Oct 2099 07:28:00 GMT', 'Wednesday, 21-Oct-99 07:28:00 GMT', 'Wed Oct 21 07:28:00 2099']) {
      const expected = date.includes('-99') ? 200 : 304;
      await api.anonymous.get('/board/board.js').set('If-Modified-Since', date).expect(expected);
    }
    await api.anonymous.get('/board/board.js').set('If-Unmodified-Since', 'Thu, 01 Jan 1970 00:00:00 GMT').expect(412);
    // A byte range in any of its forms is still served, an empty list element after it included.
    expect((await api.anonymous.get('/board/board.js').set('Range', 'bytes=-3').expect(206)).text).toBe(script.slice(-3));
    expect((await api.anonymous.get('/board/board.js').set('Range', 'bytes=2-').expect(206)).text).toBe(script.slice(2));
    expect((await api.anonymous.get('/board/board.js').set('Range', 'bytes=0-6, ').expect(206)).text).toBe(script.slice(0, 7));
    // The files' ETags are weak, which If-Range never matches (it compares strongly): the whole file.
    const { etag } = (await api.anonymous.get('/board/board.js').expect(200)).headers as { etag: string };
    expect(etag).toMatch(/^W\//);
    for (const tag of [etag, etag.slice(2), `"x", ${etag}`]) {
      expect((await api.anonymous.get('/board/board.js').set('Range', 'bytes=0-6').set('If-Range', tag).expect(200)).text).toBe(script);
    }
    // A date is met only by an exact match of a strong Last-Modified (RFC 9110, 13.1.5): the files'
    // is weak (whole seconds of a file a rebuild may rewrite twice within one), so the whole file,
    // for their very Last-Modified as for a date after it (once read as "not modified since": 206).
    const { 'last-modified': lastModified } = (await api.anonymous.get('/board/board.js').expect(200)).headers as { 'last-modified': string };
    for (const date of [lastModified, 'Wed, 21 Oct 2099 07:28:00 GMT']) {
      const answer = await api.anonymous.get('/board/board.js').set('Range', 'bytes=0-6').set('If-Range', date);
      expect([date, answer.status, answer.text]).toEqual([date, 200, script]);
    }
  });
});

// BOARD_ASSETS_DIR written out names the board to serve, as CURRENCIES_FILE names a file that must
// exist: a typo (a folder missing, a file, a link that loops, one never built) stopped nothing, and
// /board answered 404 behind a warning. Left unset, the default ./dist/board is optional (started
// from source before a build), as before.
describe('a BOARD_ASSETS_DIR that holds no board', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  it.each([
    ['missing', () => join(dir.path, 'no-such-folder'), 'does not exist'],
    ['a file', () => (writeFileSync(join(dir.path, 'a-file'), ''), join(dir.path, 'a-file')), 'is a file, not a folder'],
    ['a symbolic link that loops', () => (symlinkSync(join(dir.path, 'loop'), join(dir.path, 'loop')), join(dir.path, 'loop')), 'is a symbolic link that loops back on itself'],
    ['a folder never built into', () => (mkdirSync(join(dir.path, 'empty')), join(dir.path, 'empty')), 'holds no index.html'],
  ])('stops start-up naming the variable, the folder and the reason when it is %s', async (_case, folder, reason) => {
    const assets = folder();
    const started = startApiTestApp({ eventStorePath: join(dir.path, `events-${_case.replace(/\W/g, '')}.db`), env: { BOARD_ASSETS_DIR: assets } });
    await expect(started).rejects.toThrow(new RegExp(`^Invalid setting BOARD_ASSETS_DIR: ${assets.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} ${reason}`));
  });
});

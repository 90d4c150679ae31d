import { AppendTooLargeError, EventStoreAccessDeniedError, EventStoreFullError, EventStoreOutcomeUnknownError, EventStoreUnavailableError, StreamDeletedError, StreamTruncatedError } from '@stagecraft/event-store';
import { toProblem } from './problem.mapping';

describe('toProblem: the event store', () => {
  it('an unreachable store is a 503 with a stable code, without the server address', () => {
    const problem = toProblem(new EventStoreUnavailableError('kurrentdb://admin:***@db.internal:2113', 'UnavailableError'));

    expect(problem).toMatchObject({ status: 503, code: 'EVENT_STORE.UNAVAILABLE' });
    expect(problem.detail).not.toContain('db.internal');
  });
});

describe('toProblem: what the event store refuses or cannot confirm', () => {
  it('an append whose outcome is unknown is a 503 telling the client to retry with the same key, with Retry-After', () => {
    const problem = toProblem(new EventStoreOutcomeUnknownError('kurrentdb://db.internal:2113', 'opportunity-1', 'DeadlineExceededError'));

    expect(problem).toMatchObject({ status: 503, code: 'EVENT_STORE.OUTCOME_UNKNOWN', headers: { 'retry-after': '1' } });
    expect(problem.detail).toMatch(/same Idempotency-Key/);
    expect(problem.detail).not.toContain('db.internal');
  });

  it.each([
    ['the store', new EventStoreFullError('/srv/data/events.db', 'database or disk is full')],
    ['SQLite elsewhere', Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })],
    ['a file the request writes', Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })],
  ])('a full disk under %s is a 507 with Retry-After, naming no path', (_where, error) => {
    const problem = toProblem(error);
    expect(problem).toMatchObject({ status: 507, code: 'EVENT_STORE.DISK_FULL', headers: { 'retry-after': '30' } });
    expect(problem.detail).not.toContain('/srv');
  });

  it('an unreachable store asks for a retry after a second', () => {
    expect(toProblem(new EventStoreUnavailableError('kurrentdb://db:2113', 'down')).headers).toEqual({ 'retry-after': '1' });
  });

  it.each([
    [new AppendTooLargeError('opportunity-1', 1048576), 413, 'EVENT_STORE.APPEND_TOO_LARGE'],
    [new StreamDeletedError('opportunity-1'), 410, 'EVENT_STORE.STREAM_DELETED'],
    [new EventStoreAccessDeniedError('kurrentdb://db.internal:2113', 'append to "opportunity-1"'), 503, 'EVENT_STORE.ACCESS_DENIED'],
    [new StreamTruncatedError('opportunity-1', 3), 500, 'EVENT_STORE.STREAM_UNREADABLE'],
  ])('%s is a %i with code %s, saying nothing of the server', (error, status, code) => {
    const problem = toProblem(error);

    expect(problem).toMatchObject({ status, code });
    expect(problem.detail).not.toMatch(/db\.internal|opportunity-1/);
  });
});

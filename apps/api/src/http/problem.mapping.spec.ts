import { EventStoreUnavailableError } from '@stagecraft/event-store';
import { toProblem } from './problem.mapping';

describe('toProblem: the event store', () => {
  it('an unreachable store is a 503 with a stable code, without the server address', () => {
    const problem = toProblem(new EventStoreUnavailableError('kurrentdb://admin:***@db.internal:2113', 'UnavailableError'));

    expect(problem).toMatchObject({ status: 503, code: 'EVENT_STORE.UNAVAILABLE' });
    expect(problem.detail).not.toContain('db.internal');
  });
});

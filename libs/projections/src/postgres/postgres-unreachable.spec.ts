import { EventStoreAccessDeniedError, EventStoreUnavailableError, PositionNotInLogError } from '@stagecraft/event-store';
import { postgresUnreachable } from './postgres-unreachable';

describe('postgresUnreachable', () => {
  it('names the causes that mean PostgreSQL cannot be used at all, never a password', () => {
    const cases: [object, RegExp][] = [
      [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:3499' }, /ECONNREFUSED/],
      [{ code: 'ENOENT', message: 'connect ENOENT /nonexistent/sock/.s.PGSQL.5432' }, /ENOENT/],
      [{ code: '3D000', message: 'database "x" does not exist' }, /does not exist/],
      [{ code: '28P01', message: 'password authentication failed for user "u"' }, /authentication failed/],
      [{ message: 'The server does not support SSL connections' }, /SSL/],
      [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' }, /certificate/],
      [{ code: 'ECONNREFUSED', message: 'connect to postgres://u:s3cret@db:5432/x refused' }, /^((?!s3cret).)*$/],
      [{ message: 'Connection terminated unexpectedly' }, /terminated/],
      [{ message: 'Client has encountered a connection error and is not queryable' }, /not queryable/],
    ];
    for (const [error, reason] of cases) expect([error, postgresUnreachable(error)]).toEqual([error, expect.stringMatching(reason)]);
  });

  // Their messages quote EVENT_STORE_URL (kurrentdb://…?tls=false) and the server's words (a TLS
  // handshake, a connection terminated): read as PostgreSQL's, the operator was sent to READ_MODELS_URL.
  it("leaves the event store's own failures to be reported as the event store's", () => {
    const store = 'kurrentdb://***@127.0.0.1:2113?tls=false';
    for (const error of [
      new EventStoreAccessDeniedError(store, 'read $all'),
      new EventStoreUnavailableError(store, 'TLS handshake failed'),
      new EventStoreUnavailableError(store, 'Connection terminated unexpectedly'),
      new PositionNotInLogError(store, 'invalid position'),
    ]) {
      expect([error.message, postgresUnreachable(error)]).toEqual([error.message, undefined]);
    }
  });

  it('leaves anything else to be reported as it is (a bug, a refused value)', () => {
    for (const error of [new Error('boom'), { code: '22P02', message: 'invalid input syntax' }, undefined, null]) expect(postgresUnreachable(error)).toBeUndefined();
  });
});

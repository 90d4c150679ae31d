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

  it('leaves anything else to be reported as it is (a bug, a refused value)', () => {
    for (const error of [new Error('boom'), { code: '22P02', message: 'invalid input syntax' }, undefined, null]) expect(postgresUnreachable(error)).toBeUndefined();
  });
});

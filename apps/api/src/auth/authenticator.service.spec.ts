import { principalOfKey } from './authenticator.service';

// A keys file written by hand may name a role or a team twice: the caller's are each once, as a
// token's are (GET /me listed a role twice).
describe('the principal of a stored API key', () => {
  it('holds each role and team once, in the order of its first appearance', () => {
    const principal = principalOfKey({ id: '0123456789ab', name: 'svc', roles: ['auditor', 'writer', 'auditor'], teams: ['b', 'a', 'b'], salt: 's', hash: '0'.repeat(64), createdAt: '2026-12-02T00:00:00Z' });
    expect([principal.roles, principal.teams]).toEqual([
      ['auditor', 'writer'],
      ['b', 'a'],
    ]);
  });
});

import { JwtRejectedError } from './jwt.verifier';
import { principalFromClaims } from './jwt.claims';

const refusal = (teams: unknown): JwtRejectedError => {
  try {
    principalFromClaims({ sub: 'svc', roles: ['writer'], teams });
  } catch (error) {
    return error as JwtRejectedError;
  }
  throw new Error('the token was accepted');
};

// A token's teams are compared with deals' teamIds, and an API key's teams must be such ids when
// the key is made: a token may not carry a team no deal could have either.
describe('the "teams" claim holds team ids, as a deal\'s teamId and an API key\'s teams are', () => {
  it.each([
    ['an emoji', ['🚀']],
    ['50,000 characters', 'x'.repeat(50_000)],
    ['101 characters', 'x'.repeat(101)],
    ['words with a space', ['direct', 'Sales EMEA']],
    ['a slash', 'EMEA/north'],
    ['a leading dot', '.direct'],
    ['a bidi override', ['dir\u202eect']],
  ])('refuses %s, naming the claim and the value (shortened)', (_label, teams) => {
    const error = refusal(teams);
    expect(error).toBeInstanceOf(JwtRejectedError);
    expect(error.claim).toBe('teams');
    expect(error.reason).toMatch(/^claim "teams" must hold team ids as a deal's teamId is \(an id of 1 to 100 letters/);
    expect(error.reason.length).toBeLessThan(250);
    expect(error.reason).not.toMatch(/[\u202e]/);
  });

  it('takes team ids as before: one, several, none', () => {
    expect(principalFromClaims({ sub: 'svc', roles: ['writer'], teams: 'direct' }).teams).toEqual(['direct']);
    expect(principalFromClaims({ sub: 'svc', roles: ['writer'], teams: ['direct', 'emea.north', 'x'.repeat(100), 'ops:1@corp-b'] }).teams).toHaveLength(4);
    expect(principalFromClaims({ sub: 'svc', roles: ['writer'], teams: [] }).teams).toEqual([]);
    expect(principalFromClaims({ sub: 'svc', roles: ['writer'] }).teams).toBeUndefined();
  });
});

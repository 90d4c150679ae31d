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

  it('takes a caller name of up to 255 characters (an e-mail address is at most 254), and refuses a longer one naming "sub"', () => {
    expect(principalFromClaims({ sub: '𝔞'.repeat(255), roles: ['writer'] }).name).toHaveLength(510);
    expect(() => principalFromClaims({ sub: 'a'.repeat(256), roles: ['writer'] })).toThrow(expect.objectContaining({ claim: 'sub', reason: expect.stringContaining('256 characters long; at most 255') }));
    expect(() => principalFromClaims({ sub: 'a'.repeat(100_000), roles: ['writer'] })).toThrow(expect.objectContaining({ claim: 'sub' }));
  });
});

// Claims arrive as JSON the identity provider wrote: a teams claim of any other shape, or one that
// could stand in for it when the claims are copied into an object, is refused naming the claim,
// and never read as "every team".
describe('a "teams" claim of a strange shape is refused, never read as no limit', () => {
  const claims = (json: string) => JSON.parse(json) as Record<string, unknown>;
  const rejected = (payload: Record<string, unknown>): JwtRejectedError => {
    try {
      principalFromClaims(payload);
    } catch (error) {
      if (error instanceof JwtRejectedError) return error;
      throw error;
    }
    throw new Error('the token was accepted');
  };

  it.each([
    ['an object with "__proto__"', '{"sub":"svc","roles":["writer"],"teams":{"__proto__":["direct"]}}', 'teams'],
    ['an object with numbered keys', '{"sub":"svc","roles":["writer"],"teams":{"0":"direct","length":1}}', 'teams'],
    ['numbers', '{"sub":"svc","roles":["writer"],"teams":[1,2]}', 'teams'],
    ['a list inside the list', '{"sub":"svc","roles":["writer"],"teams":[["direct"]]}', 'teams'],
    ['null', '{"sub":"svc","roles":["writer"],"teams":null}', 'teams'],
    ['a "__proto__" claim holding teams', '{"sub":"svc","roles":["writer"],"__proto__":{"teams":[]}}', '__proto__'],
    ['a "constructor" claim', '{"sub":"svc","roles":["writer"],"teams":["direct"],"constructor":{"prototype":{"teams":[]}}}', 'constructor'],
  ])('refuses %s', (_label, json, claim) => {
    const error = rejected(claims(json));
    expect(error.claim).toBe(claim);
    expect(error.reason).toMatch(new RegExp(`^claim "${claim}"`));
  });

  it('refuses more teams than an API key may name (1000), naming the count', () => {
    const error = rejected({ sub: 'svc', roles: ['writer'], teams: Array.from({ length: 1001 }, (_, i) => `t${i}`) });
    expect([error.claim, error.reason]).toEqual(['teams', 'claim "teams" names 1001 teams; at most 1000 are taken (as on an API key)']);
    expect(principalFromClaims({ sub: 'svc', roles: ['writer'], teams: Array.from({ length: 1000 }, (_, i) => `t${i}`) }).teams).toHaveLength(1000);
  });
});

// An identity provider's claim mapping is typed by a person: a claim that reads as "teams" but is
// not it, because of a character that draws nothing, must not be read as "teams" absent (every team).
describe('a claim that reads as "teams" is refused, never taken for "teams" absent', () => {
  it.each([
    ['a zero-width space', 'te\u200bams'],
    ['a soft hyphen', 'tea\u00adms'],
    ['a word joiner', 'te\u2060ams'],
    ['a zero-width non-joiner in capitals', 'TEA\u200cMS'],
    ['a tag character', 'te\u{E0041}ams'],
    ['small capitals', '\u1d1b\u1d07\u1d00\u1d0ds'],
    // What a title may not be made of (VISIBLE_CHARACTER) hides "teams" as well.
    ['a no-break space', 'te\u00a0ams'],
    ['a hair space', 'tea\u200ams'],
    ['an ideographic space', 'te\u3000ams'],
    ['the blank Braille pattern', 'te\u2800ams'],
    ['a control (NEL)', 'tea\u0085ms'],
    ['an interlinear annotation anchor', 'te\ufff9ams'],
  ])('with %s', (_label, name) => {
    let refused: unknown;
    try {
      principalFromClaims({ sub: 'svc', roles: ['writer'], [name]: ['direct'] });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(JwtRejectedError);
    expect((refused as JwtRejectedError).claim).toBe(name);
  });

  it('leaves claims that visibly differ (te_ams, tea) to their owners', () => {
    expect(principalFromClaims({ sub: 'svc', roles: ['writer'], te_ams: 1, tea: 2 }).teams).toBeUndefined();
  });
});

// An identity provider's mapping may grant a role twice (two groups mapped to one role): GET /me
// listed it twice, a list of what the caller may do that a client counts or shows as it came.
describe('a role or team the claims list twice', () => {
  it('is the principal\'s once, in the order of its first appearance', () => {
    const principal = principalFromClaims({ sub: 'svc', roles: ['writer', 'someone-elses', 'analyst', 'writer', 'analyst'], teams: ['emea', 'direct', 'emea'] });
    expect([principal.roles, principal.teams]).toEqual([
      ['writer', 'analyst'],
      ['emea', 'direct'],
    ]);
  });

  it('counts once towards the most teams taken', () => {
    const teams = [...Array.from({ length: 1000 }, (_, i) => `t${i}`), 't0'];
    expect(principalFromClaims({ sub: 'svc', roles: ['writer'], teams }).teams).toHaveLength(1000);
  });
});

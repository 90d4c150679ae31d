import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { generateApiKey, problemWithNewKey, problemWithStoredKey, verifyApiKey } from './api-key.credentials';
import { parseApiKeys } from './api-keys.file';
import { createJwtVerifier } from './jwt.verifier';

describe('API keys', () => {
  const { key, stored } = generateApiKey({ name: 'billing', roles: ['writer'], teams: ['direct'] }, new Date('2026-01-01T00:00:00Z'));
  const keys = new Map([[stored.id, stored]]);

  it('are kept as a salted hash, never in plain text', () => {
    const secret = key.slice('sck_'.length + 13);
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(stored.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(problemWithStoredKey(stored)).toBeUndefined();
    expect(problemWithStoredKey({ ...stored, key })).toMatch(/plain key/);
  });

  it('are refused from a keys file when their name or a team could not be recorded (it is the actor of what they do)', () => {
    expect(problemWithStoredKey({ ...stored, name: 'billing\u0000' })).toMatch(/^name must be text without the character U\+0000/);
    expect(problemWithStoredKey({ ...stored, name: 'billing\ud800' })).toMatch(/^name must be/);
    expect(problemWithStoredKey({ ...stored, teams: ['direct', 'x\u0000'] })).toMatch(/^teams must be a list of team ids/);
    // Each a team a deal can have (a deal's teamId rule): a key limited to any other could never see one.
    for (const teams of [['direct team'], ['\u{1F642}'], ['x'.repeat(101)], ['']]) expect(problemWithNewKey({ ...stored, teams })).toMatch(/^teams must be a list of team ids/);
    expect(problemWithNewKey({ ...stored, teams: ['direct', 'EMEA.north', 'x'.repeat(100)] })).toBeUndefined();
    // A keys file an earlier version wrote (its route took any team without spaces) still reads:
    // refusing it stopped start-up and "api-keys list/revoke" alike.
    expect(parseApiKeys(JSON.stringify({ keys: [{ ...stored, teams: ['EMEA/north', 'x'.repeat(101)] }] }), { file: 'keys.json' })).toHaveLength(1);
    expect(problemWithStoredKey({ ...stored, name: 'billing\nsck_forged' })).toMatch(/^name must have a visible character/);
    // A bidi override, a zero-width space, a line separator: one actor made to look like another.
    for (const name of ['billing\u202egnitekram', 'bill\u200bing', 'billing\u2028admin']) {
      expect(problemWithNewKey({ ...stored, name })).toMatch(/^name must have a visible character and no control or format characters/);
      expect(problemWithStoredKey({ ...stored, name })).toBeUndefined(); // a file an earlier version wrote still reads
    }
    // Spaces at either end: "billing " listed and recorded beside "billing" as if it were the same key.
    for (const name of ['billing ', ' billing', '\u2003billing', 'billing\u00a0', '\u3000billing']) {
      expect(problemWithNewKey({ ...stored, name })).toMatch(/^name must not begin or end with a space/);
      expect(problemWithStoredKey({ ...stored, name })).toBeUndefined(); // a file an earlier version wrote still reads
    }
    expect(parseApiKeys(JSON.stringify({ keys: [{ ...stored, name: 'billing ' }] }), { file: 'keys.json' })).toHaveLength(1);
    for (const name of ['b', 'billing service', 'Café Müller (CRM) – 東京']) expect(problemWithNewKey({ ...stored, name })).toBeUndefined();
    expect(problemWithStoredKey({ ...stored, name: 'Café Müller (CRM) – 東京' })).toBeUndefined();
    expect(problemWithStoredKey({ ...stored, teams: ['direct', 'partners'] })).toBeUndefined();
  });

  it('are refused from a keys file with a misspelt or mistyped field, which must not pass as absent ("team": every team)', () => {
    const { teams: _teams, ...everyTeam } = stored;
    expect(problemWithStoredKey({ ...everyTeam, team: ['direct'] })).toMatch(/^has unknown field\(s\) "team"/);
    expect(problemWithStoredKey({ ...stored, mayActOnBehalf: 'true' })).toMatch(/^mayActOnBehalf must be true or false/);
    expect(problemWithStoredKey({ ...stored, teams: [''] })).toMatch(/^teams must be/);
    expect(problemWithStoredKey({ ...stored, salt: '' })).toMatch(/^salt and hash/);
    expect(problemWithStoredKey({ ...stored, createdAt: 'yesterday' })).toMatch(/^createdAt must be/);
    expect(problemWithStoredKey([stored])).toBe('must be an object');
  });

  it('are refused from a keys file that names a field twice in one object, or holds more than its keys', () => {
    const file = (text: string) => () => parseApiKeys(text, { file: 'keys.json' });
    const one = JSON.stringify(stored);
    expect(file(`{"keys":[${one}],"keys":[]}`)).toThrow(/^Invalid setting API_KEYS_FILE: keys\.json gives "keys" twice in one object/);
    expect(file(`{"keys":[${one.replace('{', '{"roles":["admin"],')}]}`)).toThrow(/gives "roles" twice/);
    expect(file(`{"keys":[],"extra":1}`)).toThrow(/holds "extra", which is not part of a keys file/);
    expect(parseApiKeys(`{"keys":[${one}]}`, { file: 'keys.json' })).toEqual([stored]);
    expect(parseApiKeys(`[${one}]`, 'API_KEYS')).toEqual([stored]); // the inline form
  });

  it('verify only the exact key', () => {
    expect(verifyApiKey(key, keys)).toBe(stored);
    const wrongSecret = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    expect(verifyApiKey(wrongSecret, keys)).toBeUndefined();
    expect(verifyApiKey(key.replace(stored.id, '000000000000'), keys)).toBeUndefined();
    expect(verifyApiKey('sck_garbage', keys)).toBeUndefined();
    expect(verifyApiKey('', keys)).toBeUndefined();
  });

  it('two keys made with the same spec differ, and so do their salts', () => {
    const other = generateApiKey({ name: 'billing', roles: ['writer'] }, new Date());
    expect(other.key).not.toBe(key);
    expect(other.stored.salt).not.toBe(stored.salt);
  });
});

describe('JWT verification', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const seconds = now.getTime() / 1000;
  const secret = 'a-shared-secret-of-at-least-32-characters';
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const hs256 = (claims: object, key = secret, header: object = { alg: 'HS256', typ: 'JWT' }) => {
    const input = `${encode(header)}.${encode(claims)}`;
    return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
  };
  const verifier = createJwtVerifier({ secret, algorithms: ['HS256'], issuer: 'idp', audience: 'stagecraft', clockToleranceSeconds: 30 }, () => now);
  const verify = (token: string) => verifier.verify(token);
  const valid = { sub: 'crm-service', roles: ['writer'], iss: 'idp', aud: 'stagecraft', exp: seconds + 60 };

  it('accepts a well-signed, current token for this issuer and audience', async () => {
    await expect(verify(hs256(valid))).resolves.toMatchObject({ sub: 'crm-service', roles: ['writer'] });
  });

  it('accepts an "iat" up to the clock tolerance ahead of its clock (an issuer a little fast)', async () => {
    await expect(verify(hs256({ ...valid, iat: seconds + 30 }))).resolves.toMatchObject({ iat: seconds + 30 });
    await expect(verify(hs256({ ...valid, iat: seconds - 3600 }))).resolves.toMatchObject({ iat: seconds - 3600 });
  });

  it.each([
    ['a wrong signature', () => hs256(valid, 'another-secret-of-at-least-32-characters'), /signature/],
    ['an expired token', () => hs256({ ...valid, exp: seconds - 120 }), /expired/],
    ['a token not valid yet', () => hs256({ ...valid, nbf: seconds + 600 }), /not valid yet \("nbf"\)/],
    ['an nbf that is not a number', () => hs256({ ...valid, nbf: 'soon' }), /"nbf" claim must be a number/],
    ['a token issued in the future, past the tolerance', () => hs256({ ...valid, iat: seconds + 31 }), /issued in the future \("iat"/],
    ['a critical header it does not know', () => hs256(valid, secret, { alg: 'HS256', typ: 'JWT', crit: ['x-unknown'], 'x-unknown': 1 }), /does not support \(.*x-unknown/],
    ['no expiry', () => hs256({ ...valid, exp: undefined }), /exp/],
    ['another issuer', () => hs256({ ...valid, iss: 'evil' }), /issuer/],
    ['another audience', () => hs256({ ...valid, aud: 'other' }), /audience/],
    ['alg none', () => `${encode({ alg: 'none' })}.${encode(valid)}.`, /algorithm is not accepted/],
    ['not a JWT', () => 'abc', /not a well-formed/],
  ])('refuses %s', async (_name, token, reason) => {
    await expect(verify(token())).rejects.toThrow(reason);
  });

  it('verifies RS256 and ES256 with a public key, and refuses HS256 tokens signed with that public key as secret', async () => {
    for (const type of ['rsa', 'ec'] as const) {
      const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const alg = type === 'rsa' ? 'RS256' : 'ES256';
      const input = `${encode({ alg })}.${encode(valid)}`;
      const signature = sign('sha256', Buffer.from(input), type === 'rsa' ? pair.privateKey : { key: pair.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
      const verifier = createJwtVerifier({ publicKey: publicPem, algorithms: [alg], clockToleranceSeconds: 30 }, () => now);
      expect((await verifier.verify(`${input}.${signature}`)).sub).toBe('crm-service');
      await expect(verifier.verify(hs256(valid, publicPem))).rejects.toThrow(/algorithm is not accepted; this service accepts (RS|ES)256/);
    }
  });
});

import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { readSettings } from '@stagecraft/config';
import { createJwtVerifier } from './jwt.verifier';

// JWT_PUBLIC_KEY given as a file: rotating the key (after a leak of the signing key, say) applies
// to a running instance within about a second, as a revoked API key does. It was read once at
// start, so tokens signed with the key rotated away were accepted until a restart.

const pair = (type: 'rsa' | 'ec') =>
  type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pem = (keys: ReturnType<typeof pair>) => keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const token = (keys: ReturnType<typeof pair>, alg: string) =>
  new SignJWT({ sub: 'svc', roles: ['writer'] }).setProtectedHeader({ alg }).setExpirationTime('10m').sign(keys.privateKey);

describe('a JWT public key read from a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-jwt-key-'));
  const file = join(dir, 'jwt.pem');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is read again while running: a rotated key replaces the old one, and a botched file keeps the last good key', async () => {
    const [old, rotated, other] = [pair('rsa'), pair('rsa'), pair('ec')];
    writeFileSync(file, pem(old));
    const { jwt } = readSettings({ JWT_PUBLIC_KEY: 'jwt.pem' }, dir).auth;
    let clock = Date.parse('2026-06-01T00:00:00Z');
    const warnings: string[] = [];
    const verifier = createJwtVerifier(jwt!, () => new Date(clock), (message) => warnings.push(message));
    const oldToken = await token(old, 'RS256');
    await expect(verifier.verify(oldToken)).resolves.toMatchObject({ sub: 'svc' });

    writeFileSync(file, pem(rotated));
    clock += 1_000;
    await expect(verifier.verify(oldToken)).rejects.toMatchObject({ reason: 'its signature does not verify' });
    await expect(verifier.verify(await token(rotated, 'RS256'))).resolves.toMatchObject({ sub: 'svc' });
    expect(warnings).toEqual([expect.stringContaining('tokens signed with the previous key are refused from now on')]);

    // Half-written, or a private key by mistake: the key last read stays, and the file is named.
    for (const botched of ['-----BEGIN PUBLIC KEY-----\nMIIB', other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()]) {
      writeFileSync(file, botched);
      clock += 1_000;
      await expect(verifier.verify(await token(rotated, 'RS256'))).resolves.toMatchObject({ sub: 'svc' });
    }
    expect(warnings.slice(1)).toEqual([expect.stringContaining(`${file} is not a PEM public key`), expect.stringContaining(`${file} holds a private key`)]);

    // Put back as it was, then botched the same way again: a new mishap, said again.
    writeFileSync(file, pem(rotated));
    clock += 1_000;
    await expect(verifier.verify(await token(rotated, 'RS256'))).resolves.toMatchObject({ sub: 'svc' });
    writeFileSync(file, other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    clock += 1_000;
    await expect(verifier.verify(await token(rotated, 'RS256'))).resolves.toMatchObject({ sub: 'svc' });
    expect(warnings.slice(3)).toEqual([expect.stringContaining(`${file} holds a private key`)]);

    // A key of another kind brings its own algorithm.
    writeFileSync(file, pem(other));
    clock += 1_000;
    await expect(verifier.verify(await token(other, 'ES256'))).resolves.toMatchObject({ sub: 'svc' });
    await expect(verifier.verify(await token(rotated, 'RS256'))).rejects.toMatchObject({ reason: expect.stringContaining('this service accepts ES256') });
  });

  it('given as PEM text, has no file to read again', () => {
    const { jwt } = readSettings({ JWT_PUBLIC_KEY: pem(pair('ec')) }, dir).auth;
    expect(jwt).not.toHaveProperty('publicKeyFile');
  });
});

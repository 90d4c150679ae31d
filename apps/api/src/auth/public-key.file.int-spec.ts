import { spawnSync } from 'node:child_process';
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

const ROOT = join(__dirname, '..', '..', '..', '..');

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

  // What the keys file already refuses (api-key.store.ts): read again at a token, a FIFO put in the
  // key's place (nothing writing it) stopped the event loop for good — every request of every caller
  // hung, SIGTERM with them —, and a link to a device that never ends was read until memory ran out.
  for (const [what, replacement] of [
    ['a FIFO', "execFileSync('mkfifo', [file])"],
    ['a link to a device that never ends', "symlinkSync('/dev/zero', file)"],
  ] as const) {
    it(`replaced by ${what}, keeps the key last read, at once, and says why`, async () => {
      const keys = pair('ec');
      const folder = mkdtempSync(join(dir, 'replaced-'));
      writeFileSync(join(folder, 'jwt.pem'), pem(keys));
      const script = `
        const { execFileSync } = require('node:child_process');
        const { rmSync, symlinkSync } = require('node:fs');
        const { readSettings } = require('./libs/config/src');
        const { createJwtVerifier } = require('./apps/api/src/auth/jwt.verifier');
        (async () => {
          const { jwt } = readSettings({ JWT_PUBLIC_KEY: 'jwt.pem' }, process.env.KEY_DIR).auth;
          let clock = Date.parse('2026-06-01T00:00:00Z');
          const warnings = [];
          const verifier = createJwtVerifier(jwt, () => new Date(clock), (message) => warnings.push(message));
          await verifier.verify(process.env.TOKEN);
          const file = jwt.publicKeyFile;
          rmSync(file);
          ${replacement};
          clock += 1_000;
          const { sub } = await verifier.verify(process.env.TOKEN);
          console.log(JSON.stringify({ sub, warnings }));
        })();`;
      // In a child: a read waiting on the FIFO blocks the event loop, which no timer in this process could end.
      const child = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
        cwd: ROOT,
        env: { ...process.env, KEY_DIR: folder, TOKEN: await token(keys, 'ES256') },
        timeout: 30_000,
        encoding: 'utf8',
      });
      expect({ signal: child.signal, status: child.status, stderr: child.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
      const { sub, warnings } = JSON.parse(child.stdout) as { sub: string; warnings: string[] };
      expect(sub).toBe('svc');
      expect(warnings).toEqual([`The JWT public key file ${join(folder, 'jwt.pem')} cannot be read (it is ${what === 'a FIFO' ? 'a FIFO' : 'a device'}, not a file); keeping the key last read from it.`]);
    }, 40_000);
  }

  it('given as PEM text, has no file to read again', () => {
    const { jwt } = readSettings({ JWT_PUBLIC_KEY: pem(pair('ec')) }, dir).auth;
    expect(jwt).not.toHaveProperty('publicKeyFile');
  });
});

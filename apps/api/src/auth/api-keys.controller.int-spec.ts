import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiKeyStore } from './api-key.store';
import { ApiKeysController } from './api-keys.controller';
import type { Principal } from './principal';

// The audit line of a key made over HTTP says which powers an admin gave: a key's events name its
// holder, never the admin, so the line is the only trace of who let it reach what.
describe('the audit line of a key made over HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-audit-'));
  const store = { keysFile: join(dir, 'api-keys.json'), keysLastReadFromFile: 0, inlineKeys: [], check: () => undefined } as unknown as ApiKeyStore;
  const controller = new ApiKeysController(store, () => new Date('2026-11-30T12:00:00Z'));
  const admin: Principal = { name: 'ops', authenticatedBy: 'api-key:1a2b', roles: ['admin'], mayActOnBehalf: false };
  let lines: string[];
  let spy: jest.SpyInstance;
  beforeEach(() => {
    lines = [];
    spy = jest.spyOn(Logger.prototype, 'log').mockImplementation((message: unknown) => void lines.push(String(message)));
  });
  afterEach(() => spy.mockRestore());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says a key limited to no team sees none, not a blank', async () => {
    const made = await controller.create(admin, { name: 'nobody-desk', roles: ['writer'], teams: [] });
    expect(lines).toEqual([`Key ${made.id} ("nobody-desk", roles writer; teams none) made by "ops" (api-key:1a2b)`]);
  });

  it('says a key may name the person it acts for (X-Actor): a power as wide as its roles', async () => {
    const made = await controller.create(admin, { name: 'crm-sync', roles: ['writer'], mayActOnBehalf: true });
    expect(lines).toEqual([`Key ${made.id} ("crm-sync", roles writer; teams all; acts on behalf of others with X-Actor) made by "ops" (api-key:1a2b)`]);
    const plain = await controller.create(admin, { name: 'reader', roles: ['analyst'], teams: ['direct'] });
    expect(lines[1]).toBe(`Key ${plain.id} ("reader", roles analyst; teams direct) made by "ops" (api-key:1a2b)`);
  });
});

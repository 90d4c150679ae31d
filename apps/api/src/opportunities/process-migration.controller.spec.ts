import type { CommandBus } from '@nestjs/cqrs';
import type { ProcessRegistry } from '@stagecraft/commands';
import { EventStoreAccessDeniedError, EventStoreUnavailableError, type EventStore, type StoredEvent } from '@stagecraft/event-store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProcessMigrationController } from './process-migration.controller';
import { MigrateProcessDto } from './opportunity.dto';

// A bulk migration answers 200 with a report even when the store fails half-way: each opportunity
// the store failed for, or that was not attempted after it, is a 503 in the body, where no
// Retry-After header reaches it. Each says how long to wait (retryAfterSeconds), as the single
// command's 503 does in its header.

const OPEN = 20; // more than the migrations in flight at once: some are attempted, the rest not.

function openedOn(version: string): StoredEvent[] {
  return Array.from({ length: OPEN }, (_, n) => {
    const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    return { stream: `opportunity-${id}`, type: 'OpportunityOpened', revision: 0, position: n + 1, data: { processId: 'standard', processVersion: version }, metadata: {} } as unknown as StoredEvent;
  });
}

async function migrateWhileStoreFails(failure: Error) {
  const events = openedOn('v1');
  const store = { readAll: async ({ fromPosition }: { fromPosition?: number }) => (fromPosition === undefined ? events : []) } as unknown as EventStore;
  const commands = { execute: async () => Promise.reject(failure) } as unknown as CommandBus;
  const versions = (version: string) => ({ v1: { recordedOrder: 1, process: {} }, v2: { recordedOrder: 2, process: {} } })[version];
  const processes = { ensureVersion: async () => undefined, versionLookup: () => versions } as unknown as ProcessRegistry;
  const controller = new ProcessMigrationController(store, commands, processes, () => new Date('2026-01-01T00:00:00Z'));
  const request = { headers: {}, principal: { name: 'admin', roles: ['admin'], mayActOnBehalf: false } } as unknown as FastifyRequest;
  const reply = { header: () => reply } as unknown as FastifyReply;
  return controller.migrateAll('standard', Object.assign(new MigrateProcessDto(), { fromVersion: 'v1', toVersion: 'v2' }), request, reply);
}

describe('bulk migration: a 503 in the report says when to retry', () => {
  it.each([
    ['the store down', new EventStoreUnavailableError('kurrentdb://db:2113', 'down'), 'EVENT_STORE.UNAVAILABLE', 1],
    ['the store refusing our user', new EventStoreAccessDeniedError('kurrentdb://db:2113', 'append'), 'EVENT_STORE.ACCESS_DENIED', 30],
  ])('%s: each refused and each not attempted carries retryAfterSeconds', async (_what, failure, code, seconds) => {
    const report = await migrateWhileStoreFails(failure);
    expect(report.migrated).toEqual([]);
    expect(report.refused).toHaveLength(OPEN);
    expect(report.refused.some((refusal) => refusal.detail.startsWith('Not attempted'))).toBe(true);
    for (const refusal of report.refused) expect(refusal).toMatchObject({ status: 503, code, retryAfterSeconds: seconds });
  });
});

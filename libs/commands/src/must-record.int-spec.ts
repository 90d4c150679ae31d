import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSQLiteEventStore, type EventStore } from '@stagecraft/event-store';
import type { CommandEnvelope } from './command-envelope';
import { createCommandSide, type CommandSide } from './command-side';
import { RecordedEventsDifferError } from './command.errors';

// A caller that says which events its command must record (`mustRecord`: the CLI's import,
// replaying an exported event) gets them recorded exactly, or nothing: the executor decides,
// compares, and only then claims a key or appends. Decided fields (an opening's stage, a move's
// direction) are compared, never taken from the decision in silence.
describe('OpportunityCommandExecutor: mustRecord', () => {
  const PROCESSES = join(__dirname, '..', '..', '..', 'config', 'processes');
  const ID = '5a0e2c4d-1b3f-4e5a-8c7d-9e0f1a2b3c4d';
  const STREAM = `opportunity-${ID}`;
  let dir: string;
  let store: EventStore;
  let side: CommandSide;
  let sequence = 0;
  const envelope = (mustRecord: CommandEnvelope['mustRecord']): CommandEnvelope => ({
    commandId: `import:e${(sequence += 1)}`,
    clientSuppliedId: true,
    correlationId: 'import:run',
    actor: 'cli:test',
    authenticatedBy: 'cli:store-file-access',
    now: new Date().toISOString(),
    ...(mustRecord !== undefined ? { mustRecord } : {}),
  });
  const opened = (stage: string) => ({ type: 'OpportunityOpened', data: { opportunityId: ID, occurredAt: '2026-01-02T09:00:00.000Z', processId: 'standard', processVersion: side.processes.current('standard').version, stage, title: 'ACME' } });
  const open = { type: 'OpenOpportunity', opportunityId: ID, processId: 'standard', title: 'ACME', occurredAt: '2026-01-02T09:00:00.000Z' } as const;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'must-record-'));
    store = getSQLiteEventStore({ path: join(dir, 'events.db'), durability: 'normal' });
    side = await createCommandSide(store, { processesDir: PROCESSES, conflictRetries: 5, streamCacheSize: 100 });
  });
  afterAll(async () => {
    side?.snapshots.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses, appending nothing and claiming no key, when the decided events differ; records them when they are the same', async () => {
    const refused = side.executor.execute(open, envelope([opened('qualification')]));
    await expect(refused).rejects.toThrow(RecordedEventsDifferError);
    await expect(refused).rejects.toMatchObject({ difference: { index: 0, field: 'data.stage', expected: 'qualification', decided: 'new' } });
    expect((await store.readAll()).filter((event) => !event.stream.startsWith('sales-process-'))).toEqual([]);

    const answer = await side.executor.execute(open, envelope([opened('new')]));
    expect(answer).toMatchObject({ id: ID, stage: 'new', revision: 0 });
    const moved = { type: 'StageChanged', data: { opportunityId: ID, occurredAt: '2026-01-03T09:00:00.000Z', from: 'new', to: 'qualification', direction: 'backward' } };
    const move = { type: 'MoveOpportunityToStage', opportunityId: ID, stage: 'qualification', occurredAt: '2026-01-03T09:00:00.000Z' } as const;
    await expect(side.executor.execute(move, envelope([moved]))).rejects.toMatchObject({ difference: { field: 'data.direction', expected: 'backward', decided: 'forward' } });
    expect((await store.readStream(STREAM)).map((event) => event.type)).toEqual(['OpportunityOpened']);
  });

  it('a command that changes nothing is no match for an event, keyed or not', async () => {
    const titled = { type: 'OpportunityDetailsChanged', data: { opportunityId: ID, occurredAt: '2026-01-04T09:00:00.000Z', title: 'ACME' } };
    const details = { type: 'ChangeOpportunityDetails', opportunityId: ID, title: 'ACME', occurredAt: '2026-01-04T09:00:00.000Z' } as const;
    await expect(side.executor.execute(details, envelope([titled]))).rejects.toMatchObject({ difference: { field: 'type', expected: 'OpportunityDetailsChanged', decided: 'NoChangeRecorded' } });
    await expect(side.executor.execute(details, { ...envelope([titled]), clientSuppliedId: false })).rejects.toMatchObject({ difference: { field: 'type', expected: 'OpportunityDetailsChanged', decided: undefined } });
    expect((await store.readStream(STREAM)).map((event) => event.type)).toEqual(['OpportunityOpened']);
  });
});

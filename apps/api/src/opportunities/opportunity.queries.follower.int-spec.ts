import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCommandSide, LogChainStart, type CommandEnvelope, type CommandSide } from '@stagecraft/commands';
import { getKurrentDBEventStore, type EventStore } from '@stagecraft/event-store';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../../test/kurrentdb-double/kurrentdb-double';
import { VerifyOpportunityHandler, VerifyOpportunityQuery } from './opportunity-audit.queries';
import { GetOpportunityHandler, GetOpportunityHistoryHandler, GetOpportunityHistoryQuery, GetOpportunityQuery } from './opportunity.queries';

// An instance reading from a follower that lags behind the leader (nodePreference=follower or
// random) may show a deal changed elsewhere as it was; it must not deny that a deal opened elsewhere exists.

const PROCESSES = join(__dirname, '..', '..', '..', '..', 'config', 'processes');

describe('reading a deal on an instance whose follower lags behind the leader', () => {
  let double: KurrentDbDouble;
  const stores: EventStore[] = [];
  let thaw: (() => void) | undefined;

  const envelope = (): CommandEnvelope => ({ commandId: crypto.randomUUID(), clientSuppliedId: false, correlationId: 'test', actor: 'test', authenticatedBy: 'test', now: '2026-01-01T00:00:00.000Z' });
  let changed: string;
  const instance = async (processesDir = PROCESSES): Promise<CommandSide> => {
    const store = getKurrentDBEventStore({ connectionString: `${double.url}&nodePreference=follower` });
    stores.push(store);
    return createCommandSide(store, { processesDir, conflictRetries: 5, streamCacheSize: 100 });
  };

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    // A's files: the standard process with a stage renamed, a version the log does not hold yet.
    changed = mkdtempSync(join(tmpdir(), 'stagecraft-follower-lag-'));
    cpSync(PROCESSES, changed, { recursive: true });
    const file = join(changed, 'standard.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('name: Qualification', 'name: Qualifying'));
  });
  afterAll(async () => {
    rmSync(changed, { recursive: true, force: true });
    thaw?.();
    for (const store of stores.splice(0)) await store.close();
    await double?.stop();
  });

  it('a deal opened through A after the follower froze, on a process version recorded since: GET /opportunities/:id, its history and its verification on B find it (not 404)', async () => {
    const b = await instance();
    thaw = double.faults.freezeFollower();
    const a = await instance(changed); // records its version of the process after the freeze
    const id = crypto.randomUUID();
    await a.executor.execute({ type: 'OpenOpportunity', opportunityId: id, title: 'Deal', processId: 'standard' }, envelope());

    await expect(new GetOpportunityHandler(b.streams, b.processes, b.store).execute(new GetOpportunityQuery(id))).resolves.toMatchObject({ id, revision: 0, stage: 'new' });
    await expect(new VerifyOpportunityHandler(b.store, new LogChainStart(b.store)).execute(new VerifyOpportunityQuery(id))).resolves.toMatchObject({ opportunityId: id, ok: true });
    await expect(new GetOpportunityHistoryHandler(b.store).execute(new GetOpportunityHistoryQuery(id))).resolves.toMatchObject({ events: [{ revision: 0, type: 'OpportunityOpened' }] });
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSQLiteEventStore, type SQLiteEventStore } from '@stagecraft/event-store';
import { toOpportunityStreamId } from '@stagecraft/opportunity';
import { createCommandSide, type CommandSide } from './command-side';
import { readsNoted } from './testing/reads-noted.store';
import { envelopeSequence } from './testing/envelopes';

// While its SQLite store says no one else writes, the executor decides on the stream as this
// process folded it, without reading it again (EventStore.isSoleWriter). Only the append's
// expected revision confirms such a fold: here a second store on the same file (another process)
// writes behind the first one's back, and every answer must still be the one a fresh read gives.

const PROCESSES = join(__dirname, '..', '..', '..', 'config', 'processes');

describe('commands on a fold this process cached, with another writer on the same file', () => {
  let dir: string;
  const stores: SQLiteEventStore[] = [];
  const reads: string[] = [];
  let here: CommandSide;
  let elsewhere: CommandSide;
  let hereStore: SQLiteEventStore;

  const envelope = envelopeSequence();

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cached-fold-'));
    const path = join(dir, 'events.db');
    hereStore = getSQLiteEventStore({ path, durability: 'normal' });
    const elsewhereStore = getSQLiteEventStore({ path, durability: 'normal' });
    stores.push(hereStore, elsewhereStore);
    here = await createCommandSide(readsNoted(hereStore, (stream) => reads.push(stream)), { processesDir: PROCESSES, conflictRetries: 0, streamCacheSize: 100 });
    elsewhere = await createCommandSide(elsewhereStore, { processesDir: PROCESSES, conflictRetries: 0, streamCacheSize: 100 });
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An opportunity in Qualification, opened and moved here, with this store's last commits its own. */
  async function dealHere(): Promise<string> {
    const id = crypto.randomUUID();
    await here.executor.execute({ type: 'OpenOpportunity', opportunityId: id, title: 'Deal', processId: 'standard' }, envelope());
    await here.executor.execute({ type: 'MoveOpportunityToStage', opportunityId: id, stage: 'qualification' }, envelope());
    await here.executor.execute({ type: 'MeetExitCriterion', opportunityId: id, criterionId: 'goals' }, envelope());
    expect(hereStore.isSoleWriter()).toBe(true);
    return id;
  }
  const streamOf = (id: string) => toOpportunityStreamId(id);
  const readsOf = (id: string) => reads.filter((stream) => stream === streamOf(id)).length;

  it('alone on the file, a command on a cached stream reads nothing and appends after it', async () => {
    const id = await dealHere();
    reads.length = 0;
    const outcome = await here.executor.execute({ type: 'MeetExitCriterion', opportunityId: id, criterionId: 'pain-points' }, envelope());
    expect(readsOf(id)).toBe(0);
    expect(outcome).toMatchObject({ revision: 3, stage: 'qualification', replayed: false });
    expect((await hereStore.readStream(streamOf(id))).map((event) => event.type)).toEqual(['OpportunityOpened', 'StageChanged', 'ExitCriterionMet', 'ExitCriterionMet']);
  });

  it('a stale fold that would record nothing is read again: the criterion revoked elsewhere is met again', async () => {
    const id = await dealHere();
    await elsewhere.executor.execute({ type: 'RevokeExitCriterion', opportunityId: id, criterionId: 'goals' }, envelope());
    // On the cached fold "goals" is still met, so meeting it would record nothing and answer revision 2.
    const outcome = await here.executor.execute({ type: 'MeetExitCriterion', opportunityId: id, criterionId: 'goals' }, envelope());
    expect(outcome).toMatchObject({ revision: 4 });
    expect((await hereStore.readStream(streamOf(id))).at(-1)).toMatchObject({ type: 'ExitCriterionMet', revision: 4 });
  });

  it('a stale fold whose append conflicts is read again, without spending a conflict retry (none are allowed here)', async () => {
    const id = await dealHere();
    await elsewhere.executor.execute({ type: 'MeetExitCriterion', opportunityId: id, criterionId: 'need-confirmed' }, envelope());
    const outcome = await here.executor.execute({ type: 'MeetExitCriterion', opportunityId: id, criterionId: 'pain-points' }, envelope());
    expect(outcome).toMatchObject({ revision: 4 });
    expect((await hereStore.readStream(streamOf(id))).map((event) => event.type)).toEqual(['OpportunityOpened', 'StageChanged', 'ExitCriterionMet', 'ExitCriterionMet', 'ExitCriterionMet']);
  });

  it('a stale fold does not refuse what the stream allows: If-Match with the revision written elsewhere', async () => {
    const id = await dealHere();
    await elsewhere.executor.execute({ type: 'MoveOpportunityToStage', opportunityId: id, stage: 'new' }, envelope());
    // The fold says revision 2 and Qualification; the stream is at 3, in New.
    await expect(here.executor.execute({ type: 'MoveOpportunityToStage', opportunityId: id, stage: 'qualification' }, envelope({ expectedRevision: 3 }))).resolves.toMatchObject({
      revision: 4,
      stage: 'qualification',
    });
  });

  it('a refusal stands on the stream as stored: a deal lost elsewhere cannot be moved here', async () => {
    const id = await dealHere();
    await elsewhere.executor.execute({ type: 'LoseOpportunity', opportunityId: id, reason: 'price' }, envelope());
    await expect(here.executor.execute({ type: 'MoveOpportunityToStage', opportunityId: id, stage: 'new' }, envelope())).rejects.toMatchObject({
      rejection: { code: 'OPPORTUNITY.ALREADY_CLOSED' },
    });
    // An If-Match on the fold's revision is refused with the stored one.
    await expect(here.executor.execute({ type: 'MeetExitCriterion', opportunityId: id, criterionId: 'goals' }, envelope({ expectedRevision: 2 }))).rejects.toMatchObject({
      expected: 2,
      actual: 3,
    });
  });
});

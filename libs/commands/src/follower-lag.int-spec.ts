import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getKurrentDBEventStore, type EventStore } from '@stagecraft/event-store';
import { toOpportunityStreamId } from '@stagecraft/opportunity';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../test/kurrentdb-double/kurrentdb-double';
import type { CommandEnvelope } from './command-envelope';
import { createCommandSide, type CommandSide } from './command-side';
import { readsNoted } from './testing/reads-noted.store';

// Instances whose KurrentDB connection prefers a follower (nodePreference=follower or random) read
// from a node that may lag behind the leader, where every append lands. A lagging follower must
// never make a command answer what the log does not say: a conflict after its retries (409), a
// deal that "does not exist" (404), a rule refused on a stage the deal has left (422), or a crash.

const PROCESSES = join(__dirname, '..', '..', '..', 'config', 'processes');

describe('commands on instances that read from a follower that lags behind the leader', () => {
  let double: KurrentDbDouble;
  const stores: EventStore[] = [];
  const thaws: (() => void)[] = [];
  let n = 0;

  const envelope = (more: Partial<CommandEnvelope> = {}): CommandEnvelope => ({
    commandId: `command-${++n}`,
    clientSuppliedId: false,
    correlationId: `test-${n}`,
    actor: 'test',
    authenticatedBy: 'test',
    now: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
    ...more,
  });
  const instance = async (query = '&nodePreference=follower', processesDir = PROCESSES): Promise<CommandSide> => {
    const store = getKurrentDBEventStore({ connectionString: `${double.url}${query}` });
    stores.push(store);
    return createCommandSide(store, { processesDir, conflictRetries: 5, streamCacheSize: 100 });
  };
  const freeze = () => thaws.push(double.faults.freezeFollower());
  const open = (side: CommandSide, id: string, more: Partial<CommandEnvelope> = {}) => side.executor.execute({ type: 'OpenOpportunity', opportunityId: id, title: 'Deal', processId: 'standard' }, envelope(more));
  const toQualification = (side: CommandSide, id: string, more: Partial<CommandEnvelope> = {}) => side.executor.execute({ type: 'MoveOpportunityToStage', opportunityId: id, stage: 'qualification' }, envelope(more));
  const meet = (side: CommandSide, id: string, criterionId: string, more: Partial<CommandEnvelope> = {}) => side.executor.execute({ type: 'MeetExitCriterion', opportunityId: id, criterionId }, envelope(more));
  const revisions = (id: string) => double.log.stream(toOpportunityStreamId(id))?.map((record) => Number(record.revision));

  beforeAll(async () => {
    double = await startKurrentDbDouble();
  });
  afterEach(() => {
    for (const thaw of thaws.splice(0)) thaw();
  });
  afterAll(async () => {
    for (const store of stores.splice(0)) await store.close();
    await double?.stop();
  });

  it('without lag, a command reads no more from the leader than before: only the check of the start of a stream it folded', async () => {
    const leaderReads: string[] = [];
    const store = readsNoted(getKurrentDBEventStore({ connectionString: `${double.url}&nodePreference=follower` }), (stream, options) => {
      if (options?.fromLeader === true) leaderReads.push(`${stream}:${options.maxCount ?? 'all'}`);
    });
    stores.push(store);
    const side = await createCommandSide(store, { processesDir: PROCESSES, conflictRetries: 5, streamCacheSize: 100 });
    const id = crypto.randomUUID();
    await open(side, id);
    leaderReads.length = 0;

    await toQualification(side, id);
    await meet(side, id, 'need-confirmed');
    expect(leaderReads).toEqual([`${toOpportunityStreamId(id)}:1`, `${toOpportunityStreamId(id)}:1`]);
  });

  it('a long deal written after the freeze keeps its snapshot: a load reads past it, not the whole stream from both nodes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-follower-lag-'));
    try {
      const whole: string[] = [];
      const store = readsNoted(getKurrentDBEventStore({ connectionString: `${double.url}&nodePreference=follower` }), (stream, options) => {
        if ((options?.fromRevision ?? 0) === 0 && options?.maxCount === undefined && stream.startsWith('opportunity-')) whole.push(options?.fromLeader === true ? 'leader' : 'follower');
      });
      stores.push(store);
      const side = await createCommandSide(store, { processesDir: PROCESSES, conflictRetries: 5, streamCacheSize: 0, streamSnapshotsPath: join(dir, 'stream-snapshots.db') });
      freeze();
      const id = crypto.randomUUID();
      await open(side, id);
      await toQualification(side, id);
      for (let n = 2; n < 60; n++) await side.executor.execute({ type: n % 2 === 0 ? 'MeetExitCriterion' : 'RevokeExitCriterion', opportunityId: id, criterionId: 'need-confirmed' }, envelope());
      expect(side.snapshots.load(toOpportunityStreamId(id))).toBeDefined();
      whole.length = 0;

      await expect(meet(side, id, 'need-confirmed')).resolves.toMatchObject({ revision: 60 });
      expect(whole).toEqual([]);
      side.snapshots.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a deal changed through A, then through B: B lands its change (the retry after the conflict reads the leader), not 409 after its retries', async () => {
    const [a, b] = [await instance(), await instance()];
    const id = crypto.randomUUID();
    await open(a, id);
    await toQualification(b, id); // B has folded the deal too
    freeze();
    await meet(a, id, 'need-confirmed');

    await expect(meet(b, id, 'budget-confirmed')).resolves.toMatchObject({ revision: 3, appended: 1 });
    expect(revisions(id)).toEqual([0, 1, 2, 3]);
  });

  it('a deal opened through A after the follower froze is found by B (not 404), and a change B then makes lands', async () => {
    const [a, b] = [await instance(), await instance()];
    freeze();
    const id = crypto.randomUUID();
    await open(a, id);

    await expect(toQualification(b, id)).resolves.toMatchObject({ revision: 1, stage: 'qualification' });
    await expect(meet(b, id, 'need-confirmed')).resolves.toMatchObject({ revision: 2 });
    expect(revisions(id)).toEqual([0, 1, 2]);
  });

  it("opening through B an id A opened after the freeze is told the id is taken, not answered from the follower's empty stream", async () => {
    const [a, b] = [await instance(), await instance()];
    freeze();
    const id = crypto.randomUUID();
    await open(a, id);

    await expect(open(b, id)).rejects.toMatchObject({ rejection: { code: 'OPPORTUNITY.ALREADY_OPENED' } });
    expect(revisions(id)).toEqual([0]);
  });

  it("a rule B checks on the deal's stage is checked on the stage the leader has, not on the one the follower still shows (no 422)", async () => {
    const [a, b] = [await instance(), await instance()];
    const id = crypto.randomUUID();
    await open(a, id);
    await expect(meet(b, id, 'need-confirmed')).rejects.toMatchObject({ name: 'OpportunityRejectedError' }); // B folded it in New, where that criterion is not one
    freeze();
    await toQualification(a, id);

    await expect(meet(b, id, 'need-confirmed')).resolves.toMatchObject({ revision: 2 });
  });

  it('the revision a client read after A\'s change is the one B checks (If-Match): no 409 for a revision the leader has', async () => {
    const [a, b] = [await instance(), await instance()];
    const id = crypto.randomUUID();
    await open(a, id);
    await toQualification(b, id);
    freeze();
    const { revision } = await meet(a, id, 'need-confirmed');

    await expect(meet(b, id, 'budget-confirmed', { expectedRevision: revision })).resolves.toMatchObject({ revision: revision + 1 });
    // A revision the leader has gone past is still the client's conflict.
    await expect(meet(b, id, 'goals', { expectedRevision: revision })).rejects.toMatchObject({ name: 'WrongExpectedRevisionError' });
  });

  it('a keyed command (Idempotency-Key) is answered from what the leader stores, and its retry on the other instance is a replay', async () => {
    const [a, b] = [await instance(), await instance()];
    freeze();
    const id = crypto.randomUUID();
    const key = { clientSuppliedId: true, commandId: `key-${crypto.randomUUID()}` };
    await expect(open(a, id, key)).resolves.toMatchObject({ revision: 0, replayed: false, appended: 1 });
    const moveKey = { clientSuppliedId: true, commandId: `key-${crypto.randomUUID()}` };
    await expect(toQualification(a, id, moveKey)).resolves.toMatchObject({ revision: 1, replayed: false, appended: 1 });

    await expect(open(b, id, key)).resolves.toMatchObject({ revision: 0, replayed: true, appended: 0 });
    await expect(toQualification(b, id, moveKey)).resolves.toMatchObject({ revision: 1, replayed: true, appended: 0 });
    expect(revisions(id)).toEqual([0, 1]);
  });

  it('a process another instance recorded after the freeze exists for B (analytics asked about it answer, not 404 PROCESS.NOT_FOUND)', async () => {
    const more = mkdtempSync(join(tmpdir(), 'stagecraft-follower-lag-'));
    try {
      cpSync(PROCESSES, more, { recursive: true });
      const id = `late${n}`;
      writeFileSync(join(more, `${id}.yaml`), [`id: ${id}`, 'name: Late', 'stages:', '  - { id: talk, name: Talk, probability: 20 }', '  - { id: sign, name: Sign, probability: 80 }', 'lostReasons: [price]', ''].join('\n'));
      const b = await instance();
      freeze();
      await instance('&nodePreference=follower', more); // records the new process on the leader
      await expect(b.processes.exists(id)).resolves.toBe(true);
      await expect(b.processes.exists(`${id}-never`)).resolves.toBe(false);
    } finally {
      rmSync(more, { recursive: true, force: true });
    }
  });

  it('a process version another instance recorded after the freeze: its start-up reads back its own recording, and B decides on a deal that runs on it', async () => {
    const changed = mkdtempSync(join(tmpdir(), 'stagecraft-follower-lag-'));
    try {
      cpSync(PROCESSES, changed, { recursive: true });
      const file = join(changed, 'standard.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('name: Qualification', 'name: Qualifying'));
      const b = await instance(); // on the files before: the new version is not its own
      await open(b, crypto.randomUUID()); // the follower has the process stream as it was
      freeze();
      const c = await instance('&nodePreference=follower', changed); // records the new version on the leader
      const leader = getKurrentDBEventStore({ connectionString: double.url });
      stores.push(leader);
      const [recording] = await leader.readStream('sales-process-standard', { direction: 'backwards', maxCount: 1 });
      const version = (recording!.data as { version: string }).version;
      expect(c.processes.versions('standard').find((info) => info.version === version)).toMatchObject({ recordedAt: recording!.recordedAt });
      const id = crypto.randomUUID();
      await open(c, id);

      await expect(toQualification(b, id)).resolves.toMatchObject({ revision: 1 });
    } finally {
      rmSync(changed, { recursive: true, force: true });
    }
  });
});

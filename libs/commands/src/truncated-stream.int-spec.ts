import { join } from 'node:path';
import { getKurrentDBEventStore, StreamDeletedError, StreamTruncatedError, type EventStore } from '@stagecraft/event-store';
import { toOpportunityStreamId } from '@stagecraft/opportunity';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../test/kurrentdb-double/kurrentdb-double';
import { createCommandSide, type CommandSide } from './command-side';
import type { CommandEnvelope } from './command-envelope';
import { envelopeSequence } from './testing/envelopes';

// An operator can hide an opportunity's events in KurrentDB: truncate-before ($tb) metadata, a soft
// delete (which is $tb too), a tombstone. An instance that never folded the stream reads what is
// left and refuses to decide on it; an instance that folded it before must refuse the same way,
// not decide on its memory of events the log no longer shows (and, after a soft delete, bring the
// stream back with an append).

const PROCESSES = join(__dirname, '..', '..', '..', 'config', 'processes');

describe('commands on an opportunity whose events the event store no longer shows', () => {
  let double: KurrentDbDouble;
  const stores: EventStore[] = [];

  const envelope = envelopeSequence();
  const instance = async (query = ''): Promise<CommandSide> => {
    const store = getKurrentDBEventStore({ connectionString: `${double.url}${query}` });
    stores.push(store);
    return createCommandSide(store, { processesDir: PROCESSES, conflictRetries: 2, streamCacheSize: 100 });
  };
  const move = (side: CommandSide, id: string) => side.executor.execute({ type: 'MeetExitCriterion', opportunityId: id, criterionId: 'budget-confirmed' }, envelope());

  /** An opportunity in Qualification, folded in `side`'s cache (revision 1). */
  async function dealIn(side: CommandSide): Promise<string> {
    const id = crypto.randomUUID();
    await side.executor.execute({ type: 'OpenOpportunity', opportunityId: id, title: 'Deal', processId: 'standard' }, envelope());
    await side.executor.execute({ type: 'MoveOpportunityToStage', opportunityId: id, stage: 'qualification' }, envelope());
    return id;
  }

  beforeAll(async () => {
    double = await startKurrentDbDouble();
  });
  afterAll(async () => {
    for (const store of stores.splice(0)) await store.close();
    await double?.stop();
  });

  it('truncated before a revision ($tb): the instance that cached it refuses as one that never saw it does, and appends nothing', async () => {
    const cached = await instance();
    const fresh = await instance();
    const id = await dealIn(cached);
    const stream = toOpportunityStreamId(id);
    double.faults.truncateBefore(stream, 1);

    await expect(move(fresh, id)).rejects.toThrow(StreamTruncatedError);
    await expect(move(cached, id)).rejects.toThrow(StreamTruncatedError);
    await expect(move(cached, id)).rejects.toMatchObject({ stream, firstReadable: 1 });
    expect(double.log.stream(stream)?.map((record) => record.revision)).toEqual([1n]);
  });

  it('soft-deleted: the instance that cached it answers as one that never saw it (not found), and does not bring the stream back', async () => {
    const cached = await instance();
    const fresh = await instance();
    const id = await dealIn(cached);
    const stream = toOpportunityStreamId(id);
    double.log.deleteStream(stream, { kind: 'any' }, false);

    await expect(move(fresh, id)).rejects.toMatchObject({ rejection: { code: 'OPPORTUNITY.NOT_FOUND' } });
    await expect(move(cached, id)).rejects.toMatchObject({ rejection: { code: 'OPPORTUNITY.NOT_FOUND' } });
    expect(double.log.stream(stream)).toBeUndefined(); // still deleted: nothing was appended
  });

  it('soft-deleted: opening a deal again with its id is refused on every instance (a deleted id is not used again), and nothing is appended', async () => {
    const cached = await instance();
    const fresh = await instance();
    const id = await dealIn(cached);
    const stream = toOpportunityStreamId(id);
    double.log.deleteStream(stream, { kind: 'any' }, false);
    const open = (side: CommandSide) => side.executor.execute({ type: 'OpenOpportunity', opportunityId: id, title: 'Deal again', processId: 'standard' }, envelope());

    await expect(open(fresh)).rejects.toThrow(StreamDeletedError);
    await expect(open(cached)).rejects.toThrow(StreamDeletedError);
    expect(double.log.stream(stream)).toBeUndefined(); // still deleted: nothing was appended
    // A new id opens as ever (the check costs a read, and finds nothing).
    await expect(dealIn(fresh)).resolves.toBeDefined();
  });

  it('soft-deleted: a caller limited to teams opening the deleted id is told what any id in use answers (409), not that a deal was deleted', async () => {
    const side = await instance();
    const id = await dealIn(side);
    const stream = toOpportunityStreamId(id);
    double.log.deleteStream(stream, { kind: 'any' }, false);
    const limited: CommandEnvelope = { ...envelope(), teams: ['direct'] };

    await expect(side.executor.execute({ type: 'OpenOpportunity', opportunityId: id, title: 'Deal again', processId: 'standard', teamId: 'direct' }, limited)).rejects.toMatchObject({
      name: 'OpportunityRejectedError',
      rejection: { code: 'OPPORTUNITY.ALREADY_OPENED' },
    });
    expect(double.log.stream(stream)).toBeUndefined(); // nothing was appended
  });

  it('read from a follower that lags: the deal this instance just opened is not taken for soft-deleted (the check of its start asks the leader)', async () => {
    const side = await instance('&nodePreference=follower');
    const resume = double.faults.freezeFollower();
    try {
      const id = await dealIn(side);
      await expect(move(side, id)).resolves.toBeDefined();
      expect(double.log.stream(toOpportunityStreamId(id))?.map((record) => record.revision)).toEqual([0n, 1n, 2n]);
    } finally {
      resume();
    }
  });

  it('tombstoned: both refuse with StreamDeletedError', async () => {
    const cached = await instance();
    const fresh = await instance();
    const id = await dealIn(cached);
    double.faults.deleteStream(toOpportunityStreamId(id));

    await expect(move(fresh, id)).rejects.toThrow(StreamDeletedError);
    await expect(move(cached, id)).rejects.toThrow(StreamDeletedError);
  });
});

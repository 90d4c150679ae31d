import { join } from 'node:path';
import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { getKurrentDBEventStore, type EventStore } from '@stagecraft/event-store';
import { ProcessDefinitionError, toProcessStreamId } from '@stagecraft/sales-process';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../test/kurrentdb-double/kurrentdb-double';
import { createCommandSide } from './command-side';

// A process stream keeps every version deals were opened on. On KurrentDB an operator can set
// metadata that hides its recordings from readers ($tb, $maxCount, $maxAge) or soft-delete it: a
// start-up then read fewer versions than deals name, or (everything hidden) read the stream as
// never written and recorded its first version again over the hidden ones. $maxCount and $maxAge
// hide more with each version and each day, so start-up refuses such settings whatever they hide
// yet, naming the file, the stream and the setting; the store is left as it was.

const PROCESSES = join(__dirname, '..', '..', '..', 'config', 'processes');
const STREAM = toProcessStreamId('standard');
const DEADLINE = { deadline: 60_000 }; // sized for a busy machine (the client's default is 10 s)

describe('start-up on a process stream whose settings hide its recordings (KurrentDB)', () => {
  let double: KurrentDbDouble;
  const stores: EventStore[] = [];

  const startUp = async () => {
    const store = getKurrentDBEventStore({ connectionString: double.url });
    stores.push(store);
    return createCommandSide(store, { processesDir: PROCESSES, conflictRetries: 2, streamCacheSize: 10 });
  };
  const withClient = async (act: (client: KurrentDBClient) => Promise<unknown>) => {
    const client = KurrentDBClient.connectionString(double.url);
    try {
      await act(client);
    } finally {
      await client.dispose();
    }
  };

  beforeEach(async () => {
    double = await startKurrentDbDouble();
    await startUp(); // records each process's version
  });
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await double?.stop();
  });

  it.each([
    ['$maxAge', { maxAge: 3600 }, '$maxAge 3600 s'],
    ['$maxCount', { maxCount: 1 }, '$maxCount 1'],
    ['$tb past every recording', { truncateBefore: 5 }, '$tb 5'],
  ])('%s: refused, naming the file, the stream and the setting, nothing recorded', async (_name, metadata, named) => {
    await withClient((client) => client.setStreamMetadata(STREAM, metadata, DEADLINE));
    const before = double.log.stream(STREAM)?.length;

    const refusal = await startUp().then(() => undefined, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(ProcessDefinitionError);
    const message = (refusal as Error).message;
    expect(message).toContain('standard.yaml');
    expect(message).toContain(`"${STREAM}"`);
    expect(message).toContain(named);
    expect(double.log.stream(STREAM)?.length).toBe(before);
  });

  it('soft-deleted: refused as well, rather than read as never written and recorded again', async () => {
    await withClient((client) => client.deleteStream(STREAM, DEADLINE));
    const before = double.log.stream(STREAM)?.length;

    await expect(startUp()).rejects.toThrow(/"sales-process-standard".*a soft delete/s);
    expect(double.log.stream(STREAM)?.length).toBe(before);
  });

  it('a user who may not read the stream\'s metadata: the check is skipped, as an opening skips it', async () => {
    await withClient((client) => client.setStreamMetadata(STREAM, { maxCount: 1 }, DEADLINE));
    double.faults.denyAccess(`$$${STREAM}`);
    await expect(startUp()).resolves.toBeDefined();
  });

  it('metadata that hides nothing (an ACL alone) does not stop start-up', async () => {
    await withClient((client) => client.setStreamMetadata(STREAM, { acl: { readRoles: ['$all'] } }, DEADLINE));
    await expect(startUp()).resolves.toBeDefined();
  });
});

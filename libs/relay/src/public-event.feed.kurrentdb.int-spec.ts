import { createCommandSide } from '@stagecraft/commands';
import { getKurrentDBEventStore, type EventStore, type StoredEvent } from '@stagecraft/event-store';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../test/kurrentdb-double/kurrentdb-double';
import { SHIPPED_PROCESSES } from '../../../test/support/api-test-app';
import { runJourney } from '../../../test/support/relay-journey';
import { toProcessStreamId } from '@stagecraft/sales-process';
import { PublicEventFeed } from './public-event.feed';

// An operator may delete an opportunity's stream on the KurrentDB server (tombstone or soft
// delete) or hide its first events ($tb, $maxCount); its events stay in $all. A relay that meets
// one of them without the deal's state in its cache (it started again from a checkpoint, or
// replays from a position) reads the stream to learn the state before it — which no longer
// tells. That event cannot be mapped: the feed must say so and go on, not fail the relay on it at
// every retry, which would stop every sink at that position for good.
describe('the public event feed on KurrentDB streams an operator deleted or truncated', () => {
  let double: KurrentDbDouble;
  let store: EventStore;
  const journeys: Record<'tombstoned' | 'softDeleted' | 'truncated' | 'kept', string> = { tombstoned: '', softDeleted: '', truncated: '', kept: '' };

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    store = getKurrentDBEventStore({ connectionString: double.url });
    const side = await createCommandSide(store, { processesDir: SHIPPED_PROCESSES, conflictRetries: 5, streamCacheSize: 100 });
    for (const which of Object.keys(journeys) as (keyof typeof journeys)[]) journeys[which] = (await runJourney(side.executor, which)).id;
    double.faults.deleteStream(`opportunity-${journeys.tombstoned}`);
    double.log.deleteStream(`opportunity-${journeys.softDeleted}`, { kind: 'any' }, false);
    double.faults.truncateBefore(`opportunity-${journeys.truncated}`, 2);
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await double?.stop();
  });

  /** The events of an opportunity from its fourth on, as $all holds them. */
  const laterEventsOf = async (id: string): Promise<StoredEvent[]> => (await store.readAll()).filter((event) => event.stream === `opportunity-${id}` && event.revision >= 3);

  it.each(['tombstoned', 'softDeleted', 'truncated'] as const)('an event of a %s stream, met mid-stream, is passed by with a reason, and the feed goes on', async (which) => {
    const skipped: string[] = [];
    const feed = new PublicEventFeed(store, 100, (reason) => skipped.push(reason));
    const [event] = await laterEventsOf(journeys[which]);
    await expect(feed.toOutgoing(event!)).resolves.toBeUndefined();
    expect(skipped).toEqual([expect.stringContaining(`opportunity-${journeys[which]}`)]);
    expect(skipped[0]).toContain(`position ${event!.position}`);
    const [kept] = await laterEventsOf(journeys.kept);
    await expect(feed.toOutgoing(kept!)).resolves.toMatchObject({ position: kept!.position });
  });

  it('an opportunity whose process stream was deleted is published with its stages unnamed, as for a version missing', async () => {
    double.faults.deleteStream(toProcessStreamId('standard')); // the journeys' process
    const [kept] = await laterEventsOf(journeys.kept);
    await expect(new PublicEventFeed(store).toOutgoing(kept!)).resolves.toMatchObject({ position: kept!.position });
  });
});

// A relay whose reads go to a follower (nodePreference=follower or random) while its subscription
// is fed by a node further on: the events it is handed may not have reached the follower yet. The
// deal's stream and its process's versions must then be read where they are, on the leader, not
// judged deleted (the event passed by, unpublished, for good) or unnamed.
describe('the public event feed while the follower it reads from lags', () => {
  let double: KurrentDbDouble;
  let store: EventStore;
  let follower: EventStore;
  let thaw: () => void;

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    store = getKurrentDBEventStore({ connectionString: double.url });
    follower = getKurrentDBEventStore({ connectionString: `${double.url}&nodePreference=follower` });
    thaw = double.faults.freezeFollower(); // before the process versions are recorded, and every event after
  }, 60_000);

  afterAll(async () => {
    thaw?.();
    await follower?.close();
    await store?.close();
    await double?.stop();
  });

  it('an event met without the deal in its cache is published, its stages named', async () => {
    const side = await createCommandSide(store, { processesDir: SHIPPED_PROCESSES, conflictRetries: 5, streamCacheSize: 100 });
    const { id } = await runJourney(side.executor, 'lagging follower');
    const [moved] = (await store.readAll()).filter((event) => event.stream === `opportunity-${id}` && event.type === 'StageChanged');
    const skipped: string[] = [];

    const outgoing = await new PublicEventFeed(follower, 100, (reason) => skipped.push(reason)).toOutgoing(moved!);

    expect(skipped).toEqual([]);
    expect(outgoing?.event).toMatchObject({ id: moved!.id, type: 'stagecraft.opportunity.stage-changed.v1', data: { from: { id: 'new', name: 'New' }, to: { id: 'qualification', name: 'Qualification' } } });
  });
});

import { createCommandSide } from '@stagecraft/commands';
import { getKurrentDBEventStore, type EventStore } from '@stagecraft/event-store';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../test/kurrentdb-double/kurrentdb-double';
import { SHIPPED_PROCESSES, temporaryDirectory } from '../../../test/support/api-test-app';
import { runJourney } from '../../../test/support/relay-journey';
import { waitFor, webhookReceiver } from '../../../test/support/relay-consumers';
import { join } from 'node:path';
import { Relay } from './relay';
import { parseSinkUrl, type WebhookSinkConfig } from './relay-sink-url';
import { getSQLiteRelayStateStore } from './relay-state.store';
import { getWebhookSink } from './sinks/webhook.sink';

// A KurrentDB server that starts refusing the relay's user while it runs (a password rotated, an
// ACL changed): no retry cures it, the operator must; lastError says which setting to look at.
describe('a running relay whose KurrentDB server starts denying its user', () => {
  const dir = temporaryDirectory('stagecraft-relay-denied-');
  let double: KurrentDbDouble;
  let store: EventStore;
  afterAll(async () => {
    await store?.close();
    await double?.stop();
    dir.remove();
  });

  it("says so in lastError naming EVENT_STORE_URL, and goes on once the server lets it in again", async () => {
    double = await startKurrentDbDouble();
    store = getKurrentDBEventStore({ connectionString: double.url });
    const side = await createCommandSide(store, { processesDir: SHIPPED_PROCESSES, conflictRetries: 5, streamCacheSize: 100 });
    await runJourney(side.executor, 'Before');
    const receiver = await webhookReceiver();
    const sink = getWebhookSink(parseSinkUrl(receiver.url) as WebhookSinkConfig, { secret: 'relay-test-secret-0123456789abcdef', maxAttempts: 3, timeoutMs: 2_000, retryBaseMs: 10, retryMaxMs: 50 });
    const relay = new Relay(store, getSQLiteRelayStateStore(join(dir.path, 'relay.db')), [sink], { newSinkFrom: 'beginning', retryBaseMs: 20, retryMaxMs: 200, readAhead: 64, replayCheckMs: 50, log: () => undefined });
    try {
      relay.start();
      await waitFor('caught up', async () => ((await relay.status())[0]!.lag === 0 ? true : undefined));
      const allow = double.faults.denyAccess('');
      double.faults.dropSubscriptions(); // the server ends the subscription: following again is refused
      const status = await waitFor('the refusal reported', async () => {
        const [sinkStatus] = await relay.status(null);
        return sinkStatus!.lastError?.includes('denied') === true ? sinkStatus : undefined;
      });
      expect(status.lastError).toContain('the server refuses the user of EVENT_STORE_URL');
      allow();
      await runJourney(side.executor, 'After');
      await waitFor('caught up again', async () => ((await relay.status())[0]!.lag === 0 ? true : undefined));
      const stored = (await store.readAll()).filter((event) => event.stream.startsWith('opportunity-')).map((event) => event.id);
      expect(new Set(receiver.requests.map((request) => request.event.id))).toEqual(new Set(stored));
    } finally {
      await relay.stop();
      await receiver.close();
    }
  });
});

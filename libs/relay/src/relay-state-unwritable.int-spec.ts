import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createCommandSide } from '@stagecraft/commands';
import { getSQLiteEventStore, SQLiteFileError, type EventStore } from '@stagecraft/event-store';
import { SHIPPED_PROCESSES, temporaryDirectory } from '../../../test/support/api-test-app';
import { runJourney } from '../../../test/support/relay-journey';
import { waitFor, webhookReceiver } from '../../../test/support/relay-consumers';
import { Relay } from './relay';
import { parseSinkUrl, type WebhookSinkConfig } from './relay-sink-url';
import { getSQLiteRelayStateStore } from './relay-state.store';
import { getWebhookSink } from './sinks/webhook.sink';
import { fillDisk, mountSmallDisk } from '../../../test/support/small-disk';

// A state file that can no longer be written (here its disk full; a read-only file system takes the same path): the
// relay's lastError must name RELAY_STATE_PATH and the file, not read as a failure to follow the
// log. The disk is a small tmpfs, which only root can mount: elsewhere the tests are skipped.

const dir = temporaryDirectory('stagecraft-relay-unwritable-');
const mountPoint = join(dir.path, 'disk');

const skipped = mountSmallDisk(mountPoint, '2m');
const test = skipped === undefined ? it : it.skip;

describe(`the relay's state file when it cannot be written${skipped !== undefined ? ` (skipped: ${skipped})` : ''}`, () => {
  afterAll(() => {
    if (skipped === undefined) execFileSync('umount', [mountPoint], { stdio: 'pipe' });
    dir.remove();
  });

  test('a checkpoint not saved on a full disk names RELAY_STATE_PATH, the file and why', () => {
    const path = join(mountPoint, 'store-level.db');
    const state = getSQLiteRelayStateStore(path);
    let filler: string | undefined;
    try {
      state.create('nats://a', 0, 'first');
      filler = fillDisk(mountPoint);
      // A dead letter's body makes the transaction need pages the disk no longer has.
      const letter = { sink: 'nats://a', position: 5, eventId: 'e-5', type: 't', subject: 's', attempts: 1, lastError: 'x', failedAt: 'now', body: 'b'.repeat(256 * 1024) };
      let error: unknown;
      try {
        state.advance('nats://a', 0, 5, 'first', { position: 5, eventId: 'e-5' }, [letter]);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(SQLiteFileError);
      expect((error as Error).message).toBe(`${path} (RELAY_STATE_PATH) cannot be written: the disk is full`);
      rmSync(filler);
      filler = undefined;
      expect(state.advance('nats://a', 0, 5, 'first', { position: 5, eventId: 'e-5' }, [letter])).toBe(true);
    } finally {
      if (filler !== undefined) rmSync(filler);
      state.close();
    }
  });

  test("a running relay whose checkpoint cannot be saved says so in lastError, naming RELAY_STATE_PATH and the file, and goes on once it can", async () => {
    let store: EventStore | undefined;
    let relay: Relay | undefined;
    const receiver = await webhookReceiver();
    const statePath = join(mountPoint, 'relay.db');
    let filler: string | undefined;
    try {
      store = getSQLiteEventStore({ path: join(dir.path, 'events.db'), durability: 'normal' });
      const side = await createCommandSide(store, { processesDir: SHIPPED_PROCESSES, conflictRetries: 5, streamCacheSize: 100 });
      await runJourney(side.executor, 'Deal 0');
      const sink = getWebhookSink(parseSinkUrl(receiver.url) as WebhookSinkConfig, { secret: 'relay-test-secret-0123456789abcdef', maxAttempts: 3, timeoutMs: 2_000, retryBaseMs: 10, retryMaxMs: 50 });
      relay = new Relay(store, getSQLiteRelayStateStore(statePath), [sink], { newSinkFrom: 'beginning', retryBaseMs: 20, retryMaxMs: 200, readAhead: 64, replayCheckMs: 50, log: () => undefined });
      relay.start();
      const caughtUp = async () => ((await relay!.status())[0]!.lag === 0 ? true : undefined);
      await waitFor('the first deal relayed', caughtUp);

      // Its write-ahead log has not been checkpointed since it was made: a new checkpoint needs new pages.
      filler = fillDisk(mountPoint);
      await runJourney(side.executor, 'Deal 1');
      const status = await waitFor('the failure reported', async () => {
        const [sinkStatus] = await relay!.status();
        return sinkStatus!.state === 'retrying' && sinkStatus!.lastError !== undefined ? sinkStatus : undefined;
      });
      expect(status.lastError).toContain(`its checkpoint could not be saved: ${statePath} (RELAY_STATE_PATH) cannot be written`);
      expect(status.lastError).not.toContain('the event log could not be followed');
      rmSync(filler);
      filler = undefined;

      await waitFor('caught up once the file can be written', caughtUp);
      const stored = (await store.readAll()).filter((event) => event.stream.startsWith('opportunity-')).map((event) => event.id);
      expect(new Set(receiver.requests.map((request) => request.event.id))).toEqual(new Set(stored));
    } finally {
      if (filler !== undefined) rmSync(filler);
      await relay?.stop();
      await store?.close();
      await receiver.close();
    }
  });
});

// The relay as its own process: `npm run start:relay` (or node dist/apps/relay/src/main.js), with
// the API started with RELAY=external. It follows the event log and publishes the public events
// to every sink of RELAY_SINKS, each from its own checkpoint in RELAY_STATE_PATH.
import { assertEventStoreExists, describeStartFailure, readSettings, settingWarnings, SettingsError } from '@stagecraft/config';
import { assertMayReadLog, openEventStore, redactCredentials } from '@stagecraft/event-store';
import { openRelay } from '@stagecraft/relay';

async function main(): Promise<void> {
  const settings = readSettings();
  // A variable a letter or two away from a setting's name: said at start-up, not ignored in silence.
  for (const warning of settingWarnings(process.env)) console.warn(`Warning: ${warning}`);
  assertEventStoreExists(settings);
  if (settings.relay.sinks.length === 0) throw new SettingsError('RELAY_SINKS', 'is empty: name at least one sink (nats://…, amqp://…, https://…) for the relay to publish to');
  const store = openEventStore(settings);
  // As the API does (it reads the store as it starts): a user the server refuses stops start-up.
  await assertMayReadLog(store);
  const relay = openRelay(store, settings.relay, (level, message) => (level === 'info' ? console.log(message) : console.error(message)));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await relay.stop();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  relay.start();
  console.log(
    [
      `Stagecraft relay started on ${settings.eventStoreUrl !== undefined ? `KurrentDB at ${redactCredentials(settings.eventStoreUrl)}` : `SQLite at ${settings.eventStorePath}`}`,
      ...settings.relay.sinks.map((sink) => `  sink: ${sink.key}`),
      `  checkpoints and dead letters: ${settings.relay.statePath}`,
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  const reason = describeStartFailure(error);
  console.error(reason !== undefined ? `Relay did not start.\n${reason}` : error);
  process.exit(1);
});

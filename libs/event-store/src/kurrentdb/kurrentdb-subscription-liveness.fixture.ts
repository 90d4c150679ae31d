// Run by kurrentdb-subscription-liveness.int-spec.ts as a process of its own: follows $all, as the
// projector does, and stops the server once caught up. The process must then wait for the server,
// not exit because nothing else holds its event loop.
import { randomUUID } from 'node:crypto';
import { startKurrentDbDouble } from '../../../../test/kurrentdb-double/kurrentdb-double';
import { getKurrentDBEventStore } from './kurrentdb-event-store';

async function main(): Promise<void> {
  const double = await startKurrentDbDouble();
  const store = getKurrentDBEventStore({ connectionString: double.url, reconnectDelayMs: 100 });
  await store.appendToStream('liveness-1', [{ id: randomUUID(), type: 'Happened', data: {}, metadata: {} }], { expectedRevision: 'any' });
  for await (const message of store.subscribeToAll()) {
    if (message.type === 'caughtUp') {
      await double.stop();
      console.log('server stopped');
    }
  }
  console.log('subscription ended');
}

process.on('exit', (code) => console.log(`exit ${code}`));
main().catch((error: unknown) => {
  console.log(`failed: ${(error as Error).message}`);
  process.exit(3);
});

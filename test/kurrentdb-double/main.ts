// Starts the KurrentDB test double on its own, for trying the API on the KurrentDB adapter without
// a server: `npm run kurrentdb:double` (port 2113, or KURRENTDB_DOUBLE_PORT). Events live in
// memory and are gone when it stops.
import { startKurrentDbDouble } from './kurrentdb-double';

async function main(): Promise<void> {
  const double = await startKurrentDbDouble({ port: Number(process.env.KURRENTDB_DOUBLE_PORT ?? 2113) });
  console.log(`KurrentDB test double listening: EVENT_STORE_URL=${double.url}`);
  const stop = () => void double.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

import { ProcessDefinitionError } from '@stagecraft/sales-process';
import { createApiApp } from './api.app';
import { readApiSettings, SettingsError } from './settings/api-settings';

async function main(): Promise<void> {
  const settings = readApiSettings();
  const app = await createApiApp({ settings });
  await app.listen({ port: settings.port, host: settings.host });
  const url = `http://${settings.host === '0.0.0.0' ? 'localhost' : settings.host}:${settings.port}`;
  console.log(`Stagecraft API listening on ${url}`);
  console.log(`  API docs (OpenAPI): ${url}/docs`);
  console.log(`  event store: SQLite at ${settings.eventStorePath} (durability ${settings.durability})`);
  console.log(`  processes: ${settings.processesDir}`);
}

main().catch((error: unknown) => {
  // A bad configuration is the operator's to fix: say which file, field and why, without a stack.
  if (error instanceof ProcessDefinitionError || error instanceof SettingsError) {
    console.error(`Stagecraft did not start.\n${error.message}`);
  } else {
    console.error('Stagecraft did not start:', error);
  }
  process.exit(1);
});

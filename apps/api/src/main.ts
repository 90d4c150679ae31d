import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isIPv6, type AddressInfo } from 'node:net';
import { redactCredentials } from '@stagecraft/event-store';
import { createApiApp } from './api.app';
import { dropFirstAdminKey, ensureFirstAdminKey, type FirstAdminKey } from './auth/first-run';
import { readApiKeysFile } from './auth/api-keys.file';
import { describeStartFailure, readSettings, settingWarnings, type Settings } from '@stagecraft/config';

let settings: Settings | undefined;
let listening = 0;
/** The first admin key made by this start, until the banner has shown it. */
let unseenKey: FirstAdminKey | undefined;
/** A stop (SIGTERM, SIGINT) asked for before the banner: the start-up is abandoned. */
let stoppedBy: NodeJS.Signals | undefined;

/** A key nobody saw is useless: dropped, so the next start makes (and shows) a new one. */
function dropUnseenKey(): void {
  const unseen = unseenKey;
  unseenKey = undefined;
  if (unseen === undefined || !settings) return;
  const file = settings.auth.apiKeysFile;
  try {
    dropFirstAdminKey(file, unseen.id);
  } catch (error) {
    // Left in place, it would stop the next start from making a key to show: say how to remove it.
    console.error(`The first admin key ${unseen.id}, never shown, is still in ${file} (${(error as Error).message}): revoke it with npm run api-keys -- revoke ${unseen.id}.`);
  }
}

// Registered before Nest's shutdown hooks, so heard first. Nest closes what start-up opened (the
// store under a start-up still running, which then fails on it) and ends the process by the same
// signal; before its hooks are there, the default is done: the process ends by the signal.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    stoppedBy = signal;
    dropUnseenKey();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

async function main(): Promise<void> {
  settings = readSettings();
  // A variable a letter or two away from a setting's name: said at start-up, not ignored in silence.
  for (const warning of settingWarnings(process.env)) console.warn(`Warning: ${warning}`);
  const firstKey = await ensureFirstAdminKey(settings, new Date());
  unseenKey = firstKey;
  try {
    const app = await createApiApp({ settings });
    await app.listen({ port: settings.port, host: settings.host });
    // PORT=0 asks for any free port: the banner names the one given.
    listening = (app.getHttpServer().address() as AddressInfo | null)?.port ?? settings.port;
  } catch (error) {
    dropUnseenKey();
    throw error;
  }
  // Stopped while listening began: the shutdown hooks are closing it; no banner, no key to show.
  if (stoppedBy !== undefined) return;
  // An IPv6 address is written in brackets in a URL; 0.0.0.0 and :: listen everywhere, this machine included.
  const host = settings.host === '0.0.0.0' || settings.host === '::' ? 'localhost' : isIPv6(settings.host) ? `[${settings.host}]` : settings.host;
  const url = `http://${host}:${listening}`;
  // One write, so whoever reads the output sees the whole banner at once.
  const lines = [
    `Stagecraft API listening on ${url}`,
    `  API docs: ${url}/docs (OpenAPI JSON: ${url}/docs/openapi.json)`,
    // Only when it is built (the API warns otherwise, saying how to build it).
    ...(existsSync(join(settings.boardAssetsDir, 'index.html')) ? [`  board: ${url}/board`] : []),
    settings.eventStoreUrl !== undefined
      ? `  event store: KurrentDB at ${redactCredentials(settings.eventStoreUrl)}`
      : `  event store: SQLite at ${settings.eventStorePath} (durability ${settings.durability})`,
    `  processes: ${settings.processesDir}`,
    settings.readModelsPostgres !== undefined
      ? `  read models: PostgreSQL schema ${settings.readModelsPostgres.schema}${settings.projections === 'external' ? ' (kept by the projector)' : ''}`
      : `  read models: ${settings.readModelsPath}${settings.projections === 'external' ? ' (kept by the projector)' : ''}`,
  ];
  if (settings.relay.sinks.length > 0) {
    lines.push(`  public events: ${settings.relay.mode === 'external' ? 'relayed by apps/relay (RELAY=external)' : 'relayed from this process'} to ${settings.relay.sinks.map((sink) => sink.key).join(', ')}`);
  }
  if (settings.auth.mode === 'on' && !settings.auth.jwt && !settings.auth.inlineApiKeys && !firstKey && readApiKeysFile(settings.auth.apiKeysFile).length === 0) {
    // Written on purpose ({"keys": []} revokes every key), or left so by mistake: either way, say what it means.
    lines.push('', `  !!! No API key in ${settings.auth.apiKeysFile} and no JWT key: every request is refused (401)`, '  !!! until a key is added: npm run api-keys -- add --name <name> --roles admin', '');
  }
  if (settings.auth.mode === 'off') {
    lines.push('', '  !!! AUTH=off: authentication is DISABLED. Every caller is an anonymous admin.', '  !!! Use this only for local experiments, never where anyone else can reach the port.', '');
  } else if (firstKey) {
    lines.push(
      '',
      '  No API key was configured, so an admin key was created. It is shown once; only its hash',
      `  is kept (${settings.auth.apiKeysFile}). Store it now:`,
      '',
      `    Authorization: Bearer ${firstKey.key}`,
      '',
      '  More keys: npm run api-keys -- add --name <name> --roles writer[,analyst,auditor,admin] [--teams a,b]',
      '',
    );
  }
  console.log(lines.join('\n'));
  unseenKey = undefined; // shown
}

main().catch((error: unknown) => {
  if (stoppedBy !== undefined) {
    // What failed is what the stop closed under the start-up: not a fault to report. The shutdown
    // hooks end the process by the signal once they are done.
    console.error(`Stagecraft stopped during start-up (${stoppedBy}).`);
    return;
  }
  // A bad configuration is the operator's to fix: say which file, field and why, without a stack.
  const reason = describeStartFailure(error, settings);
  if (reason !== undefined) {
    console.error(`Stagecraft did not start.\n${reason}`);
  } else {
    console.error('Stagecraft did not start:', error);
  }
  process.exit(1);
});

// npm run api-keys -- add --name billing-service --roles writer [--teams direct,partners] [--on-behalf]
// npm run api-keys -- list
// npm run api-keys -- revoke <key id>
// Works on the keys file the API reads (API_KEYS_FILE, default ./data/api-keys.json), under its
// lock; running API instances apply the change within about a second, without a restart.
import { escapeUnseen } from '@stagecraft/sales-process';
import { keysCommandOf, KeysUsageError } from './api-keys.cli-arguments';

function fail(message: string): never {
  // Escaped whole as well: an error's own words (a lock's, the file system's) may name the path.
  console.error(escapeUnseen(message));
  process.exit(2);
}

async function main(args: string[]): Promise<void> {
  let command;
  try {
    command = keysCommandOf(args);
  } catch (error) {
    if (error instanceof KeysUsageError) fail(error.message);
    throw error;
  }
  // Loaded only for a command line that reads: the settings, the keys file and the key's rules
  // pull in most of the apps' libraries (the stores' clients among them), which took most of
  // the CLI's start-up, and a mistake in the arguments is answered without them.
  const { runKeysCommand } = await import('./api-keys.cli-run');
  await runKeysCommand(command, fail);
}

void main(process.argv.slice(2));

import { createCommandSide, type CommandSide } from '@stagecraft/commands';
import type { Settings } from '@stagecraft/config';
import { openEventStore } from '@stagecraft/event-store';

export interface CliCommandSide extends CommandSide {
  close(): Promise<void>;
}

/**
 * The command side of libs/commands on the configured store, without HTTP, authentication or
 * projections: what the CLI writes obeys exactly the rules, idempotency and event metadata of a
 * command sent over HTTP. Loading the processes records new versions, as the API's start does.
 */
export async function openCommandSide(settings: Settings): Promise<CliCommandSide> {
  const store = openEventStore(settings, { appends: true });
  try {
    const side = await createCommandSide(store, settings);
    return {
      ...side,
      close: async () => {
        side.snapshots.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

import { EventStoreAccessDeniedError, EventStoreFullError, EventStoreUnavailableError, SQLiteFileError, UnreadableEventError } from '@stagecraft/event-store';
import { ReadSideRebuildDidNotCureError, ReadSideUnrecordedError } from '@stagecraft/projections';
import { escapeUnseen, ProcessDefinitionError } from '@stagecraft/sales-process';
import { CurrenciesFileError } from './currencies-file';
import { SettingsError } from './settings';

/** Where a server was told to listen, for the messages about listening. */
export interface ListenSettings {
  readonly host: string;
  readonly port: number;
}

/**
 * What an operator needs to read when a process does not start for a reason that is theirs to fix
 * (a setting, a process file, a store or file that cannot be used, an address that cannot be
 * listened on): one line naming the file or variable and why. Undefined for anything else, a bug,
 * whose stack trace is worth printing.
 */
export function describeStartFailure(error: unknown, listen?: ListenSettings): string | undefined {
  // What the line quotes came from the environment or a file (a setting's value, HOST, a path):
  // escaped as every quoted value is, so none of it acts on the terminal or starts a line of its
  // own. A file's refusal lists one problem a line: each line escaped.
  const described = describedFailure(error, listen);
  if (described === undefined) return undefined;
  if (error instanceof ProcessDefinitionError || error instanceof CurrenciesFileError) return described.split('\n').map((line) => escapeUnseen(line)).join('\n');
  return escapeUnseen(described);
}

function describedFailure(error: unknown, listen?: ListenSettings): string | undefined {
  if (
    error instanceof SettingsError ||
    error instanceof ProcessDefinitionError ||
    error instanceof CurrenciesFileError ||
    error instanceof EventStoreUnavailableError ||
    error instanceof SQLiteFileError
  ) {
    return error.message;
  }
  // The read side's own schema, its record of migrations dropped by hand: no setting is at fault
  // (READ_MODELS_SCHEMA names the right schema), the schema is the operator's to mend.
  if (error instanceof ReadSideUnrecordedError) return `The PostgreSQL read side cannot be used: ${error.message}`;
  // The rebuild start-up made for an object missing met one missing again: the words the projector
  // says when this happens while following, for the operator to settle (no stack trace).
  if (error instanceof ReadSideRebuildDidNotCureError) return `The read models stopped: ${error.message}`;
  // A start-up that writes (a new process version recorded) on a full disk: the operator frees space.
  if (error instanceof EventStoreFullError) return `${error.message}; free space on it and start again`;
  // A KurrentDB server that refuses the user EVENT_STORE_URL logs in as (a wrong password, or a user
  // without the rights on the streams): the operator corrects the setting or the server's ACLs.
  if (error instanceof EventStoreAccessDeniedError) return `${error.message} (EVENT_STORE_URL): give it a user and password the server accepts, with the right to read and write every stream`;
  // An event start-up reads (a process version, the log's chain start) edited outside the service
  // into something unreadable: the store's operator's to mend, not a bug; the message names the event.
  if (error instanceof UnreadableEventError) return `${error.message}. \`stagecraft verify --all\` lists what was altered; restore the event store from a backup taken before the edit`;
  const { code, syscall } = (error ?? {}) as { code?: string; syscall?: string };
  if (!listen || (syscall !== 'listen' && syscall !== 'getaddrinfo' && syscall !== 'bind')) return undefined;
  const host = shownHost(listen.host);
  // Every answer of the resolver is one the operator fixes in HOST: a name too long is EINVAL,
  // one the DNS server fails on EAI_FAIL…, and none of them is a bug worth a stack trace.
  if (syscall === 'getaddrinfo') return `HOST=${host}: not an address or a name this machine can resolve (${code}); use 0.0.0.0 (all), 127.0.0.1 (this machine only) or one of its own addresses`;
  switch (code) {
    case 'EADDRINUSE':
      return `PORT=${listen.port}: the port is already in use on ${listen.host} (another Stagecraft, or another program); stop it or choose another PORT`;
    case 'EACCES':
      return `PORT=${listen.port}: this user may not listen on it (ports below 1024 need privileges); choose a PORT of 1024 or more`;
    case 'EADDRNOTAVAIL':
      return `HOST=${host}: no network interface of this machine has that address; use 0.0.0.0 (all), 127.0.0.1 (this machine only) or one of its own addresses`;
    default:
      return undefined;
  }
}

/** HOST as a message shows it: a value of thousands of characters is cut, saying how long it was. */
function shownHost(host: string): string {
  return host.length <= 100 ? host : `${host.slice(0, 100)}… (${host.length} characters)`;
}

// Connection strings of the official client: kurrentdb:// (also kurrent://, kdb://) and the older
// esdb:// of EventStoreDB, each with a +discover variant for a cluster found through gossip.
/* eslint-disable @typescript-eslint/no-require-imports */
const { parseConnectionString } = require('@kurrent/kurrentdb-client/dist/Client/parseConnectionString') as {
  parseConnectionString: (connectionString: string) => ParsedConnectionString;
};
/* eslint-enable @typescript-eslint/no-require-imports */
import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';

/** A file the connection string names that cannot be used (its words say which option, which file and why). */
export class ConnectionStringFileError extends Error {
  override readonly name = 'ConnectionStringFileError';
}

interface ParsedConnectionString {
  readonly hosts: readonly { address: string; port: number }[];
  readonly dnsDiscover: boolean;
  readonly tls?: boolean;
  readonly tlsCAFile?: string;
  readonly userCertFile?: string;
  readonly userKeyFile?: string;
  readonly nodePreference?: string;
  readonly throwOnAppendFailure?: boolean;
}

const SCHEME = /^(esdb|kurrentdb|kurrent|kdb)(\+discover)?:\/\//i;

/**
 * Checks a connection string and returns it in the client's preferred spelling: esdb:// becomes
 * kurrentdb:// (same protocol; the client would otherwise warn on every start). Throws an Error
 * saying what is wrong, without echoing credentials.
 */
export function normaliseKurrentDBConnectionString(connectionString: string): string {
  const trimmed = connectionString.trim();
  const scheme = SCHEME.exec(trimmed);
  if (!scheme) throw new Error('must start with kurrentdb://, kurrentdb+discover://, esdb:// or esdb+discover:// followed by host:port');
  const normalised = `kurrentdb${scheme[2] ?? ''}://${trimmed.slice(scheme[0].length)}`;
  // Nothing after the scheme: the client's own words ("Unexpected k at position 0") point at the wrong place.
  if (/^\/*(\?.*)?$/.test(trimmed.slice(scheme[0].length))) throw new Error('names no host: give host:port after the scheme, e.g. kurrentdb://localhost:2113?tls=false');
  let parsed: ReturnType<typeof parseConnectionString>;
  // The client warns of an option it does not know, with the whole string (password included),
  // and ignores it: a misspelt option (tsl=false) must stop start-up instead, saying which.
  const unknown: string[] = [];
  const warn = console.warn;
  console.warn = (message?: unknown) => {
    const option = /^Unknown option key "([^"]*)"/.exec(String(message));
    if (option) unknown.push(option[1]!);
    else warn(message);
  };
  try {
    parsed = parseConnectionString(normalised);
  } catch (error) {
    throw new Error(`is not a KurrentDB connection string: ${redactCredentials((error as Error).message)}`);
  } finally {
    console.warn = warn;
  }
  if (unknown.length > 0) throw new Error(`has option(s) the KurrentDB client does not know: ${unknown.map((key) => `"${redactCredentials(key)}"`).join(', ')} (misspelt? e.g. tls, tlsVerifyCert, nodePreference, connectionName)`);
  // The adapter learns of a refused append (a stale expectation: someone else wrote first) from the
  // client's error. With this option the client resolves it instead, as { success: false } beside the
  // stream's revision, which reads as an append stored there: the command answered as recorded, lost.
  if (parsed.throwOnAppendFailure === false) {
    throw new Error('sets throwOnAppendFailure=false, under which the client answers an append the server refused (someone else wrote first) as if it were stored: leave the option out (true is its default)');
  }
  assertPlainNumbers(normalised);
  if (parsed.hosts.length === 0 || parsed.hosts.some((host) => host.address === '')) throw new Error('names no host');
  assertFilesReadable(parsed);
  return normalised;
}

/**
 * Whether reads that do not ask for the leader may be served by a node that lags behind it: with
 * nodePreference=follower, random or readOnlyReplica (the default, leader, asks it on every read).
 */
export function kurrentDBReadsMayLag(connectionString: string): boolean {
  const preference = parseConnectionString(connectionString).nodePreference;
  return preference !== undefined && preference.toLowerCase() !== 'leader';
}

/**
 * The certificate files the client reads when the store is opened: a missing one failed there with
 * "Failed to load certificate file. File was not found." and a stack trace, naming neither the
 * option nor the path. Relative paths are the client's: from the working directory. The CA file
 * is read only with TLS on (the client ignores it otherwise).
 */
function assertFilesReadable(parsed: ParsedConnectionString): void {
  if ((parsed.userCertFile === undefined) !== (parsed.userKeyFile === undefined)) {
    throw new ConnectionStringFileError(`userCertFile and userKeyFile go together: give ${parsed.userCertFile === undefined ? 'userCertFile' : 'userKeyFile'} too (or neither, to log in with the user and password)`);
  }
  const files: [string, string | undefined][] = [
    ['tlsCAFile', parsed.tls === false ? undefined : parsed.tlsCAFile],
    ['userCertFile', parsed.userCertFile],
    ['userKeyFile', parsed.userKeyFile],
  ];
  for (const [option, path] of files) {
    if (path === undefined) continue;
    const absolute = resolve(process.cwd(), path);
    const named = absolute === path ? path : `${path} (${absolute})`;
    let folder: boolean;
    try {
      folder = statSync(absolute).isDirectory();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new ConnectionStringFileError(code === 'ENOENT' || code === 'ENOTDIR' ? `${option} names ${named}, which does not exist` : `${option} names ${named}, which cannot be read (${String(code)})`);
    }
    if (folder) throw new ConnectionStringFileError(`${option} names ${named}, which is a folder, not a file`);
    try {
      accessSync(absolute, constants.R_OK);
    } catch (error) {
      throw new ConnectionStringFileError(`${option} names ${named}, which this process may not read (${String((error as { code?: unknown }).code)})`);
    }
  }
}

/** The connection string with any user:password replaced, for logs and /health. */
export function redactCredentials(text: string): string {
  // Up to the last "@" of the address: a password may hold "/", ":" or even an unescaped "@".
  return text.replace(/(\/\/)\S*@/g, '$1***@');
}

/**
 * The user a connection string logs in as, for a message that names it (a refusal: which user to
 * grant what); undefined when it names none. Never the password.
 */
export function connectionStringUser(text: string): string | undefined {
  const credentials = /^[a-z+]+:\/\/([^?\s]*)@/i.exec(text.trim())?.[1];
  if (credentials === undefined) return undefined;
  const user = credentials.split(':')[0]!;
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

/** Options the client reads with parseInt, which takes "1e3" as 1 and "0x10" as 16. */
const NUMBER_OPTIONS = ['maxdiscoverattempts', 'defaultdeadline', 'discoveryinterval', 'gossiptimeout', 'keepaliveinterval', 'keepalivetimeout'];
/** Options where the client takes -1 too: keepalive pings off (its documented value). */
const KEEPALIVE_OPTIONS = ['keepaliveinterval', 'keepalivetimeout'];

/**
 * Deadlines and timeouts, in ms, below which no call can be answered: a gRPC round trip to a
 * server that writes to disk takes a few ms at best, and its tail under load tens (the client's
 * defaults are 10 s, and 5 s for gossip). Under 100 ms the option is a slip — seconds meant, or a
 * unit lost — not a choice: defaultDeadline=1 was taken, every append then failed with an
 * unknown outcome, and /health said ok. (-1, keepalive off, is read apart.)
 */
const LEAST_DEADLINE_MS = 100;
const DEADLINE_OPTIONS = ['defaultdeadline', 'gossiptimeout', 'keepalivetimeout'];

/**
 * Ports and number options are decimal digits (the keepalive ones also -1), deadlines at least
 * LEAST_DEADLINE_MS, and an option is given once: the client reads the
 * port and these options with parseInt ("1e3" ms is 1 ms) and keeps the last of a repeated option.
 */
function assertPlainNumbers(connectionString: string): void {
  const [address, query = ''] = connectionString.slice(connectionString.indexOf('://') + 3).split('?', 2) as [string, string?];
  const hosts = address.slice(address.lastIndexOf('@') + 1).replace(/\/+$/, '');
  for (const host of hosts.split(',')) {
    const port = /:([^:\]]*)$/.exec(host)?.[1];
    if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) throw new Error(`names port "${port}": a port is a whole number from 1 to 65535`);
  }
  const seen = new Set<string>();
  for (const pair of query.split('&').filter(Boolean)) {
    const [key = '', value = ''] = pair.split('=', 2);
    const name = key.toLowerCase();
    if (seen.has(name)) throw new Error(`gives the option "${key}" twice`);
    seen.add(name);
    if (NUMBER_OPTIONS.includes(name) && !/^\d{1,10}$/.test(value.trim()) && !(KEEPALIVE_OPTIONS.includes(name) && value.trim() === '-1')) {
      throw new Error(`gives ${key}=${value}: it must be a whole number in decimal digits${KEEPALIVE_OPTIONS.includes(name) ? ' (or -1: keepalive off)' : ''}`);
    }
    if (DEADLINE_OPTIONS.includes(name) && value.trim() !== '-1' && Number(value) < LEAST_DEADLINE_MS) {
      throw new Error(`gives ${key}=${value}: it is in milliseconds, and must be at least ${LEAST_DEADLINE_MS} ms, as no call to the server is answered sooner (every call would fail; the client's default is ${name === 'gossiptimeout' ? '5000' : '10000'})`);
    }
  }
}

import { createPublicKey } from 'node:crypto';
import { existsSync, lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { ConnectionStringFileError, normaliseKurrentDBConnectionString } from '@stagecraft/event-store';
import { postgresUnreachable, readSideSchemaProblem, ReadSideNotPermittedError, ReadSideSchemaTakenError } from '@stagecraft/projections';
import { escapeUnseen, quotedValue } from '@stagecraft/sales-process';
import { parseTrustProxy, type TrustProxy } from './trust-proxy.setting';
import type { RelaySettings } from '@stagecraft/relay';
import { readRelaySettings } from './relay-settings.reader';
import { readPipedText } from './piped-file';

/** Every setting of Stagecraft, read once from the environment; the API, projector and CLI share them. */
export interface Settings {
  readonly host: string;
  readonly port: number;
  /** SQLite event store file (used when eventStoreUrl is not set). */
  readonly eventStorePath: string;
  /** KurrentDB / EventStoreDB connection string (EVENT_STORE_URL); unset: the embedded SQLite store. */
  readonly eventStoreUrl?: string;
  /**
   * 'full' (default): every acknowledged command survives a crash or power loss.
   * 'normal': survives a process crash; a power loss may drop the last group commits.
   */
  readonly durability: 'full' | 'normal';
  readonly processesDir: string;
  /**
   * The currencies file (CURRENCIES_FILE, default ./config/currencies.yaml): a reporting currency
   * and dated rates, for converted totals beside the per-currency ones. `required`: named by
   * CURRENCIES_FILE, so it must exist; the default path is used only when present.
   */
  readonly currenciesFile: { readonly path: string; readonly required: boolean };
  /** SQLite file of the read models and their checkpoints, apart from the events. */
  readonly readModelsPath: string;
  /** 'in-process' (default): this process runs the projections; 'external': apps/projector does. */
  readonly projections: 'in-process' | 'external';
  /**
   * READ_MODELS_URL / READ_MODELS_SCHEMA: the read models live in this PostgreSQL database and
   * schema instead of memory (docs/read-models-postgres.md); unset: in memory, saved to readModelsPath.
   */
  readonly readModelsPostgres?: { readonly url: string; readonly schema: string };
  /** How long a query with ?minPosition= waits for the projections before answering 503. */
  readonly readYourWritesTimeoutMs: number;
  /** Largest accepted request body, in bytes. */
  readonly bodyLimit: number;
  /** How long a request may take to arrive whole (headers and body): a client that stops sending is answered 408 and let go. */
  readonly requestTimeoutMs: number;
  /** A connection on which nothing moves (nothing sent, nothing read) for this long is closed. */
  readonly connectionIdleTimeoutMs: number;
  /** How often a command is retried inside the handler after a conflict the client did not ask to see. */
  readonly conflictRetries: number;
  /** How many opportunity streams stay folded in memory between commands. */
  readonly streamCacheSize: number;
  /** SQLite file of folded snapshots of long opportunity streams (derived, per instance); undefined: none are kept. */
  readonly streamSnapshotsPath?: string;
  readonly auth: AuthSettings;
  /** Requests per minute per caller (key, token subject, or address); 0 turns the limit off. */
  readonly rateLimitPerMinute: number;
  /** Failed authentications per minute per client address before it must wait; 0 turns the limit off. */
  readonly authFailuresPerMinute: number;
  /** Which proxies' X-Forwarded-For names the client (TRUST_PROXY); false: none, the TCP peer is the client. */
  readonly trustProxy: TrustProxy;
  /** The board's built static files (index.html, board.js, board.css), served at /board. */
  readonly boardAssetsDir: string;
  /** BOARD_ASSETS_DIR was written out: the board must be there (start-up stops otherwise); the default is optional. */
  readonly boardAssetsRequired?: boolean;
  /** The public-event relay (RELAY_SINKS and the other RELAY_* variables). */
  readonly relay: RelaySettings;
}

export interface AuthSettings {
  /** 'off' only for local experiments: every caller is an anonymous admin. */
  readonly mode: 'on' | 'off';
  /** Hashed API keys (JSON); `npm start` creates it with a first admin key when nothing is configured. */
  readonly apiKeysFile: string;
  /** Hashed API keys given inline as JSON (API_KEYS), in addition to the file. */
  readonly inlineApiKeys?: string;
  readonly jwt?: JwtSettings;
}

/** Where JWT verification keys come from (exactly one source), and what a token must say. */
export interface JwtSettings {
  /** JWT_SECRET: HS256. */
  readonly secret?: string;
  /** JWT_PUBLIC_KEY (PEM text or file): RS256 for RSA, ES256 for P-256. */
  readonly publicKey?: string;
  /** The regular file publicKey was read from, read again while running: a rotated key applies without a restart. */
  readonly publicKeyFile?: string;
  /** JWT_JWKS_URL: an identity provider's key set, keys chosen by kid. */
  readonly jwksUrl?: string;
  /** JWT_JWKS_MAX_AGE_SECONDS: how long a fetched key set is used before it is fetched again (a key the provider took out stops within it). */
  readonly jwksMaxAgeSeconds?: number;
  /** Accepted algorithms: fixed by the key, or JWT_ALGORITHMS for a key set. */
  readonly algorithms: readonly string[];
  readonly issuer?: string;
  readonly audience?: string;
  readonly clockToleranceSeconds: number;
}

/** A setting that cannot be used: names the variable, the value and what would be right. */
export class SettingsError extends Error {
  readonly reason: string;

  constructor(
    readonly variable: string,
    reason: string,
  ) {
    // The reason may quote what the environment held, or an error's words about it (a parser's, a
    // path): each character that would act on the terminal or the log line is written as its escape.
    const shown = escapeUnseen(withLongRunsCut(reason));
    super(`Invalid setting ${variable}: ${shown}`);
    this.reason = shown;
    this.name = 'SettingsError';
  }
}

/** Characters a run without spaces (a value, a path) may have in a refusal before it is cut. */
const LONGEST_SHOWN_RUN = 200;

/**
 * A refusal quotes the value it refuses, but a value pasted wrong (a file's contents in a variable)
 * may be a megabyte, which on a terminal hides the line that says what to fix: each run longer than
 * LONGEST_SHOWN_RUN is cut, saying how long it was.
 */
function withLongRunsCut(text: string): string {
  return text.replace(new RegExp(`\\S{${LONGEST_SHOWN_RUN + 1},}`, 'g'), (run) => `${run.slice(0, LONGEST_SHOWN_RUN / 2)}… (${run.length} characters)`);
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads settings from the environment, with defaults that start a working service. */
export function readSettings(env: Env = process.env, cwd: string = process.cwd()): Settings {
  const durability = env.EVENT_STORE_DURABILITY ?? 'full';
  if (durability !== 'full' && durability !== 'normal') {
    throw new SettingsError('EVENT_STORE_DURABILITY', `must be "full" or "normal" (got ${quotedValue(durability)})`);
  }
  const projections = env.PROJECTIONS ?? 'in-process';
  if (projections !== 'in-process' && projections !== 'external') {
    throw new SettingsError('PROJECTIONS', `must be "in-process" or "external" (got ${quotedValue(projections)})`);
  }
  const authMode = env.AUTH ?? 'on';
  if (authMode !== 'on' && authMode !== 'off') throw new SettingsError('AUTH', `must be "on" or "off" (got ${quotedValue(authMode)})`);
  const jwt = readJwtSettings(env, cwd);
  const eventStoreUrl = readConnectionString(env, 'EVENT_STORE_URL');
  const trustProxy = parseTrustProxy(env.TRUST_PROXY);
  if (typeof trustProxy === 'object' && 'problem' in trustProxy) throw new SettingsError('TRUST_PROXY', trustProxy.problem);
  const readModelsPostgres = readPostgresReadModels(env);
  const files = readDataFiles(env, cwd);
  const relay = readRelaySettings(env, cwd, readInteger);
  // The relay's checkpoints are a file of their own too (written into the event store, they would corrupt it).
  assertFilesOfTheirOwn(env, [
    ['EVENT_STORE_PATH', files.eventStorePath],
    ['READ_MODELS_PATH', files.readModelsPath],
    ['STREAM_SNAPSHOTS_PATH', files.streamSnapshotsPath],
    ['API_KEYS_FILE', files.apiKeysFile],
    ['RELAY_STATE_PATH', relay.statePath],
  ]);
  return {
    host: readHost(env),
    port: readInteger(env, 'PORT', 3000, 0, 65535),
    eventStorePath: files.eventStorePath,
    ...(eventStoreUrl !== undefined ? { eventStoreUrl } : {}),
    durability,
    processesDir: resolve(cwd, readPath(env, 'PROCESSES_DIR') ?? './config/processes'),
    currenciesFile: { path: resolve(cwd, readPath(env, 'CURRENCIES_FILE') ?? './config/currencies.yaml'), required: env.CURRENCIES_FILE !== undefined },
    readModelsPath: files.readModelsPath,
    projections,
    ...(readModelsPostgres ? { readModelsPostgres } : {}),
    readYourWritesTimeoutMs: readInteger(env, 'READ_YOUR_WRITES_TIMEOUT_MS', 2000, 0, 60_000),
    bodyLimit: readInteger(env, 'BODY_LIMIT_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    requestTimeoutMs: readInteger(env, 'REQUEST_TIMEOUT_MS', 30_000, 1_000, 600_000),
    connectionIdleTimeoutMs: readInteger(env, 'CONNECTION_IDLE_TIMEOUT_MS', 120_000, 1_000, 3_600_000),
    conflictRetries: readInteger(env, 'CONFLICT_RETRIES', 5, 0, 100),
    streamCacheSize: readInteger(env, 'STREAM_CACHE_SIZE', 10_000, 0, 10_000_000),
    ...(files.streamSnapshotsPath !== undefined ? { streamSnapshotsPath: files.streamSnapshotsPath } : {}),
    auth: {
      mode: authMode,
      apiKeysFile: files.apiKeysFile,
      ...(env.API_KEYS !== undefined ? { inlineApiKeys: readNotBlank(env, 'API_KEYS', 'unset it to take keys from API_KEYS_FILE only, or give the keys as JSON ({"keys": […]}); empty, it would give no key, and a first start would make and print an admin key') } : {}),
      ...(jwt ? { jwt } : {}),
    },
    rateLimitPerMinute: readInteger(env, 'RATE_LIMIT_PER_MINUTE', 6000, 0, 100_000_000),
    authFailuresPerMinute: readInteger(env, 'AUTH_FAILURES_PER_MINUTE', 20, 0, 1_000_000),
    trustProxy,
    // `npm run build` bundles the board there (apps/board/board.build.ts).
    boardAssetsDir: resolve(cwd, readPath(env, 'BOARD_ASSETS_DIR') ?? './dist/board'),
    boardAssetsRequired: env.BOARD_ASSETS_DIR !== undefined,
    relay,
  };
}

interface DataFiles {
  readonly eventStorePath: string;
  readonly readModelsPath: string;
  readonly streamSnapshotsPath?: string;
  readonly apiKeysFile: string;
}

/**
 * The files the service writes. Each must be a file of its own (assertFilesOfTheirOwn, with the
 * relay's): a derived file found damaged is set aside (renamed) and made again, so pointed at a
 * folder (an empty value is the working directory) or at another of these files, that would rename
 * the folder or the event store.
 */
function readDataFiles(env: Env, cwd: string): DataFiles {
  const eventStore = readPath(env, 'EVENT_STORE_PATH') ?? './data/events.db';
  const snapshots = readNonEmpty(env, 'STREAM_SNAPSHOTS_PATH');
  // "OFF", "none", "false": meant as off, and a path only by accident (a file named OFF in the working directory).
  if (snapshots !== undefined && snapshots !== 'off' && OFF_WORDS.test(snapshots.trim())) {
    throw new SettingsError('STREAM_SNAPSHOTS_PATH', `is ${quotedValue(snapshots)}: to keep no stream snapshots write off (lower case); any other value is the path of their file`);
  }
  return {
    eventStorePath: resolve(cwd, eventStore),
    // Beside the event store by default: read models belong to one event log.
    readModelsPath: resolve(cwd, readPath(env, 'READ_MODELS_PATH') ?? join(dirname(eventStore), 'read-models.db')),
    ...(snapshots === 'off' ? {} : { streamSnapshotsPath: resolve(cwd, snapshots ?? join(dirname(eventStore), 'stream-snapshots.db')) }),
    apiKeysFile: resolve(cwd, readPath(env, 'API_KEYS_FILE') ?? './data/api-keys.json'),
  };
}

/** SQLite's companions of a database file: another setting naming one of them names that database. */
const SQLITE_COMPANIONS = ['', '-wal', '-shm', '-journal'];

/**
 * Each file setting names a file of its own: not a folder, not another's file, nor its SQLite
 * companions (-wal, -shm, -journal), nor either through a symbolic link; nor a symbolic link that
 * leads nowhere a file can be made. A setting left unset is named as such, with the default path
 * it took: an operator who never wrote READ_MODELS_PATH looks for it in vain otherwise.
 */
function assertFilesOfTheirOwn(env: Env, named: readonly (readonly [variable: string, path: string | undefined])[]): void {
  const seen: { variable: string; which: string; files: Set<string> }[] = [];
  for (const [variable, path] of named) {
    if (path === undefined) continue;
    const which = readNonEmpty(env, variable) === undefined ? `${path}, the default while ${variable} is unset` : path;
    if (isDirectory(path)) throw new SettingsError(variable, `is a folder (${which}); give the path of a file in it`);
    const link = brokenLinkOf(path);
    if (link !== undefined) throw new SettingsError(variable, `is a symbolic link (${which}) ${link}; point the link at a file in a folder that exists, or remove it`);
    const real = realPathOf(path);
    const files = new Set(SQLITE_COMPANIONS.map((suffix) => real + suffix));
    const same = seen.find((other) => [...files].some((file) => other.files.has(file)));
    if (same) throw new SettingsError(variable, `names ${which}, which is ${same.variable}'s file (${same.which}) or one of its own (-wal, -shm, -journal); each needs a file of its own`);
    seen.push({ variable, which, files });
  }
}

/**
 * The setting whose file `path` names, if any: the service's own files (the event store, the read
 * models, the stream snapshots, the keys file, the relay's state, the currencies file), a SQLite
 * companion of one, or one through a symbolic link. A CLI writing an output file there would
 * destroy it (an export to the event store emptied the log).
 */
export function serviceFileNamedBy(settings: Settings, path: string): { variable: string; path: string } | undefined {
  const real = realPathOf(path);
  const files: [string, string | undefined][] = [
    ['EVENT_STORE_PATH', settings.eventStorePath],
    ['READ_MODELS_PATH', settings.readModelsPath],
    ['STREAM_SNAPSHOTS_PATH', settings.streamSnapshotsPath],
    ['API_KEYS_FILE', settings.auth.apiKeysFile],
    ['RELAY_STATE_PATH', settings.relay.statePath],
    ['CURRENCIES_FILE', settings.currenciesFile.path],
  ];
  for (const [variable, file] of files) {
    if (file === undefined) continue;
    const own = realPathOf(file);
    if (SQLITE_COMPANIONS.some((suffix) => own + suffix === real)) return { variable, path: file };
  }
  // A process definition: the next start would read the export as one.
  if (real.startsWith(realPathOf(settings.processesDir) + sep)) return { variable: 'PROCESSES_DIR', path: settings.processesDir };
  return undefined;
}

/** The path with its symbolic links resolved, as far as it exists (a file not made yet keeps its name). */
function realPathOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return path;
    }
  }
}

/**
 * What is wrong with `path` if it is a symbolic link no file can be opened or made through: its
 * target's folder is missing, or the links loop. A link to a file not made yet in a folder that
 * exists is fine (the file is made there at start-up). undefined: not a link, or a usable one.
 */
function brokenLinkOf(path: string): string | undefined {
  try {
    if (!lstatSync(path).isSymbolicLink()) return undefined;
  } catch {
    return undefined; // not there yet
  }
  try {
    statSync(path);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return 'that loops back on itself through other links';
    if (code !== 'ENOENT') return undefined; // a permission problem: the store names it when it opens the file
    let target = '';
    try {
      target = resolve(dirname(path), readlinkSync(path));
    } catch {
      return undefined;
    }
    if (isDirectory(dirname(target))) return undefined;
    return `to ${target}, whose folder ${dirname(target)} does not exist`;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // not there yet (made at start-up), or not reachable: the store says so when it opens it
  }
}

function readConnectionString(env: Env, variable: string): string | undefined {
  const text = env[variable];
  if (text === undefined) return undefined;
  readNotBlank(env, variable, 'unset it to keep the events in the embedded SQLite store (EVENT_STORE_PATH), or give a KurrentDB connection string such as kurrentdb://localhost:2113?tls=false');
  try {
    return normaliseKurrentDBConnectionString(text);
  } catch (error) {
    // An example of a connection string helps with its form, not with a file it names.
    throw new SettingsError(variable, error instanceof ConnectionStringFileError ? error.message : `${(error as Error).message} (e.g. kurrentdb://localhost:2113?tls=false)`);
  }
}

const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

function readJwtSettings(env: Env, cwd: string): JwtSettings | undefined {
  const sources = (['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL'] as const).filter((variable) => env[variable] !== undefined);
  if (sources.length > 1) {
    throw new SettingsError(sources[1]!, `set one of JWT_SECRET (HS256), JWT_PUBLIC_KEY (RS256/ES256) and JWT_JWKS_URL (an identity provider's keys), not ${sources.join(' and ')}`);
  }
  const source = sources[0];
  // (JWT_SECRET says what it lacks itself: at least 32 characters.)
  if (source === 'JWT_PUBLIC_KEY' || source === 'JWT_JWKS_URL') readNotBlank(env, source, 'unset it to accept no JWT, or give the key (a PEM, or the path of one) or the key set\'s https:// URL');
  const issuer = readNonEmpty(env, 'JWT_ISSUER');
  const audience = readNonEmpty(env, 'JWT_AUDIENCE');
  if (source === undefined) {
    for (const variable of ['JWT_ISSUER', 'JWT_AUDIENCE', 'JWT_ALGORITHMS', 'JWT_JWKS_MAX_AGE_SECONDS', 'JWT_CLOCK_TOLERANCE_SECONDS']) {
      if (env[variable] !== undefined) throw new SettingsError(variable, 'has no effect without JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL');
    }
    return undefined;
  }
  if (source !== 'JWT_JWKS_URL' && env.JWT_ALGORITHMS !== undefined) {
    throw new SettingsError('JWT_ALGORITHMS', `applies to JWT_JWKS_URL only; with ${source} the key fixes the algorithm`);
  }
  if (source !== 'JWT_JWKS_URL' && env.JWT_JWKS_MAX_AGE_SECONDS !== undefined) {
    throw new SettingsError('JWT_JWKS_MAX_AGE_SECONDS', `applies to JWT_JWKS_URL only; with ${source} the key is ${source === 'JWT_PUBLIC_KEY' ? 'read again from its file, if it is one' : 'the setting itself'}`);
  }
  const common = {
    ...(issuer !== undefined ? { issuer } : {}),
    ...(audience !== undefined ? { audience } : {}),
    clockToleranceSeconds: readInteger(env, 'JWT_CLOCK_TOLERANCE_SECONDS', 30, 0, 300),
  };
  if (source === 'JWT_SECRET') {
    const secret = env.JWT_SECRET!;
    if (secret.trim().length < 32) throw new SettingsError('JWT_SECRET', 'must be at least 32 characters, not counting spaces at either end');
    return { secret, algorithms: ['HS256'], ...common };
  }
  if (source === 'JWT_PUBLIC_KEY') {
    const publicKey = readPem(env.JWT_PUBLIC_KEY!, cwd);
    const publicKeyFile = regularFileOf(env.JWT_PUBLIC_KEY!, cwd);
    return { publicKey, ...(publicKeyFile !== undefined ? { publicKeyFile } : {}), algorithms: [algorithmOfPem(publicKey)], ...common };
  }
  // Keys an identity provider publishes sign tokens for every application it serves: without an
  // issuer and an audience to check, a token meant for another application would be accepted.
  if (issuer === undefined) throw new SettingsError('JWT_ISSUER', 'is required with JWT_JWKS_URL (the "iss" your identity provider puts in tokens)');
  if (audience === undefined) throw new SettingsError('JWT_AUDIENCE', 'is required with JWT_JWKS_URL (the "aud" your identity provider gives tokens for this service)');
  return {
    jwksUrl: readJwksUrl(env.JWT_JWKS_URL!),
    // A minute by default: a key the provider takes out (leaked, retired) stops verifying within
    // it, where a token with a new kid fetches the set at once. One fetch a minute per instance
    // costs the provider nothing.
    jwksMaxAgeSeconds: readInteger(env, 'JWT_JWKS_MAX_AGE_SECONDS', 60, 1, 86_400),
    algorithms: readAlgorithms(env.JWT_ALGORITHMS),
    ...common,
  };
}

/** Words meant as "off": given to a path setting, they would name a file or folder so called in the working directory. */
const OFF_WORDS = /^(off|none|false|no|0|disabled?)$/i;

/** What a path setting without an off is for, and what to do instead of turning it off. */
const CANNOT_BE_OFF: Readonly<Record<string, string>> = {
  EVENT_STORE_PATH: 'the events are kept there; EVENT_STORE_URL keeps them in KurrentDB instead',
  READ_MODELS_PATH: 'the read models are saved there; READ_MODELS_URL keeps them in PostgreSQL instead',
  API_KEYS_FILE: 'to take no key from it write {"keys": []} into it; AUTH=off turns authentication off',
  RELAY_STATE_PATH: "the relay keeps its sinks' checkpoints there; to run no relay, unset RELAY_SINKS",
  PROCESSES_DIR: 'the process definitions are read from there',
  CURRENCIES_FILE: 'to convert no currency, unset it and have no ./config/currencies.yaml, which is used only when present',
  BOARD_ASSETS_DIR: "the board's built files are served from there",
};

/** A path setting: not empty, and not a word meaning off (STREAM_SNAPSHOTS_PATH alone has one, read apart). */
function readPath(env: Env, variable: string): string | undefined {
  const value = readNonEmpty(env, variable);
  refuseOffWord(variable, value);
  return value;
}

/** Refuses "off", "none", "false"… for a path setting that cannot be off: it would be read, silently, as a path of that name. */
export function refuseOffWord(variable: string, value: string | undefined): void {
  if (value === undefined || !OFF_WORDS.test(value.trim())) return;
  const why = CANNOT_BE_OFF[variable];
  throw new SettingsError(variable, `is ${quotedValue(value)}: ${variable} cannot be turned off${why ? ` (${why})` : ''}; give a path (./${value.trim()} for one of that name), or unset it for the default`);
}

/** The longest host name DNS allows; no address is longer either. */
const MAX_HOST_LENGTH = 253;

/** HOST: whether it is an address of this machine is found when listening; one no name can be is refused now. */
function readHost(env: Env): string {
  const host = readNonEmpty(env, 'HOST') ?? '0.0.0.0';
  if (host.length > MAX_HOST_LENGTH) throw new SettingsError('HOST', `is ${host.length} characters long (${host.slice(0, 20)}…); a host name or address has at most ${MAX_HOST_LENGTH}`);
  return host;
}

function readNonEmpty(env: Env, variable: string): string | undefined {
  const value = env[variable];
  if (value !== undefined && value.trim() === '') throw new SettingsError(variable, 'must not be empty (unset it instead)');
  return value;
}

/**
 * A setting whose empty value would not be read as unset without a word: an empty value (or
 * spaces) is most often a template or secret that was not filled in, and unset it would switch
 * the store or the read side, or the source of the keys. `instead` says what to do.
 */
export function readNotBlank(env: Env, variable: string, instead: string): string | undefined {
  const value = env[variable];
  if (value !== undefined && value.trim() === '') throw new SettingsError(variable, `is empty: ${instead}`);
  return value;
}

// A pipe (<(vault read …)) is read once; only a file can be read again when the key is rotated.
function regularFileOf(value: string, cwd: string): string | undefined {
  if (value.includes('-----BEGIN')) return undefined;
  const path = resolve(cwd, value);
  try {
    return statSync(path).isFile() ? path : undefined;
  } catch {
    return undefined;
  }
}

/** The algorithm a JWT_PUBLIC_KEY fixes (RS256, ES256); throws SettingsError for a key this service does not take. */
export function algorithmOfPem(pem: string): string {
  // createPublicKey would derive the public half of a private key and carry on: the signing key
  // has no business on a server that only verifies.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new SettingsError('JWT_PUBLIC_KEY', 'holds a private key; give the public key only (the private one signs tokens and must stay with the identity provider)');
  let key;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new SettingsError('JWT_PUBLIC_KEY', `is not a PEM public key (${(error as Error).message})`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new SettingsError('JWT_PUBLIC_KEY', `is an RSA key of ${bits} bits; at least 2048 are needed`);
    return 'RS256';
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  const kind = key.asymmetricKeyType === 'ec' ? `an EC key on ${key.asymmetricKeyDetails?.namedCurve}` : `a ${key.asymmetricKeyType} key`;
  throw new SettingsError('JWT_PUBLIC_KEY', `is ${kind}; use an RSA key (RS256) or a P-256 key (ES256)`);
}

function readJwksUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError('JWT_JWKS_URL', `must be an https:// URL (got ${quotedValue(text)})`);
  }
  // The keys decide who gets in: fetched in clear text, anyone on the path could substitute them.
  const loopback = ['localhost', '[::1]'].includes(url.hostname) || (isIP(url.hostname) === 4 && url.hostname.startsWith('127.'));
  // Credentials in the URL would be sent with every fetch and printed in warnings: a key set is public.
  if (url.username !== '' || url.password !== '') throw new SettingsError('JWT_JWKS_URL', 'must not hold a user or password: a key set is public');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new SettingsError('JWT_JWKS_URL', `must be an https:// URL (plain http only to this machine); got ${quotedValue(text)}`);
  }
  return url.href;
}

function readAlgorithms(text: string | undefined): string[] {
  if (text === undefined) return ['RS256', 'ES256'];
  const algorithms = text.split(',').map((entry) => entry.trim()).filter(Boolean);
  const unknown = algorithms.filter((algorithm) => !ASYMMETRIC_ALGORITHMS.includes(algorithm));
  if (algorithms.length === 0 || unknown.length > 0) {
    throw new SettingsError('JWT_ALGORITHMS', `must list algorithms from ${ASYMMETRIC_ALGORITHMS.join(', ')} (got ${quotedValue(text)}); a key set never verifies HS256 or "none"`);
  }
  return algorithms;
}

function readPostgresReadModels(env: Env): { url: string; schema: string } | undefined {
  if (env.READ_MODELS_URL !== undefined) readNotBlank(env, 'READ_MODELS_URL', 'unset it to keep the read models in this service (READ_MODELS_PATH), or give a PostgreSQL connection string such as postgres://user@localhost:5432/stagecraft');
  if (env.READ_MODELS_SCHEMA !== undefined && (env.READ_MODELS_URL ?? '').trim() === '') {
    throw new SettingsError('READ_MODELS_SCHEMA', 'has no effect without READ_MODELS_URL (the read models are then kept by this service in READ_MODELS_PATH)');
  }
  const schema = env.READ_MODELS_SCHEMA ?? 'stagecraft';
  const problem = readSideSchemaProblem(schema);
  if (problem !== undefined) throw new SettingsError('READ_MODELS_SCHEMA', `${problem} (got ${quotedValue(schema)})`);
  const text = env.READ_MODELS_URL;
  if (text === undefined || text.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new SettingsError('READ_MODELS_URL', `is not a URL; give a PostgreSQL connection string such as postgres://user@localhost:5432/stagecraft`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new SettingsError('READ_MODELS_URL', `must start with postgres:// or postgresql:// (got "${url.protocol}//…")`);
  }
  if (url.hostname === '' && !url.searchParams.has('host')) throw new SettingsError('READ_MODELS_URL', 'names no host, e.g. postgres://user@localhost:5432/stagecraft');
  if (url.pathname.length <= 1) throw new SettingsError('READ_MODELS_URL', 'names no database, e.g. postgres://user@localhost:5432/stagecraft');
  return { url: text.trim(), schema };
}

// JWT_PUBLIC_KEY holds the PEM itself or the path of a PEM file.
function readPem(value: string, cwd: string): string {
  if (value.includes('-----BEGIN')) return value;
  try {
    return readPipedText(resolve(cwd, value)); // not readUtf8: a PEM may come through a pipe (<(vault read …)), which is no regular file
  } catch (error) {
    throw new SettingsError('JWT_PUBLIC_KEY', `is neither a PEM key nor a readable file: ${(error as Error).message}`);
  }
}

function readInteger(env: Env, variable: string, fallback: number, min: number, max: number): number {
  const text = env[variable];
  if (text === undefined || text === '') return fallback;
  // Decimal digits only: Number() reads " " as 0 (AUTH_FAILURES_PER_MINUTE=" " turned the limit
  // off), "0xD49" as 3401 and "3.4e3" as 3400.
  const value = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SettingsError(variable, `must be an integer from ${min} to ${max} (got ${quotedValue(text)})`);
  }
  return value;
}

/**
 * For the processes that only follow the log (the projector, the relay): the embedded store must
 * already be there. Opening a misspelt EVENT_STORE_PATH would create an empty store and follow it,
 * "caught up at position 0", publishing nothing and saying nothing wrong.
 */
export function assertEventStoreExists(settings: Pick<Settings, 'eventStoreUrl' | 'eventStorePath'>): void {
  if (settings.eventStoreUrl === undefined && !existsSync(settings.eventStorePath)) {
    throw new SettingsError('EVENT_STORE_PATH', `names no event store (${settings.eventStorePath}); the API creates it on its first start: start it first, or correct the path`);
  }
}

/** The start-up failure of a PostgreSQL read side that cannot be used: `reason` (postgresUnreachable's) without the URL's password. */
function readSideUnusable(reason: string): SettingsError {
  return new SettingsError('READ_MODELS_URL', `the PostgreSQL read side cannot be used (${reason}); start PostgreSQL, or correct READ_MODELS_URL`);
}

/**
 * The one-line start-up failure of a PostgreSQL read side when a setting is the cause: not
 * reached, login or database refused, a right its role lacks (READ_MODELS_URL), or a schema holding another
 * application's tables (READ_MODELS_SCHEMA). undefined for anything else.
 */
export function readSideStartFailure(error: unknown): SettingsError | undefined {
  if (error instanceof ReadSideSchemaTakenError) return new SettingsError('READ_MODELS_SCHEMA', error.message);
  // The role the URL logs in as lacks a right: the message names the GRANT to run.
  if (error instanceof ReadSideNotPermittedError) return new SettingsError('READ_MODELS_URL', error.message);
  const reason = postgresUnreachable(error);
  return reason === undefined ? undefined : readSideUnusable(reason);
}

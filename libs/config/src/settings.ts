import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { normaliseKurrentDBConnectionString } from '@stagecraft/event-store';
import type { RelaySettings } from '@stagecraft/relay';
import { readRelaySettings } from './relay-settings.reader';

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
  /** SQLite file of the read models and their checkpoints, apart from the events. */
  readonly readModelsPath: string;
  /** 'in-process' (default): this process runs the projections; 'external': apps/projector does. */
  readonly projections: 'in-process' | 'external';
  /** How long a query with ?minPosition= waits for the projections before answering 503. */
  readonly readYourWritesTimeoutMs: number;
  /** Largest accepted request body, in bytes. */
  readonly bodyLimit: number;
  /** How often a command is retried inside the handler after a conflict the client did not ask to see. */
  readonly conflictRetries: number;
  /** How many opportunity streams stay folded in memory between commands. */
  readonly streamCacheSize: number;
  readonly auth: AuthSettings;
  /** Requests per minute per caller (key, token subject, or address); 0 turns the limit off. */
  readonly rateLimitPerMinute: number;
  /** The board's built static files (index.html, board.js, board.css), served at /board. */
  readonly boardAssetsDir: string;
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
  readonly jwt?: { readonly secret?: string; readonly publicKey?: string; readonly issuer?: string; readonly audience?: string };
}

/** A setting that cannot be used: names the variable, the value and what would be right. */
export class SettingsError extends Error {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`Invalid setting ${variable}: ${reason}`);
    this.name = 'SettingsError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads settings from the environment, with defaults that start a working service. */
export function readSettings(env: Env = process.env, cwd: string = process.cwd()): Settings {
  const durability = env.EVENT_STORE_DURABILITY ?? 'full';
  if (durability !== 'full' && durability !== 'normal') {
    throw new SettingsError('EVENT_STORE_DURABILITY', `must be "full" or "normal" (got "${durability}")`);
  }
  const projections = env.PROJECTIONS ?? 'in-process';
  if (projections !== 'in-process' && projections !== 'external') {
    throw new SettingsError('PROJECTIONS', `must be "in-process" or "external" (got "${projections}")`);
  }
  const authMode = env.AUTH ?? 'on';
  if (authMode !== 'on' && authMode !== 'off') throw new SettingsError('AUTH', `must be "on" or "off" (got "${authMode}")`);
  if (env.JWT_SECRET !== undefined && env.JWT_PUBLIC_KEY !== undefined) {
    throw new SettingsError('JWT_SECRET', 'set JWT_SECRET (HS256) or JWT_PUBLIC_KEY (RS256/ES256), not both');
  }
  if (env.JWT_SECRET !== undefined && env.JWT_SECRET.length < 32) {
    throw new SettingsError('JWT_SECRET', 'must be at least 32 characters');
  }
  const jwt =
    env.JWT_SECRET !== undefined || env.JWT_PUBLIC_KEY !== undefined
      ? {
          ...(env.JWT_SECRET !== undefined ? { secret: env.JWT_SECRET } : {}),
          ...(env.JWT_PUBLIC_KEY !== undefined ? { publicKey: readPem(env.JWT_PUBLIC_KEY, cwd) } : {}),
          ...(env.JWT_ISSUER !== undefined ? { issuer: env.JWT_ISSUER } : {}),
          ...(env.JWT_AUDIENCE !== undefined ? { audience: env.JWT_AUDIENCE } : {}),
        }
      : undefined;
  const eventStoreUrl = readConnectionString(env, 'EVENT_STORE_URL');
  return {
    host: env.HOST ?? '0.0.0.0',
    port: readInteger(env, 'PORT', 3000, 0, 65535),
    eventStorePath: resolve(cwd, env.EVENT_STORE_PATH ?? './data/events.db'),
    ...(eventStoreUrl !== undefined ? { eventStoreUrl } : {}),
    durability,
    processesDir: resolve(cwd, env.PROCESSES_DIR ?? './config/processes'),
    // Beside the event store by default: read models belong to one event log.
    readModelsPath: resolve(cwd, env.READ_MODELS_PATH ?? join(dirname(env.EVENT_STORE_PATH ?? './data/events.db'), 'read-models.db')),
    projections,
    readYourWritesTimeoutMs: readInteger(env, 'READ_YOUR_WRITES_TIMEOUT_MS', 2000, 0, 60_000),
    bodyLimit: readInteger(env, 'BODY_LIMIT_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    conflictRetries: readInteger(env, 'CONFLICT_RETRIES', 5, 0, 100),
    streamCacheSize: readInteger(env, 'STREAM_CACHE_SIZE', 10_000, 0, 10_000_000),
    auth: {
      mode: authMode,
      apiKeysFile: resolve(cwd, env.API_KEYS_FILE ?? './data/api-keys.json'),
      ...(env.API_KEYS !== undefined ? { inlineApiKeys: env.API_KEYS } : {}),
      ...(jwt ? { jwt } : {}),
    },
    rateLimitPerMinute: readInteger(env, 'RATE_LIMIT_PER_MINUTE', 6000, 0, 100_000_000),
    // `npm run build` bundles the board there (apps/board/board.build.ts).
    boardAssetsDir: resolve(cwd, env.BOARD_ASSETS_DIR ?? './dist/board'),
    relay: readRelaySettings(env, cwd, readInteger),
  };
}

function readConnectionString(env: Env, variable: string): string | undefined {
  const text = env[variable];
  if (text === undefined || text.trim() === '') return undefined;
  try {
    return normaliseKurrentDBConnectionString(text);
  } catch (error) {
    throw new SettingsError(variable, `${(error as Error).message} (e.g. kurrentdb://localhost:2113?tls=false)`);
  }
}

// JWT_PUBLIC_KEY holds the PEM itself or the path of a PEM file.
function readPem(value: string, cwd: string): string {
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(resolve(cwd, value), 'utf8');
  } catch (error) {
    throw new SettingsError('JWT_PUBLIC_KEY', `is neither a PEM key nor a readable file: ${(error as Error).message}`);
  }
}

function readInteger(env: Env, variable: string, fallback: number, min: number, max: number): number {
  const text = env[variable];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SettingsError(variable, `must be an integer from ${min} to ${max} (got "${text}")`);
  }
  return value;
}

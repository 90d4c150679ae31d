import { resolve } from 'node:path';

export interface ApiSettings {
  readonly host: string;
  readonly port: number;
  /** SQLite event store file. */
  readonly eventStorePath: string;
  /**
   * 'full' (default): every acknowledged command survives a crash or power loss.
   * 'normal': survives a process crash; a power loss may drop the last group commits.
   */
  readonly durability: 'full' | 'normal';
  readonly processesDir: string;
  /** Largest accepted request body, in bytes. */
  readonly bodyLimit: number;
  /** How often a command is retried inside the handler after a conflict the client did not ask to see. */
  readonly conflictRetries: number;
  /** How many opportunity streams stay folded in memory between commands. */
  readonly streamCacheSize: number;
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
export function readApiSettings(env: Env = process.env, cwd: string = process.cwd()): ApiSettings {
  const durability = env.EVENT_STORE_DURABILITY ?? 'full';
  if (durability !== 'full' && durability !== 'normal') {
    throw new SettingsError('EVENT_STORE_DURABILITY', `must be "full" or "normal" (got "${durability}")`);
  }
  return {
    host: env.HOST ?? '0.0.0.0',
    port: readInteger(env, 'PORT', 3000, 0, 65535),
    eventStorePath: resolve(cwd, env.EVENT_STORE_PATH ?? './data/events.db'),
    durability,
    processesDir: resolve(cwd, env.PROCESSES_DIR ?? './config/processes'),
    bodyLimit: readInteger(env, 'BODY_LIMIT_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    conflictRetries: readInteger(env, 'CONFLICT_RETRIES', 5, 0, 100),
    streamCacheSize: readInteger(env, 'STREAM_CACHE_SIZE', 10_000, 0, 10_000_000),
  };
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

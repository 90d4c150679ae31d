// The names of every setting the service reads (the README's settings table lists them), so that
// one written a little wrong (RELAY_SINK, READ_MODEL_PATH, EVENT_STORE_DURABLITY) is pointed out at
// start-up instead of being silently ignored while its default applies.

import { escapeUnseen } from '@stagecraft/sales-process';

type Env = Readonly<Record<string, string | undefined>>;

export const SETTING_NAMES: readonly string[] = [
  'PORT',
  'HOST',
  'EVENT_STORE_URL',
  'EVENT_STORE_PATH',
  'EVENT_STORE_DURABILITY',
  'PROCESSES_DIR',
  'CURRENCIES_FILE',
  'READ_MODELS_PATH',
  'READ_YOUR_WRITES_TIMEOUT_MS',
  'PROJECTIONS',
  'READ_MODELS_URL',
  'READ_MODELS_SCHEMA',
  'BODY_LIMIT_BYTES',
  'REQUEST_TIMEOUT_MS',
  'CONNECTION_IDLE_TIMEOUT_MS',
  'CONFLICT_RETRIES',
  'AUTH',
  'API_KEYS_FILE',
  'API_KEYS',
  'JWT_SECRET',
  'JWT_PUBLIC_KEY',
  'JWT_JWKS_URL',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'JWT_ALGORITHMS',
  'JWT_JWKS_MAX_AGE_SECONDS',
  'JWT_CLOCK_TOLERANCE_SECONDS',
  'AUTH_FAILURES_PER_MINUTE',
  'TRUST_PROXY',
  'RATE_LIMIT_PER_MINUTE',
  'BOARD_ASSETS_DIR',
  'STREAM_CACHE_SIZE',
  'STREAM_SNAPSHOTS_PATH',
  'RELAY_SINKS',
  'RELAY',
  'RELAY_STATE_PATH',
  'RELAY_NEW_SINK_FROM',
  'RELAY_WEBHOOK_SECRET',
  'RELAY_WEBHOOK_SECRETS',
  'RELAY_WEBHOOK_MAX_ATTEMPTS',
  'RELAY_WEBHOOK_TIMEOUT_MS',
  'RELAY_RETRY_BASE_MS',
  'RELAY_RETRY_MAX_MS',
];

/**
 * Variables set in `env` whose names are a letter or two away from a setting's (two for names of
 * six letters or more, one below: HOME is not HOST), each with the setting it was likely meant as.
 * A warning, not a refusal: the environment is shared with other programs, whose variables may
 * happen to be that close (an API_KEY of some other tool).
 */
export function likelyMisspeltSettings(env: Env): { name: string; meant: string }[] {
  const known = new Set(SETTING_NAMES);
  const found: { name: string; meant: string }[] = [];
  for (const name of Object.keys(env).sort()) {
    if (known.has(name) || env[name] === undefined) continue;
    const upper = name.toUpperCase();
    const meant = known.has(upper) ? upper : SETTING_NAMES.find((setting) => distance(upper, setting) <= (setting.length >= 6 ? 2 : 1));
    if (meant !== undefined) found.push({ name, meant });
  }
  return found;
}

/** The start-up warning for each likely misspelt setting. */
export function misspeltSettingWarnings(env: Env): string[] {
  // The name is the environment's: escaped (a name may carry what a terminal acts on, as a value may).
  return likelyMisspeltSettings(env).map(({ name, meant }) => `${escapeUnseen(name)} is not a setting Stagecraft reads (did you mean ${meant}?): it is ignored, and ${meant} keeps its value or default.`);
}

const given = (env: Env, name: string) => (env[name] ?? '').trim() !== '';

/**
 * Settings given but ignored because another one decides (the read models in PostgreSQL have no
 * file; KurrentDB has no SQLite durability): a warning each, so an operator who set one does not
 * believe it applies. Not a stop: a deployment's common file may set both for its variants.
 */
export function ignoredSettingWarnings(env: Env): string[] {
  const warnings: string[] = [];
  if (given(env, 'READ_MODELS_PATH') && given(env, 'READ_MODELS_URL')) {
    warnings.push('READ_MODELS_PATH is ignored: READ_MODELS_URL keeps the read models in PostgreSQL, not in a file.');
  }
  if (given(env, 'EVENT_STORE_DURABILITY') && given(env, 'EVENT_STORE_URL')) {
    warnings.push("EVENT_STORE_DURABILITY is ignored: it is the embedded SQLite store's; KurrentDB's durability is the server's (EVENT_STORE_URL).");
  }
  return warnings;
}

/** Every start-up warning about the settings: misspelt names, settings another one overrides. */
export function settingWarnings(env: Env): string[] {
  return [...misspeltSettingWarnings(env), ...ignoredSettingWarnings(env)];
}

/** Levenshtein distance (names are short: the plain table is enough). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

import { dirname, join, resolve } from 'node:path';
import { parseSinkList, parseSinkUrl, RelaySinkUrlError, type RelaySettings } from '@stagecraft/relay';
import { quotedValue } from '@stagecraft/sales-process';
import { firstRepeatedName } from './json-duplicate-keys';
import { readNotBlank, refuseOffWord, SettingsError } from './settings';

type Env = Readonly<Record<string, string | undefined>>;

/** The RELAY_* settings; a bad one stops start-up naming the variable (and the sink URL). */
export function readRelaySettings(env: Env, cwd: string, readInteger: (env: Env, variable: string, fallback: number, min: number, max: number) => number): RelaySettings {
  let sinks;
  try {
    sinks = parseSinkList(env.RELAY_SINKS);
  } catch (error) {
    if (error instanceof RelaySinkUrlError) throw new SettingsError('RELAY_SINKS', error.message);
    throw error;
  }
  // Commas with nothing between them: meant as a list, and no relay would run without a word.
  if (sinks.length === 0 && (env.RELAY_SINKS ?? '').trim() !== '') {
    throw new SettingsError('RELAY_SINKS', `lists no sink (got ${quotedValue(env.RELAY_SINKS)}); give sink URLs separated by commas (nats://…, amqp://…, https://…), or leave it unset to run no relay`);
  }
  const mode = env.RELAY ?? 'in-process';
  if (mode !== 'in-process' && mode !== 'external') throw new SettingsError('RELAY', `must be "in-process" or "external" (got ${quotedValue(mode)})`);
  const newSinkFrom = env.RELAY_NEW_SINK_FROM ?? 'end';
  if (newSinkFrom !== 'end' && newSinkFrom !== 'beginning') throw new SettingsError('RELAY_NEW_SINK_FROM', `must be "end" or "beginning" (got ${quotedValue(newSinkFrom)})`);

  const webhooks = sinks.filter((sink) => sink.kind === 'webhook');
  const perSink = readSecretMap(env.RELAY_WEBHOOK_SECRETS, webhooks.map((sink) => sink.key));
  const shared = env.RELAY_WEBHOOK_SECRET;
  // Spaces at either end do not count: a secret of spaces signs nothing anyone could not forge.
  if (shared !== undefined && shared.trim().length < 32) throw new SettingsError('RELAY_WEBHOOK_SECRET', 'must be at least 32 characters, not counting spaces at either end');
  const sharedBlank = shared === undefined ? undefined : blankAtEitherEnd(shared);
  if (sharedBlank !== undefined) throw new SettingsError('RELAY_WEBHOOK_SECRET', `the secret ${sharedBlank}`);
  const webhookSecrets: Record<string, readonly string[]> = {};
  for (const sink of webhooks) {
    const secrets = perSink.get(sink.key) ?? (shared === undefined ? undefined : [shared]);
    if (secrets === undefined) throw new SettingsError('RELAY_WEBHOOK_SECRET', `is needed to sign the requests to the webhook ${sink.key} (or give it its own in RELAY_WEBHOOK_SECRETS)`);
    webhookSecrets[sink.key] = secrets;
  }
  const retryBaseMs = readInteger(env, 'RELAY_RETRY_BASE_MS', 500, 1, 60_000);
  const retryMaxMs = readRetryMaxMs(env, retryBaseMs, readInteger);
  const settings: RelaySettings = {
    sinks,
    mode,
    // Empty, it would name the working directory (refused as a folder, which is not what is wrong).
    statePath: resolve(cwd, readStatePath(env) ?? join(dirname(env.EVENT_STORE_PATH ?? './data/events.db'), 'relay.db')),
    newSinkFrom,
    webhookSecrets,
    webhookMaxAttempts: readInteger(env, 'RELAY_WEBHOOK_MAX_ATTEMPTS', 8, 1, 100),
    webhookTimeoutMs: readInteger(env, 'RELAY_WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
    retryBaseMs,
    retryMaxMs,
  };
  assertEachHasAnEffect(env, sinks.length > 0, webhooks.length > 0);
  return settings;
}

/** RELAY_STATE_PATH as given: neither empty nor "off" (the relay cannot run without it; unset RELAY_SINKS runs none). */
function readStatePath(env: Env): string | undefined {
  const path = readNotBlank(env, 'RELAY_STATE_PATH', 'unset it to keep the relay\'s state beside the event store, or give the path of its file');
  refuseOffWord('RELAY_STATE_PATH', path);
  return path;
}

/**
 * The longest wait, bound to the first: a bare "from 500" would not say where 500 comes from, and
 * any refusal (0, "30s", below the base) names the same bound, never one it would then break.
 */
function readRetryMaxMs(env: Env, retryBaseMs: number, readInteger: (env: Env, variable: string, fallback: number, min: number, max: number) => number): number {
  try {
    return readInteger(env, 'RELAY_RETRY_MAX_MS', Math.max(30_000, retryBaseMs), retryBaseMs, 3_600_000);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    const base = (env.RELAY_RETRY_BASE_MS ?? '') === '' ? `${retryBaseMs}, its default` : String(retryBaseMs);
    throw new SettingsError('RELAY_RETRY_MAX_MS', `must be an integer of at least RELAY_RETRY_BASE_MS (${base}) and at most 3600000 (got ${quotedValue(env.RELAY_RETRY_MAX_MS)})`);
  }
}

/** Settings of the relay's sinks, and of its webhooks. */
const RELAY_VARIABLES = ['RELAY', 'RELAY_STATE_PATH', 'RELAY_NEW_SINK_FROM', 'RELAY_RETRY_BASE_MS', 'RELAY_RETRY_MAX_MS'] as const;
const WEBHOOK_VARIABLES = ['RELAY_WEBHOOK_SECRET', 'RELAY_WEBHOOK_SECRETS', 'RELAY_WEBHOOK_MAX_ATTEMPTS', 'RELAY_WEBHOOK_TIMEOUT_MS'] as const;

/**
 * A relay setting with nothing to apply to is refused, as the JWT settings without a key are: it
 * is most often RELAY_SINKS left out or misspelt (RELAY_SINK), and the operator would otherwise
 * believe events are published, or signed, when nothing is.
 */
function assertEachHasAnEffect(env: Env, anySink: boolean, anyWebhook: boolean): void {
  if (!anySink) {
    for (const variable of [...RELAY_VARIABLES, ...WEBHOOK_VARIABLES]) {
      if (env[variable] !== undefined) throw new SettingsError(variable, 'has no effect without RELAY_SINKS (the sinks the public events are published to: nats://…, amqp://…, https://…)');
    }
  } else if (!anyWebhook) {
    for (const variable of WEBHOOK_VARIABLES) {
      if (env[variable] !== undefined) throw new SettingsError(variable, 'has no effect: RELAY_SINKS names no webhook (https://…)');
    }
  }
}

// RELAY_WEBHOOK_SECRETS: {"<webhook URL as in RELAY_SINKS>": "<secret>" or ["<secret>", …], …}
function readSecretMap(text: string | undefined, webhookKeys: readonly string[]): Map<string, readonly string[]> {
  const secrets = new Map<string, readonly string[]>();
  if (text === undefined || text.trim() === '') return secrets;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON.parse's own words: they quote the text around the fault, which here is a secret.
    throw new SettingsError('RELAY_WEBHOOK_SECRETS', 'is not JSON (expected {"https://…": "secret", …}, each URL and secret in double quotes)');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SettingsError('RELAY_WEBHOOK_SECRETS', 'must be a JSON object of webhook URL → secret (or list of secrets)');
  // JSON.parse keeps the last of two equal keys without a word: the webhook would be signed with a
  // secret its subscriber may not hold, and every event dead-lettered.
  const repeated = firstRepeatedName(text);
  if (repeated !== undefined) throw new SettingsError('RELAY_WEBHOOK_SECRETS', `gives the webhook ${describedKey(repeated)} two secrets; give each webhook one`);
  for (const [url, secret] of Object.entries(parsed)) {
    let key: string;
    try {
      key = parseSinkUrl(url).key;
    } catch {
      // A key that is no URL is most often a secret written where its URL goes: never repeated.
      throw new SettingsError('RELAY_WEBHOOK_SECRETS', `has a key that is not a webhook URL (its ${[...url].length} characters are not shown: it may be a secret written in the place of its URL); the keys are the webhook URLs of RELAY_SINKS`);
    }
    // Shown as its sink key (no credentials, no query, where a token may sit).
    if (!webhookKeys.includes(key)) throw new SettingsError('RELAY_WEBHOOK_SECRETS', `names ${quotedValue(key)}, which is not a webhook in RELAY_SINKS`);
    // URLs that differ only in their query are one webhook (one sink key): one secret each.
    if (secrets.has(key)) throw new SettingsError('RELAY_WEBHOOK_SECRETS', `gives the webhook ${key} two secrets (its URL is named twice, perhaps with another query); give each webhook one`);
    secrets.set(key, Array.isArray(secret) ? readSecretList(key, secret) : [readSecret(`the secret of ${key}`, secret)]);
  }
  return secrets;
}

/** A webhook's list of secrets (a rotation: each signs, one `v1=` each), in the order given; never repeated in a refusal. */
function readSecretList(key: string, list: readonly unknown[]): string[] {
  if (list.length === 0) throw new SettingsError('RELAY_WEBHOOK_SECRETS', `the secrets of ${key} are an empty list; give one secret, or a list of one or more`);
  const secrets = list.map((secret, index) => readSecret(`the secret ${index + 1} of ${key}`, secret));
  // The same secret twice signs twice with one key: most often the new one pasted over the old.
  const again = secrets.findIndex((secret, index) => secrets.indexOf(secret) !== index);
  if (again >= 0) throw new SettingsError('RELAY_WEBHOOK_SECRETS', `the secrets of ${key} name one secret twice (${secrets.indexOf(secrets[again]!) + 1} and ${again + 1}); give each once`);
  return secrets;
}

function readSecret(named: string, secret: unknown): string {
  if (typeof secret !== 'string' || secret.trim().length < 32) {
    throw new SettingsError('RELAY_WEBHOOK_SECRETS', `${named} must be a string of at least 32 characters, not counting spaces at either end (or, while one is rotated, a list of such strings)`);
  }
  const blank = blankAtEitherEnd(secret);
  if (blank !== undefined) throw new SettingsError('RELAY_WEBHOOK_SECRETS', `${named} ${blank}`);
  return secret;
}

const BLANK_NAMES: Readonly<Record<string, string>> = { '\n': 'a newline', '\r\n': 'a Windows line end (CR LF)', '\r': 'a carriage return', '\t': 'a tab', ' ': 'a space' };

/**
 * Why a secret with a blank at either end (most often the line end of the file it was read from)
 * is refused, or undefined: it signs as given, and a subscriber that trims its copy, as most do,
 * would compute another signature and refuse every request. Never trimmed here in silence: the
 * subscriber may hold it untrimmed, and the operator is the one who knows which is meant.
 */
function blankAtEitherEnd(secret: string): string | undefined {
  const blank = /^\s/.test(secret) ? { where: 'starts', char: secret[0]! } : /\s$/.test(secret) ? { where: 'ends', char: secret.endsWith('\r\n') ? '\r\n' : secret[secret.length - 1]! } : undefined;
  if (blank === undefined) return undefined;
  const name = BLANK_NAMES[blank.char] ?? `a blank character (U+${blank.char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`;
  return `${blank.where} with ${name}: it would sign as given, and a subscriber that trims its copy (as most do) would refuse every request; remove it (if it is read from a file, write the file without a line end)`;
}

/** A key of RELAY_WEBHOOK_SECRETS as an error may show it: its sink key, never text that is no URL (it may be a secret). */
function describedKey(name: string): string {
  try {
    return parseSinkUrl(name).key;
  } catch {
    return '(a key that is not a URL)';
  }
}

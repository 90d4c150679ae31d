import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isRole, type Role } from './roles';
import { CLIENT_ID_RULE, isClientId, textFault, TEXT_RULE } from '@stagecraft/opportunity';
import { quotedValue } from '@stagecraft/sales-process';

/**
 * A key's name is recorded as the actor of what it does, listed by the CLI and written into logs:
 * something visible, and no control character (a newline or an escape sequence would forge lines
 * there) nor format or separator character (a bidi override or a zero-width space would make one
 * actor look like another), as a token's "sub" (jwt.claims.ts).
 */
export const KEY_NAME = /^(?!\s*$)[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;
export const KEY_NAME_RULE = 'name must have a visible character and no control or format characters (a newline, a bidi override, a zero-width space)';
/**
 * No space at either end: "billing " would be listed, and recorded as the actor, as if it were
 * "billing" (the rule a token's "sub" follows). Refused where keys are made; a keys file an earlier
 * version wrote still reads.
 */
export const KEY_NAME_TRIMMED = /^\S(?:[^]*\S)?$/u;
export const KEY_NAME_TRIMMED_RULE = 'name must not begin or end with a space ("billing " would pass for "billing")';

/** How a key is kept: a salted hash, never the key itself. */
export interface StoredApiKey {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
  readonly teams?: readonly string[];
  readonly mayActOnBehalf?: boolean;
  readonly salt: string;
  readonly hash: string;
  readonly createdAt: string;
}

export interface NewApiKey {
  readonly name: string;
  readonly roles: readonly Role[];
  readonly teams?: readonly string[];
  readonly mayActOnBehalf?: boolean;
}

// `sck_<id>_<secret>`: the id finds the stored hash; the secret is 256 random bits, so a fast
// salted SHA-256 is enough (slow password hashes exist for guessable secrets).
const KEY_FORMAT = /^sck_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function generateApiKey(spec: NewApiKey, now: Date): { key: string; stored: StoredApiKey } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16).toString('base64url');
  return {
    key: `sck_${id}_${secret}`,
    stored: {
      id,
      name: spec.name,
      roles: [...spec.roles],
      ...(spec.teams ? { teams: [...spec.teams] } : {}),
      ...(spec.mayActOnBehalf ? { mayActOnBehalf: true } : {}),
      salt,
      hash: hashSecret(salt, secret),
      createdAt: now.toISOString(),
    },
  };
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith('sck_');
}

// Compared against when the key id is unknown, so an unknown id costs the same as a wrong secret.
const DECOY: StoredApiKey = { id: '', name: '', roles: [], salt: 'decoy', hash: hashSecret('decoy', 'decoy'), createdAt: '' };

/** A stored hash as bytes, decoded once per stored key (every authenticated request compares against one). */
const expectedBytes = new WeakMap<StoredApiKey, Buffer>();
function expectedHashOf(key: StoredApiKey): Buffer {
  let bytes = expectedBytes.get(key);
  if (!bytes) expectedBytes.set(key, (bytes = Buffer.from(key.hash, 'hex')));
  return bytes;
}

/** The stored key the presented one matches, in constant time; undefined when it matches none. */
export function verifyApiKey(presented: string, keys: ReadonlyMap<string, StoredApiKey>): StoredApiKey | undefined {
  const match = KEY_FORMAT.exec(presented);
  const candidate = (match && keys.get(match[1]!)) || DECOY;
  const actual = hashSecretBytes(candidate.salt, match ? match[2]! : presented);
  const expected = expectedHashOf(candidate);
  const equal = actual.length === expected.length && timingSafeEqual(actual, expected);
  return equal && candidate !== DECOY ? candidate : undefined;
}

function hashSecret(salt: string, secret: string): string {
  return hashSecretBytes(salt, secret).toString('hex');
}

function hashSecretBytes(salt: string, secret: string): Buffer {
  // One-shot (no Hash object), as bytes (no hex text to decode again): every authenticated request hashes the key it presents.
  return hash('sha256', `${salt}\u0000${secret}`, 'buffer') as unknown as Buffer;
}

const STORED_KEY_FIELDS = ['id', 'name', 'roles', 'teams', 'mayActOnBehalf', 'salt', 'hash', 'createdAt'];

/** Checks one entry of a keys file; returns the reason it is unusable, or undefined. */
export function problemWithStoredKey(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'must be an object';
  const key = entry as Record<string, unknown>;
  // A misspelt field must not pass as absent: "team" for "teams" would make a key for every team.
  const unknown = Object.keys(key).filter((field) => !STORED_KEY_FIELDS.includes(field) && field !== 'key' && field !== 'secret');
  if (unknown.length > 0) return `has unknown field(s) ${unknown.map((field) => quotedValue(field)).join(', ')}; a key has ${STORED_KEY_FIELDS.join(', ')}`;
  if (typeof key.id !== 'string' || !/^[0-9a-f]{12}$/.test(key.id)) return 'id must be 12 hex characters';
  if (typeof key.name !== 'string' || key.name.length === 0) return 'name must be a non-empty string';
  // Recorded as the actor of what the key does: text a read model can keep.
  if (textFault(key.name) !== undefined) return `name must be ${TEXT_RULE}`;
  // Listed by the CLI and written into logs, as the HTTP route and the CLI refuse them.
  // As earlier versions wrote them: no control character, something visible (a format character is
  // refused where keys are made, below and in the route, not where a file already holding one is read).
  if (/\p{Cc}/u.test(key.name) || key.name.trim() === '') return 'name must have a visible character and no control characters (such as a newline)';
  if (!Array.isArray(key.roles) || key.roles.length === 0 || !key.roles.every(isRole)) return 'roles must be a non-empty list of writer, analyst, auditor, admin';
  // Read as earlier versions wrote them (a team only narrows what a key sees): a file with a key
  // limited to "EMEA/north" must not stop start-up nor the key tools after an upgrade.
  if (key.teams !== undefined && (!Array.isArray(key.teams) || !key.teams.every((t) => typeof t === 'string' && t !== '' && textFault(t) === undefined))) return `teams must be a list of team ids (non-empty, ${TEXT_RULE})`;
  if (key.mayActOnBehalf !== undefined && typeof key.mayActOnBehalf !== 'boolean') return 'mayActOnBehalf must be true or false';
  if (typeof key.salt !== 'string' || key.salt === '' || typeof key.hash !== 'string' || !/^[0-9a-f]{64}$/.test(key.hash)) return 'salt and hash (64 hex characters) are required; keys are stored hashed, never in plain text';
  if (typeof key.createdAt !== 'string' || Number.isNaN(Date.parse(key.createdAt))) return 'createdAt must be an ISO 8601 instant';
  if ('key' in key || 'secret' in key) return 'holds a plain key; store only salt and hash';
  return undefined;
}

/** A key about to be made (the CLI's add; the route's DTO has the same rules): as a stored key, its name without format characters, and each team one a deal can have. */
export function problemWithNewKey(entry: StoredApiKey): string | undefined {
  const problem = problemWithStoredKey(entry);
  if (problem !== undefined) return problem;
  if (!KEY_NAME.test(entry.name)) return KEY_NAME_RULE;
  if (!KEY_NAME_TRIMMED.test(entry.name)) return KEY_NAME_TRIMMED_RULE;
  if (entry.teams !== undefined && !entry.teams.every(isClientId)) return `teams must be a list of team ids, each as a deal's teamId is (${CLIENT_ID_RULE})`;
  return undefined;
}

import type { JWTPayload } from 'jose';
import { CLIENT_ID_RULE, isClientId, textFault, TEXT_RULE } from '@stagecraft/opportunity';
import { DRAWS_NOTHING, quotedValue } from '@stagecraft/sales-process';
import { JwtRejectedError } from './jwt.verifier';
import { rolesOfPrincipal, TEAMS_MAX, teamsOfPrincipal, type Principal } from './principal';
import { isRole, ROLES } from './roles';

/** The longest caller name a token may give: an e-mail address's most, and then some. */
const SUB_MAX = 255;

/**
 * The caller a verified token describes. Claims: `sub` (name, required), `roles` (required),
 * `teams` (absent: every team; a list, maybe empty: only those), `act_on_behalf` (boolean).
 * A single string stands for a one-element list. Any other shape is refused naming the claim —
 * never read as "no limit".
 */
export function principalFromClaims(claims: JWTPayload): Principal {
  if (typeof claims.sub !== 'string' || claims.sub.trim() === '') throw new JwtRejectedError('claim "sub" (the caller\'s name) must be a non-empty string', 'sub');
  // The name is recorded as the actor of every command and written into logs: text a read model
  // can keep (no U+0000, no unpaired surrogate) and no control character (a forged log line).
  if (!isPrintableText(claims.sub)) throw new JwtRejectedError(`claim "sub" (the caller's name) must be ${TEXT_RULE}, without control or format characters or spaces at either end`, 'sub');
  // Written into every event the caller's commands record: an identity provider's subject is an
  // id or an e-mail address (at most 254 characters), never a document.
  if ([...claims.sub].length > SUB_MAX) throw new JwtRejectedError(`claim "sub" (the caller's name) is ${[...claims.sub].length} characters long; at most ${SUB_MAX} are taken`, 'sub');
  // Identity providers share one roles claim between applications: names this service does not
  // know are someone else's and ignored, but at least one must be ours.
  const roles = rolesOfPrincipal(stringList(claims.roles, 'roles')?.filter(isRole) ?? []);
  if (roles.length === 0) throw new JwtRejectedError(`claim "roles" grants no role of this service (${ROLES.join(', ')})`, 'roles');
  // An absent "teams" means every team: a claim that only looks like it ("Teams", "team") must not
  // be read as absent. Claim names are case-sensitive (RFC 7519), so such a token is refused.
  // Also namespaced (https://example.com/teams), snake or camel case (team_ids), or in letters that
  // read as these (fullwidth ｔｅａｍｓ, accented téams, Cyrillic or Greek teаms, small capitals ᴛᴇᴀᴍs,
  // or with a character that draws nothing inside, te\u200bams: lettersOf).
  const lookalike = Object.keys(claims).find((name) => name !== 'teams' && /team/.test(lettersOf(name)));
  if (lookalike !== undefined) throw new JwtRejectedError(`claim ${quotedValue(lookalike)} is not "teams" (claim names are case-sensitive); a token without "teams" would grant every team`, lookalike);
  // Claims copied into an object (Object.assign, a deep merge, by this code or a library's later)
  // would take a "__proto__" claim as the object's prototype, whose "teams" would then read as the
  // token's: no identity provider writes such a claim, so the token is refused.
  const prototypeLike = Object.keys(claims).find((name) => PROTOTYPE_NAMES.has(name));
  if (prototypeLike !== undefined) throw new JwtRejectedError(`claim ${quotedValue(prototypeLike)} is refused: copied into an object it would stand for the object's prototype, and the "teams" in it for the token's`, prototypeLike);
  // Each team once (teamsOfPrincipal), counted once towards the most taken.
  const listed = claims.teams === undefined ? undefined : stringList(claims.teams, 'teams');
  const teams = listed === undefined ? undefined : teamsOfPrincipal(listed);
  // As many as an API key may name (api-keys.dto.ts): each request compares a deal's team with them.
  if (teams !== undefined && teams.length > TEAMS_MAX) throw new JwtRejectedError(`claim "teams" names ${teams.length} teams; at most ${TEAMS_MAX} are taken (as on an API key)`, 'teams');
  // Team ids are compared with the deals' and sent to PostgreSQL as filters: each must be one a
  // deal's teamId can be, as an API key's teams are when it is made. A team no deal can have
  // ("Sales EMEA", an emoji, 50,000 characters) is a mistake in the identity provider's mapping,
  // refused rather than read as a team that sees nothing.
  // (Roles are only compared with this service's names; others' are ignored, whatever they hold.)
  const notATeam = teams?.find((team) => !isClientId(team));
  if (notATeam !== undefined) {
    throw new JwtRejectedError(`claim "teams" must hold team ids as a deal's teamId is (${CLIENT_ID_RULE}); ${quoted(notATeam)} is not one`, 'teams');
  }
  const onBehalf = claims.act_on_behalf;
  if (onBehalf !== undefined && typeof onBehalf !== 'boolean') throw new JwtRejectedError(`claim "act_on_behalf" must be true or false (got ${shapeOf(onBehalf)})`, 'act_on_behalf');
  return { name: claims.sub, authenticatedBy: 'jwt', roles, ...(teams ? { teams } : {}), mayActOnBehalf: onBehalf === true };
}

const PROTOTYPE_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function stringList(value: unknown, claim: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value !== '') return [value];
  if (Array.isArray(value) && value.every((entry) => typeof entry === 'string' && entry !== '')) return [...(value as string[])];
  throw new JwtRejectedError(`claim ${quotedValue(claim)} must be a list of non-empty strings, or one non-empty string (got ${shapeOf(value)})`, claim);
}

/**
 * Text fit to name a caller or a team: storable, and nothing that changes how a line reads when
 * printed (controls, format characters such as bidi overrides and zero-width ones, line and
 * paragraph separators), nor spaces at either end ("admin " would pass for "admin").
 */
function isPrintableText(text: string): boolean {
  return textFault(text) === undefined && !/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(text) && text.trim() === text;
}

/** A claim's value as a refusal quotes it: short, and escaped as every value a client sent is. */
function quoted(text: string): string {
  return quotedValue(text, 40);
}

function shapeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list containing ${value.map(shapeOf).filter((shape, index, all) => all.indexOf(shape) === index).join(', ') || 'nothing'}`;
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Cyrillic and Greek letters that read as the Latin letters of "team" (Unicode's confusables for
 * them, the lower-case ones: names are folded to lower case first).
 */
const READ_AS_LATIN: Readonly<Record<string, string>> = {
  '\u0430': 'a', // Cyrillic а
  '\u03b1': 'a', // Greek α
  '\u0251': 'a', // Latin alpha ɑ
  '\u0435': 'e', // Cyrillic е
  '\u04bd': 'e', // Cyrillic ҽ
  '\u0442': 't', // Cyrillic т
  '\u03c4': 't', // Greek τ
  '\u043c': 'm', // Cyrillic м
  '\u0455': 's', // Cyrillic ѕ
  '\u1d1b': 't', // small capital ᴛ
  '\u1d07': 'e', // small capital ᴇ
  '\u1d00': 'a', // small capital ᴀ
  '\u1d0d': 'm', // small capital ᴍ
  '\ua731': 's', // small capital ꜱ
};

const EVERY_ONE_DRAWING_NOTHING = new RegExp(DRAWS_NOTHING.source, 'gu');

/**
 * A claim name as it reads: compatibility forms folded (NFKC), accents dropped, characters that draw
 * nothing (a zero-width space, a soft hyphen, a space of any width, a control, tag characters) dropped, lower case,
 * lookalike letters read as Latin.
 */
export function lettersOf(name: string): string {
  // What draws nothing is the titles' rule (DRAWS_NOTHING): a no-break or hair space, a control, the
  // blank Braille pattern inside "teams" hide it as well as a zero-width space does.
  const folded = name.normalize('NFKD').replace(/\p{M}/gu, '').replace(EVERY_ONE_DRAWING_NOTHING, '').normalize('NFKC').toLowerCase();
  return [...folded].map((char) => READ_AS_LATIN[char] ?? char).join('');
}

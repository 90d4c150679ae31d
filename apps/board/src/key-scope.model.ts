import type { CallerAnswer } from '@stagecraft/contracts';
import { isolated } from './format';

// What the key signed in with may do with deals, from GET /me: the teams it may put a deal in, and
// whether New deal and a deal form may save at all, with the reason said when not. Asked again at
// every sign-in (main.ts rescope), so a form left open follows the key now signed in. Pure:
// key-scope.model.spec.ts.

/** Whether the key may create and change deals (the writer role; admin may do all). */
export function mayWriteDeals(caller: Pick<CallerAnswer, 'roles'> | null): boolean {
  return caller !== null && (caller.roles.includes('writer') || caller.roles.includes('admin'));
}

/** The teams this key may choose for a deal of a process: its own (no "All teams") when it is limited to some. */
export function selectableTeams(caller: Pick<CallerAnswer, 'teams'> | null, definition: { readonly teams: readonly string[] }): { teams: string[]; all: boolean } {
  const limited = caller?.teams ?? null;
  if (limited === null) return { teams: [...definition.teams], all: true };
  return { teams: definition.teams.length === 0 ? [...limited] : definition.teams.filter((team) => limited.includes(team)), all: false };
}

/** A key's teams in a sentence, each isolated (U+2068 … U+2069): a team is a name the process and the key were given, and may run right to left. */
export function teamList(teams: readonly string[]): string {
  return teams.map(isolated).join(', ');
}

/** Why no process is offered to a key limited to teams (none of them runs one). */
export function noProcessText(teams: readonly string[]): string {
  return `No process is run by ${teams.length === 1 ? 'the team' : 'the teams'} of this key (${teamList(teams)}): ask an administrator.`;
}

/**
 * How New deal is offered: not at all to a key that may not write (the board is read-only for it);
 * disabled, with the reason, to a writer whose teams run no process or none of this process's
 * (it was shown, and opened a form that could only be refused, or nothing at all).
 */
export type NewDealOffer = { readonly kind: 'hidden' } | { readonly kind: 'enabled' } | { readonly kind: 'disabled'; readonly reason: string };

/**
 * `process`: the definition of the process shown; 'none' when no process is offered to this key;
 * null while the processes are still being read (nothing is offered, nor said, until then).
 */
export function newDealOffer(caller: Pick<CallerAnswer, 'roles' | 'teams'> | null, process: { readonly teams: readonly string[] } | 'none' | null): NewDealOffer {
  if (!mayWriteDeals(caller) || process === null) return { kind: 'hidden' };
  const limited = caller!.teams ?? null;
  if (process === 'none') return { kind: 'disabled', reason: limited === null ? 'No process to create a deal in: ask an administrator.' : noProcessText(limited) };
  if (limited !== null && selectableTeams(caller, process).teams.length === 0) {
    return { kind: 'disabled', reason: `This process is run by none of the teams of this key (${limited.length === 0 ? 'none' : teamList(limited)}): ask an administrator.` };
  }
  return { kind: 'enabled' };
}

/**
 * Why an open deal form may not save for this key (null: it may). Signed in again over it with a
 * read-only key, the form still offered to save, and the save could only be refused (403).
 */
export function formReadOnlyReason(caller: Pick<CallerAnswer, 'roles'> | null, editing: boolean): string | null {
  if (mayWriteDeals(caller)) return null;
  return `This key may only read deals (${caller === null || caller.roles.length === 0 ? 'no role' : caller.roles.join(', ')}): it cannot ${editing ? 'save changes' : 'create a deal'}. Saving needs a key with the writer role; what you typed stays here until the form is closed.`;
}

/** Why an open panel of unmet criteria may not tick or move for this key (null: it may): a read-only key signed in over it was offered both, and refused (403). */
export function criteriaReadOnlyReason(caller: Pick<CallerAnswer, 'roles'> | null): string | null {
  if (mayWriteDeals(caller)) return null;
  return `This key may only read deals (${caller === null || caller.roles.length === 0 ? 'no role' : caller.roles.join(', ')}): it cannot tick criteria or move the deal. Ticking and moving need a key with the writer role.`;
}

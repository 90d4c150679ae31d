import type { ProblemBody } from '@stagecraft/contracts';
import { inSentence } from './api-problem.model';
import { FIELDS, type Field } from './deal-form.model';
import { goneText } from './moves.model';

// What the deal form says when the API refuses a save, in a rep's words. The API words its 400s
// for developers ("ownerId must be an id: letters, digits…", "title must be longer than or equal
// to 1 characters"): the field is named by its DTO property, the rule by class-validator. The form
// shows each message beside its field, which already says which field it is, and announces a
// summary naming the fields by their labels. Pure: deal-form-messages.model.spec.ts.

export const FIELD_LABELS: Readonly<Record<Field, string>> = {
  title: 'Title',
  amount: 'Amount',
  currency: 'Currency',
  ownerId: 'Owner',
  teamId: 'Team',
  expectedCloseDate: 'Expected close date',
};

/** Refusals that are about one field, by their stable code (the problem names no field). */
const FIELD_OF_CODE: Readonly<Record<string, Field>> = {
  'OPPORTUNITY.UNKNOWN_TEAM': 'teamId',
  'AUTH.TEAM_FORBIDDEN': 'teamId',
  'OPPORTUNITY.INVALID_EXPECTED_CLOSE_DATE': 'expectedCloseDate',
  'OPPORTUNITY.INVALID_AMOUNT': 'amount',
};

/** A field's rule as a rep reads it: what to write there. */
const RULE: Readonly<Record<Field, string>> = {
  title: 'Give the deal a title.',
  amount: 'Write the amount as a number from 0 to 1,000,000,000,000,000 (10^15) with at most 4 decimals: 48000.50 (or 48,000.50).',
  currency: 'Write the currency as its three-letter code, such as EUR or USD.',
  ownerId: 'Write the owner as their user name: letters, digits and . _ : @ - only, no spaces, starting with a letter or digit.',
  teamId: 'Choose a team.',
  expectedCloseDate: 'Pick a date from the calendar, or leave it empty.',
};

/** The message for one field, from the API's own (which only picks which of the field's rules was broken). */
export function fieldMessage(field: Field, apiMessage: string, code = 'REQUEST.VALIDATION_FAILED'): string {
  if (code === 'OPPORTUNITY.UNKNOWN_TEAM') return 'This process does not run for that team: choose another.';
  if (code === 'AUTH.TEAM_FORBIDDEN') return 'This key may not put a deal in that team: choose one of its own.';
  if (code === 'OPPORTUNITY.INVALID_TEXT') return `The ${FIELD_LABELS[field].toLowerCase()} holds a character that cannot be kept; type it again without pasting.`;
  const longest = / shorter than or equal to (\d+) characters/.exec(apiMessage);
  if (longest) return `Too long: at most ${longest[1]} characters.`;
  return RULE[field];
}

/** A refused save as the form shows it: a message per field, what no field holds, and a summary to announce. */
export interface FormRefusal {
  readonly byField: Partial<Record<Field, string>>;
  /** Refusals about no field of the form, in words. */
  readonly general: string | null;
  /** "Title and Amount need correcting.", then what no field holds: the form's alert says it after "Not saved.". */
  readonly summary: string;
}

/**
 * A problem the API answered to a save, for the form. `inWords` says an API message without ids
 * (moves.model.ts). Entries about something the form has no field for (another property, the body)
 * are not dropped: they go to `general`, so nothing refused is left unsaid.
 */
export function formRefusal(problem: ProblemBody, inWords: (message: string) => string): FormRefusal {
  const byField: Partial<Record<Field, string>> = {};
  const others: string[] = [];
  for (const entry of problem.errors ?? []) {
    const field = FIELDS.find((candidate) => candidate === entry.field);
    if (field) byField[field] ??= fieldMessage(field, entry.message);
    else others.push(inWords(entry.message));
  }
  const named = typeof problem['field'] === 'string' ? FIELDS.find((candidate) => candidate === problem['field']) : undefined;
  const codeField = named ?? FIELD_OF_CODE[problem.code];
  if ((problem.errors ?? []).length === 0) {
    if (codeField) byField[codeField] = fieldMessage(codeField, problem.detail ?? '', problem.code);
    else others.push(inWords(problem.detail ?? problem.code));
  }
  const general = others.length === 0 ? null : others.join(' ');
  const fields = FIELDS.filter((field) => byField[field] !== undefined);
  // The API's words after the board's ("Not saved. …"): isolated (inSentence).
  return { byField, general, summary: [fields.length === 0 ? null : needCorrecting(fields), general === null ? null : inSentence(problem, general)].filter((part) => part !== null).join(' ') };
}

/** "Title and Amount need correcting." */
export function needCorrecting(fields: readonly Field[]): string {
  const names = fields.map((field) => FIELD_LABELS[field]);
  return `${listed(names)} ${names.length === 1 ? 'needs' : 'need'} correcting.`;
}

/**
 * An edit that empties a field the API cannot clear (deal-form.model.ts, emptiedFields): said at
 * the field rather than sent without it, which would keep the old value while the rep believes it gone.
 */
export const CANNOT_EMPTY: Readonly<Record<Exclude<Field, 'title' | 'expectedCloseDate'>, string>> = {
  amount: 'A deal\'s amount cannot be emptied once set: write the right amount.',
  currency: 'A deal\'s currency cannot be emptied once set: write the right code, such as EUR.',
  ownerId: 'A deal\'s owner cannot be emptied once set: write who owns it now.',
  teamId: 'A deal\'s team cannot be emptied once set: choose its team.',
};

/**
 * An Edit form whose deal the key signed in does not find (404 OPPORTUNITY.NOT_FOUND): said as the
 * board says it of that key (goneText), with what it means for the form. Save is off; what was
 * typed stays, to copy or to save should the deal be found again.
 */
export function unseenDealText(title: string, limitedToTeams: boolean): string {
  return `${goneText(title, limitedToTeams)} It cannot be saved with this key; what you typed stays here until the form is closed.`;
}

/** "Title", "Title and Amount", "Title, Amount and Currency". */
function listed(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
}

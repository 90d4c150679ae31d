import type { OpportunityView } from '@stagecraft/contracts';
import { dealBody, FIELDS, type Field } from './deal-form.model';
import { FIELD_LABELS } from './deal-form-messages.model';
import { isolated, quotedTitle } from './format';

// What an open Edit form does with its deal read again (deal-form.ts seeDeal) once someone else
// changed it: which fields take the new value, which keep what the rep typed, and what the form
// says. Pure: deal-form-changes.model.spec.ts. The README's board section says it for reps.

/** The deal's fields as the form reads them (the form's inputs hold text). */
type FieldValues = Pick<OpportunityView, Field>;

/** A field's value as its input holds it: empty for none. */
export function inputValue(deal: FieldValues, field: Field): string {
  const value = deal[field];
  return value === null || value === undefined ? '' : String(value);
}

/** Someone else's change to the deal an Edit form was opened on, against what the rep typed. */
export interface OtherChange {
  /** The fields whose value someone else changed, in the form's order. */
  readonly theirs: readonly Field[];
  /** Of those, the ones the form takes the new value into: the rep left them alone (or typed the same value). */
  readonly taken: readonly Field[];
  /** Of those, the ones the rep changed too, to another value: what they typed is kept, the other value shown beside it. */
  readonly both: readonly Field[];
}

/**
 * Compares the deal the form sends against (`base`) with the deal as it is now (`fresh`), and both
 * with what the rep typed. A field the rep changed is theirs to keep, never overwritten unasked;
 * a field only someone else changed takes the new value, or saving would send the old one back over it.
 */
export function otherChange(typed: Readonly<Record<Field, string>>, base: FieldValues, fresh: FieldValues): OtherChange {
  const theirs = FIELDS.filter((field) => (fresh[field] ?? null) !== (base[field] ?? null));
  // Changed by the rep: what they typed differs from the deal as read; to another value than theirs: a conflict.
  const mine = new Set(Object.keys(dealBody(typed, base)));
  const differs = new Set(Object.keys(dealBody(typed, fresh)));
  const both = theirs.filter((field) => mine.has(field) && differs.has(field));
  return { theirs, taken: theirs.filter((field) => !both.includes(field)), both };
}

/** A field's new value in a sentence: user text isolated (a title quoted), so a right-to-left value does not reorder the words around it. */
export function valueInWords(deal: FieldValues, field: Field): string {
  const value = deal[field];
  if (value === null || value === undefined || value === '') return field === 'expectedCloseDate' ? 'no date' : 'nothing';
  if (field === 'title') return quotedTitle(String(value));
  if (field === 'amount' && typeof value === 'number') return new Intl.NumberFormat('en', { maximumFractionDigits: 4 }).format(value);
  return isolated(String(value));
}

/**
 * What the form says at once (its polite status line): the fields someone else changed and their
 * new values, what the form did with each, and, when the rep changed one of them too, that Save
 * waits for the rep's choice beside it. Empty: none of the form's fields changed (a move, a
 * criterion ticked: the form sends against the new revision unsaid, as it overwrites nothing).
 */
export function otherChangeText(change: OtherChange, fresh: FieldValues): string {
  if (change.theirs.length === 0) return '';
  const changes = change.theirs.map((field) => `${FIELD_LABELS[field]} to ${valueInWords(fresh, field)}`).join('; ');
  const taken = change.taken.length > 0 ? ` The form now shows ${change.taken.length === 1 ? 'it' : 'them'}${change.both.length > 0 ? ` (${listed(change.taken)})` : ''}.` : '';
  const both =
    change.both.length > 0
      ? ` You changed ${listed(change.both)} too: what you typed is kept, and theirs shown beside it; choose Keep mine or Use theirs there before saving.`
      : '';
  return `Someone else changed this deal while this form was open: ${changes}.${taken}${both}`;
}

/** Beside a field both changed: the other value, to take or leave. */
export function theirValueText(fresh: FieldValues, field: Field): string {
  return `Someone else changed it to ${valueInWords(fresh, field)}.`;
}

/**
 * The deal won or lost meanwhile: a closed deal takes no edit (the API answers "reopen it before
 * changing it"; the panel offers no Edit for one), so Save is off; what was typed stays, to copy.
 */
export function closedMeanwhileText(title: string, status: 'won' | 'lost'): string {
  return `${quotedTitle(title)} was ${status === 'won' ? 'won' : 'lost'} meanwhile: a closed deal cannot be edited (reopen it first). It cannot be saved; what you typed stays here until the form is closed.`;
}

/** "Title", "Title and Amount", "Title, Amount and Owner". */
function listed(fields: readonly Field[]): string {
  const names = fields.map((field) => FIELD_LABELS[field]);
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
}

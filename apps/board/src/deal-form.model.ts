import type { OpportunityView } from '@stagecraft/contracts';

// What the deal form sends, from what was typed. Pure: deal-form.model.spec.ts.

export const FIELDS = ['title', 'amount', 'currency', 'ownerId', 'teamId', 'expectedCloseDate'] as const;
export type Field = (typeof FIELDS)[number];

/**
 * A new deal: every field filled in. An edit: only the fields changed (an emptied close date
 * clears it; the API cannot clear the others: the form refuses an edit that empties one,
 * emptiedFields, before it gets here). An amount that is not a number is sent as written, so the
 * API's message about it is the one shown.
 */
// An amount is digits with a dot for decimals; commas or spaces may stand between groups of three
// digits. Anything else was read wrong before: "48.000,50" (a European 48,000.50) had its comma
// dropped and became 48.0005, and "48.000" is 48 to a computer but 48,000 to most of Europe.
const PLAIN_AMOUNT = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const GROUPED_AMOUNT = /^-?\d{1,3}([, \u00A0\u202F]\d{3})+(\.\d+)?$/;
const GROUP_SEPARATORS = /[, \u00A0\u202F]/g;

/**
 * What is unclear about an amount as typed, for the rep: `ambiguous` when it may be meant either
 * way ("48.000": 48 to a computer, 48,000 to most of Europe; sent as 48.000 once confirmed, as a
 * currency with three decimals needs), `unreadable` when it cannot be taken as typed at all
 * (a decimal comma). Undefined: a number, or text the API says is not one.
 */
export function amountProblem(typed: string): { readonly kind: 'ambiguous' | 'unreadable'; readonly message: string } | undefined {
  const text = typed.trim();
  const ambiguous = /^(-?[1-9]\d{0,2})\.(\d{3})$/.exec(text);
  if (ambiguous) {
    return { kind: 'ambiguous', message: `Is this ${Number(text)} or ${ambiguous[1]}${ambiguous[2]}? Save again to record ${Number(text)}, or write ${ambiguous[1]}${ambiguous[2]}.` };
  }
  if (/^-?\d[\d. \u00A0\u202F]*,\d{1,2}$/.test(text)) return { kind: 'unreadable', message: 'Write decimals with a dot, not a comma: 48000.50 (or 48,000.50).' };
  return undefined;
}

export function dealBody(typed: Readonly<Record<Field, string>>, existing: Pick<OpportunityView, Field> | undefined): Record<string, unknown> {
  const value = (field: Field) => typed[field].trim();
  const amountText = value('amount');
  const amount = amountText === '' ? undefined : PLAIN_AMOUNT.test(amountText) || GROUPED_AMOUNT.test(amountText) ? Number(amountText.replace(GROUP_SEPARATORS, '')) : amountText;
  const wanted: Record<Field, unknown> = {
    title: value('title'),
    amount,
    currency: value('currency').toUpperCase() || undefined,
    ownerId: value('ownerId') || undefined,
    teamId: value('teamId') || undefined,
    expectedCloseDate: value('expectedCloseDate') || undefined,
  };
  if (!existing) return Object.fromEntries(Object.entries(wanted).filter(([, entry]) => entry !== undefined));
  const changed: Record<string, unknown> = {};
  for (const field of FIELDS) {
    if (wanted[field] === (existing[field] ?? undefined)) continue;
    if (wanted[field] === undefined) {
      if (field === 'expectedCloseDate') changed[field] = null;
      continue;
    }
    changed[field] = wanted[field];
  }
  return changed;
}

/**
 * Fields an edit empties that the API cannot clear: the amount, currency, owner and team (a command
 * takes no null for them; only the expected close date is cleared by null, and an emptied title is
 * sent, for the API to refuse). Sent without them, the edit would keep the old values unsaid.
 */
export function emptiedFields(typed: Readonly<Record<Field, string>>, existing: Pick<OpportunityView, Field> | undefined): ('amount' | 'currency' | 'ownerId' | 'teamId')[] {
  if (!existing) return [];
  return (['amount', 'currency', 'ownerId', 'teamId'] as const).filter((field) => typed[field].trim() === '' && existing[field] !== null && existing[field] !== undefined && existing[field] !== '');
}

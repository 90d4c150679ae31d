import type { OpportunityView } from '@stagecraft/contracts';

// What the deal form sends, from what was typed. Pure: deal-form.model.spec.ts.

export const FIELDS = ['title', 'amount', 'currency', 'ownerId', 'teamId', 'expectedCloseDate'] as const;
export type Field = (typeof FIELDS)[number];

/**
 * A new deal: every field filled in. An edit: only the fields changed (an emptied close date
 * clears it; the API cannot clear the others, so an emptied one is left as it was). An amount that
 * is not a number is sent as written, so the API's message about it is the one shown.
 */
export function dealBody(typed: Readonly<Record<Field, string>>, existing: Pick<OpportunityView, Field> | undefined): Record<string, unknown> {
  const value = (field: Field) => typed[field].trim();
  const amountText = value('amount').replace(/[\s,]/g, '');
  const amount = amountText === '' ? undefined : Number.isFinite(Number(amountText)) ? Number(amountText) : value('amount');
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

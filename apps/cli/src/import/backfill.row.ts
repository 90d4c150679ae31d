import { CALENDAR_DATE_RULE, CLIENT_ID, COMMAND_FIELDS, fitsRule, INSTANT_RULE, parseCalendarDay, parseInstant, ruleText, type FieldRule } from '@stagecraft/opportunity';
import { printable, quoted } from '../io/printable';

/**
 * The backfill CSV: one row per stage change of a historical opportunity, oldest first.
 * Header names are required (any order); unknown columns are refused so a typo is not ignored.
 */
export const BACKFILL_COLUMNS = ['opportunityId', 'occurredAt', 'stage', 'outcome', 'lostReason', 'wonReason', 'nextSteps', 'processId', 'title', 'teamId', 'ownerId', 'amount', 'currency', 'expectedCloseDate', 'note'] as const;
export type BackfillColumn = (typeof BACKFILL_COLUMNS)[number];
const REQUIRED: readonly BackfillColumn[] = ['opportunityId', 'occurredAt'];

export interface BackfillRow {
  readonly line: number;
  /** The id in the source system; not a UUID → mapped to a deterministic one. */
  readonly opportunityId: string;
  readonly occurredAt: string;
  readonly stage?: string;
  readonly outcome?: 'won' | 'lost';
  readonly lostReason?: string;
  /** A won row of a process that lists wonReasons: one of them. */
  readonly wonReason?: string;
  /** A won or lost row: what happens next, recorded with the closing. */
  readonly nextSteps?: string;
  readonly processId?: string;
  readonly title?: string;
  readonly teamId?: string;
  readonly ownerId?: string;
  readonly amount?: number;
  readonly currency?: string;
  /** When the deal was expected to close then (YYYY-MM-DD): recorded as ExpectedCloseDateChanged when it differs. */
  readonly expectedCloseDate?: string;
  readonly note?: string;
}

export type ParsedRow = { readonly ok: true; readonly row: BackfillRow } | { readonly ok: false; readonly reason: string };

/** Checks the header: every column known, the required ones present. Answers the column indexes or a problem. */
export function backfillHeader(cells: readonly string[]): { ok: true; index: Map<BackfillColumn, number> } | { ok: false; reason: string } {
  const index = new Map<BackfillColumn, number>();
  for (const [position, raw] of cells.entries()) {
    const name = raw.trim();
    // Said by its place: quoted, an empty name read as the riddle `unknown column ""`.
    if (name === '') return { ok: false, reason: `column ${position + 1} has no name; the columns are ${BACKFILL_COLUMNS.join(', ')}` };
    if (!(BACKFILL_COLUMNS as readonly string[]).includes(name)) {
      return { ok: false, reason: `unknown column ${quoted(name)}; the columns are ${BACKFILL_COLUMNS.join(', ')}` };
    }
    if (index.has(name as BackfillColumn)) return { ok: false, reason: `column ${quoted(name)} appears twice` };
    index.set(name as BackfillColumn, position);
  }
  const missing = REQUIRED.filter((column) => !index.has(column));
  if (missing.length > 0) return { ok: false, reason: `missing column(s) ${missing.join(', ')}` };
  return { ok: true, index };
}

/**
 * The rule of the command field each column gives (the API's body rule for it, from the table its
 * DTOs are proven against): a cell is held to it whichever commands the row turns into. The spec
 * walks BACKFILL_COLUMNS, so a column added without a rule here fails it.
 */
export const BACKFILL_COLUMN_RULES: { readonly [Column in Exclude<BackfillColumn, 'opportunityId' | 'outcome'>]: FieldRule } = {
  occurredAt: COMMAND_FIELDS.OpenOpportunity.occurredAt.rule,
  stage: COMMAND_FIELDS.MoveOpportunityToStage.stage.rule,
  lostReason: COMMAND_FIELDS.LoseOpportunity.reason.rule,
  wonReason: COMMAND_FIELDS.WinOpportunity.reason.rule,
  nextSteps: COMMAND_FIELDS.WinOpportunity.nextSteps.rule,
  processId: COMMAND_FIELDS.OpenOpportunity.processId.rule,
  title: COMMAND_FIELDS.OpenOpportunity.title.rule,
  teamId: COMMAND_FIELDS.OpenOpportunity.teamId.rule,
  ownerId: COMMAND_FIELDS.OpenOpportunity.ownerId.rule,
  amount: COMMAND_FIELDS.OpenOpportunity.amount.rule,
  currency: COMMAND_FIELDS.OpenOpportunity.currency.rule,
  expectedCloseDate: COMMAND_FIELDS.ChangeOpportunityDetails.expectedCloseDate.rule,
  note: COMMAND_FIELDS.MoveOpportunityToStage.note.rule,
};

/** One data row into a BackfillRow, or the first problem (field and reason). */
export function parseBackfillRow(line: number, cells: readonly string[], index: ReadonlyMap<BackfillColumn, number>): ParsedRow {
  const value = (column: BackfillColumn): string | undefined => {
    const at = index.get(column);
    const text = at === undefined ? undefined : cells[at]?.trim();
    return text === undefined || text === '' ? undefined : text;
  };
  const fail = (column: BackfillColumn, reason: string): ParsedRow => ({ ok: false, reason: `${column}: ${reason}` });
  if (cells.length > index.size) return { ok: false, reason: `has ${cells.length} cells, the header ${index.size}` };

  const opportunityId = value('opportunityId');
  if (!opportunityId) return fail('opportunityId', 'is required');
  if (backfillRowDeal(cells, index) === undefined) return fail('opportunityId', `must be an id of letters, digits, ".", "_", ":", "@" or "-" (got ${quoted(opportunityId)})`);
  const occurredAt = value('occurredAt');
  if (!occurredAt) return fail('occurredAt', 'is required');
  if (parseInstant(occurredAt) === undefined) return fail('occurredAt', `must be ${INSTANT_RULE}; got ${quoted(occurredAt)}`);
  const outcome = value('outcome');
  if (outcome !== undefined && outcome !== 'won' && outcome !== 'lost') return fail('outcome', `must be empty, "won" or "lost" (got ${quoted(outcome)})`);
  const lostReason = value('lostReason');
  if (outcome === 'lost' && !lostReason) return fail('lostReason', 'is required when outcome is "lost"');
  if (outcome !== 'lost' && lostReason) return fail('lostReason', 'is only for rows whose outcome is "lost"');
  const wonReason = value('wonReason');
  if (outcome !== 'won' && wonReason) return fail('wonReason', 'is only for rows whose outcome is "won"');
  const nextSteps = value('nextSteps');
  if (!outcome && nextSteps) return fail('nextSteps', 'is only for rows that give an outcome (won or lost)');
  const stage = value('stage');
  if (!stage && !outcome) return fail('stage', 'is required unless the row gives an outcome');
  const amountText = value('amount');
  // Written as a decimal number: Number() alone reads "0x10" as 16 and "1e3" as 1000.
  const amount = amountText === undefined ? undefined : /^\d{1,16}(\.\d{1,16})?$/.test(amountText) ? Number(amountText) : NaN;

  const expectedCloseDate = value('expectedCloseDate');
  if (expectedCloseDate !== undefined && parseCalendarDay(expectedCloseDate) === undefined) return fail('expectedCloseDate', `must be ${CALENDAR_DATE_RULE} (got ${quoted(expectedCloseDate)})`);

  const optional = { stage, outcome, lostReason, wonReason, nextSteps, processId: value('processId'), title: value('title'), teamId: value('teamId'), ownerId: value('ownerId'), amount, currency: value('currency'), expectedCloseDate, note: value('note') };
  for (const [column, rule] of Object.entries(BACKFILL_COLUMN_RULES) as [keyof typeof BACKFILL_COLUMN_RULES, FieldRule][]) {
    const given = column === 'occurredAt' ? occurredAt : optional[column];
    if (given !== undefined && !fitsRule(rule, given)) return fail(column, `must be ${ruleText(rule)} (got ${quoted(column === 'amount' ? amountText : given)})`);
  }
  // Past 15 significant digits a number may not be stored as written: 999999999999999.9999 became 10^15.
  if (amountText !== undefined && amount !== undefined && !writtenAs(amountText, amount)) {
    return fail('amount', `${printable(amountText.length > 80 ? `${amountText.slice(0, 77)}…` : amountText)} cannot be stored exactly (it would be recorded as ${amount}); give at most 15 significant digits`);
  }
  const row = { line, opportunityId, occurredAt, ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)) } as BackfillRow;
  return { ok: true, row };
}

/**
 * The opportunity id a row gives, read as parseBackfillRow reads it, or undefined when its cell is
 * missing or not an id: a row rejected for another cell is still a step of that deal.
 */
export function backfillRowDeal(cells: readonly string[], index: ReadonlyMap<BackfillColumn, number>): string | undefined {
  const at = index.get('opportunityId');
  const id = at === undefined ? undefined : cells[at]?.trim();
  return id !== undefined && isBackfillSourceId(id) ? id : undefined;
}

/** Longest source id a backfill row may give. */
const SOURCE_ID_MAX_LENGTH = 200;

/** Whether `id` is one a backfill row may give as its opportunityId (so one the CLI may be asked about). */
export function isBackfillSourceId(id: string): boolean {
  return id !== '' && id.length <= SOURCE_ID_MAX_LENGTH && CLIENT_ID.test(id);
}

/** Whether a decimal as written (digits, an optional fraction) is the number it was read as. */
function writtenAs(text: string, value: number): boolean {
  const [whole = '', fraction = ''] = text.split('.');
  const digits = `${whole.replace(/^0+(?=\d)/, '')}${fraction.replace(/0+$/, '') === '' ? '' : `.${fraction.replace(/0+$/, '')}`}`;
  return digits === String(value);
}


import { commandFieldFault, decide, evolve, type OpportunityCommand, type OpportunityState } from '@stagecraft/opportunity';
import type { CompiledProcess } from '@stagecraft/sales-process';
import type { BackfillRow } from './backfill.row';
import { refusedField } from './refused-field';
import { quoted } from '../io/printable';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type PlannedCommand = DistributiveOmit<OpportunityCommand, 'now'>;

/** One command of a row's plan; `name` makes its command id, so a re-run finds it already recorded. */
export interface PlannedStep {
  readonly name: string;
  readonly body: PlannedCommand;
}

/** What the close a row repeats recorded beyond the state: a repeat must say the same. */
export interface RepeatedClose {
  readonly note?: string;
}

export type RowPlan = { readonly ok: true; readonly steps: readonly PlannedStep[] } | { readonly ok: false; readonly reason: string };

/** Note on exit criteria the import records as met: the source system never tracked them. */
export const BACKFILLED_CRITERION_NOTE = 'backfilled: not tracked in the source data, which shows the deal moving on';

/**
 * What one backfill row means for an opportunity in `state`, as commands the API would accept:
 * - no opportunity yet: open it (processId and title needed) in the process's first stage;
 * - closed, and the row does not repeat that close: reopen it (in the row's stage where the reopen
 *   rule allows, else where it closed, then move on to the row's stage);
 * - details (title, team, owner, amount, currency, expected close date) that differ: change them;
 * - `stage` other than the current one: move there. Going forward needs the current stage's exit
 *   criteria: those not met are recorded as met by the import, with a note saying so;
 * - `outcome` won (criteria likewise; with wonReason when the process lists them) or lost (with
 *   lostReason), in the row's stage; `nextSteps` is recorded with either.
 * Every step is decided with the real decider on the state the previous steps leave, so a row
 * the process forbids (a skipped stage where skipping is not allowed, a win from a stage not in
 * winFrom, an unknown lost reason, business time going backwards…) is refused whole, before any
 * of it is written. The commands then run through the API's executor.
 */
export function planBackfillRow(row: BackfillRow, opportunityId: string, initial: OpportunityState, process: CompiledProcess, now: string, repeated: RepeatedClose = {}): RowPlan {
  const steps: PlannedStep[] = [];
  let state = initial;
  const at = { opportunityId, occurredAt: row.occurredAt };
  const take = (name: string, body: PlannedCommand): string | undefined => {
    // The API's body rules hold for every step, whichever way its fields came (parseBackfillRow
    // checks each cell so; this holds a row built in code to them too): decide() trusts them.
    const fault = commandFieldFault(body);
    if (fault !== undefined) return `${columnOf(body.type, fault.field)}: ${fault.reason}`;
    const decision = decide({ ...body, now } as OpportunityCommand, state, process);
    if (!decision.ok) return refusalReason(body.type, decision.error.code, decision.error.message);
    if (decision.events.length === 0) return undefined; // nothing to record
    for (const event of decision.events) state = evolve(state, event);
    steps.push({ name, body });
    return undefined;
  };
  const fail = (reason: string): RowPlan => ({ ok: false, reason });

  if (state.status === 'none') {
    if (!row.processId) return fail('processId: is required on the first row of an opportunity');
    if (!row.title) return fail('title: is required on the first row of an opportunity');
    if (row.processId !== process.definition.id) return fail(`processId: ${quoted(row.processId)} is not the process ${quoted(process.definition.id)}`);
    const { title, teamId, ownerId, amount, currency, expectedCloseDate } = row;
    const problem = take('open', { type: 'OpenOpportunity', ...at, processId: row.processId, ...definedOnly({ title, teamId, ownerId, amount, currency, expectedCloseDate }) } as PlannedCommand);
    if (problem) return fail(problem);
  } else {
    if (row.processId && row.processId !== state.processId) {
      return fail(`processId: opportunity runs on process ${quoted(state.processId)}, the row names ${quoted(row.processId)}`);
    }
    const repeatsClose = state.status !== 'open' && row.outcome === state.status && (row.stage === undefined || row.stage === state.stage);
    if (repeatsClose && state.status !== 'open') {
      // A repeat finds nothing to do, so it must say the close the deal holds: a loss for another
      // reason (or a win with other next steps) is another close, which taken for a repeat was
      // counted unchanged and left out of the history without a word.
      const conflict = closeConflict(row, state, repeated) ?? detailsConflict(row, state);
      if (conflict) return fail(conflict);
    }
    if (state.status !== 'open' && !repeatsClose) {
      // Straight into the row's stage where the reopen rule allows it; else back where it closed, and
      // the move below takes it on (a forward move recording the criteria the source never tracked).
      const direct = row.stage !== undefined && !process.ruleTable.structuralViolation({ kind: 'reopen', closedIn: state.stage, to: row.stage }) ? row.stage : undefined;
      // Straight into the row's stage, nothing after it takes the row's note (no move; a close takes its own): the reopen does.
      const problem = take('reopen', { type: 'ReopenOpportunity', ...at, ...definedOnly({ stage: direct, note: direct !== undefined && row.outcome === undefined ? row.note : undefined }) });
      if (problem) return fail(problem);
    }
    if (state.status === 'open') {
      const { title, teamId, ownerId, amount, currency, expectedCloseDate } = row;
      const problem = take('details', { type: 'ChangeOpportunityDetails', ...at, ...definedOnly({ title, teamId, ownerId, amount, currency, expectedCloseDate }) });
      if (problem) return fail(problem);
    }
    if (repeatsClose) return { ok: true, steps };
  }

  const open = () => (state.status === 'open' ? state : undefined);
  const meetUnmetCriteria = (): string | undefined => {
    const current = open();
    if (!current) return undefined;
    for (const criterion of process.stage(current.stage)?.exitCriteria ?? []) {
      if (current.criteriaMet.includes(criterion.id)) continue;
      const problem = take(`criterion:${current.stage}:${criterion.id}`, { type: 'MeetExitCriterion', ...at, criterionId: criterion.id, note: BACKFILLED_CRITERION_NOTE });
      if (problem) return problem;
    }
    return undefined;
  };

  const current = open();
  if (row.stage !== undefined && current && row.stage !== current.stage) {
    // Only where the process's rules allow the move itself: a forbidden skip is refused, not papered over.
    const forbidden = process.ruleTable.structuralViolation({ kind: 'move', from: current.stage, to: row.stage });
    if (forbidden) return fail(refusalReason('MoveOpportunityToStage', forbidden.code, forbidden.message));
    if (process.stageIndex(row.stage) > process.stageIndex(current.stage)) {
      const problem = meetUnmetCriteria();
      if (problem) return fail(problem);
    }
    const problem = take(`move:${row.stage}`, { type: 'MoveOpportunityToStage', ...at, stage: row.stage, ...definedOnly({ note: row.outcome ? undefined : row.note }) });
    if (problem) return fail(problem);
  }

  if (row.outcome === 'won') {
    const here = open();
    const forbidden = here && process.ruleTable.structuralViolation({ kind: 'win', from: here.stage });
    if (forbidden) return fail(refusalReason('WinOpportunity', forbidden.code, forbidden.message));
    const problem = meetUnmetCriteria() ?? take('won', { type: 'WinOpportunity', ...at, ...definedOnly({ reason: row.wonReason, note: row.note, nextSteps: row.nextSteps }) });
    if (problem) return fail(problem);
  } else if (row.outcome === 'lost') {
    const problem = take('lost', { type: 'LoseOpportunity', ...at, reason: row.lostReason!, ...definedOnly({ note: row.note, nextSteps: row.nextSteps }) });
    if (problem) return fail(problem);
  }
  // A note goes with a move, a win, a loss or a reopen; nothing else keeps one. Left out, it was
  // dropped in silence while the row counted as imported.
  if (row.note !== undefined && !steps.some(({ body }) => body.type !== 'MeetExitCriterion' && 'note' in body && body.note === row.note)) {
    const where = initial.status === 'none' ? 'opens the deal in its first stage' : `stays in ${quoted(state.status === 'open' ? state.stage : state.status)}`;
    return fail(`note: nothing this row records keeps a note (a move, a win, a loss or a reopen does; this row ${where}), so it would be lost: give it on such a row, or leave the cell empty`);
  }
  return { ok: true, steps };
}

/**
 * Where a row closing a closed deal the same way says otherwise than its close: the column and why.
 * Its note too (`repeated`, read from the close: the state keeps none), which taken for a repeat
 * was counted unchanged and left out of the history.
 */
function closeConflict(row: BackfillRow, state: Extract<OpportunityState, { status: 'won' | 'lost' }>, repeated: RepeatedClose): string | undefined {
  const reasonColumn = state.status === 'lost' ? 'lostReason' : 'wonReason';
  const what = (column: string) => (column === 'nextSteps' ? 'next steps' : column === 'note' ? 'a note' : 'a reason');
  const differs = (column: string, given: string | undefined, held: string | undefined) =>
    given !== undefined && given !== held
      ? `${column}: the deal is ${state.status} already (in ${quoted(state.stage)}${held === undefined ? `, without ${what(column)}` : `, ${column === 'nextSteps' ? 'next steps' : column === 'note' ? 'note' : 'reason'} ${quoted(held)}`}); a row closing it again with ${quoted(given)} needs a row before it that reopens it (one giving a stage)`
      : undefined;
  return differs(reasonColumn, state.status === 'lost' ? row.lostReason : row.wonReason, state.reason) ?? differs('nextSteps', row.nextSteps, state.nextSteps) ?? differs('note', row.note, repeated.note);
}

/**
 * Where a row repeating a close gives details other than the deal's: a closed deal's details do
 * not change (decide refuses it), and the repeat records nothing, so an amount corrected on the
 * closing row was counted unchanged and left out, as a reason was.
 */
function detailsConflict(row: BackfillRow, state: Extract<OpportunityState, { status: 'won' | 'lost' }>): string | undefined {
  for (const column of ['title', 'teamId', 'ownerId', 'amount', 'currency', 'expectedCloseDate'] as const) {
    const given = row[column];
    const held = state[column];
    if (given === undefined || given === held) continue;
    const was = held === undefined || held === null ? `without ${column}` : `${column} ${quoted(held)}`;
    return `${column}: the deal is ${state.status} already (in ${quoted(state.stage)}, ${was}), and a closed deal's details do not change; a row giving ${quoted(given)} needs a row before it that reopens it (one giving a stage)`;
  }
  return undefined;
}

/**
 * Why the rules refuse a row's command, led by the column at fault (refusedField): the outcome
 * column where the close itself is refused (a win from a stage not in winFrom).
 */
export function refusalReason(type: PlannedCommand['type'], code: string, message: string): string {
  const field = refusedField(code, type) ?? (type === 'WinOpportunity' || type === 'LoseOpportunity' ? 'outcome' : undefined);
  return `${field === undefined ? '' : `${columnOf(type, field)}: `}${code}: ${message}`;
}

/** The backfill column that gives a command's field: a reason is a won or a lost one. */
function columnOf(type: PlannedCommand['type'], field: string): string {
  if (field === 'reason') return type === 'WinOpportunity' ? 'wonReason' : 'lostReason';
  return field;
}

function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

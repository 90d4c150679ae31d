import type { ExitCriterionDefinition, ProcessDefinition } from './process-definition.types';
import { quotedValue } from './quoted-text';

// The rules of a process, each declared ONCE: what it allows, the machine guard it needs and, when
// it refuses, why, with a stable code and a message a person can act on. The machine
// (sales-process.machine.ts) is built from this table — a transition exists where the structural
// rules allow the step, and carries the guard the table gives it, whose test is the rule's own
// predicate below — and libs/opportunity explains a refusal with the very same table. So a rule
// cannot say one thing in the machine and another in its explanation, and the CLI's backfill asks
// the table instead of re-deriving a rule.

/** A step an opportunity may take, in the terms the rules judge it by. */
export type ProcessStep =
  | { readonly kind: 'move'; readonly from: string; readonly to: string }
  | { readonly kind: 'win'; readonly from: string; readonly reason?: string }
  | { readonly kind: 'lose'; readonly from: string; readonly reason: string }
  | { readonly kind: 'reopen'; readonly closedIn: string; readonly to: string }
  | { readonly kind: 'assign-team'; readonly teamId: string };

/** Stable codes of rule violations; libs/opportunity's error codes include them. Never renamed. */
export const PROCESS_RULE_CODES = [
  'OPPORTUNITY.UNKNOWN_STAGE',
  'OPPORTUNITY.ALREADY_IN_STAGE',
  'OPPORTUNITY.BACKWARD_NOT_ALLOWED',
  'OPPORTUNITY.SKIP_NOT_ALLOWED',
  'OPPORTUNITY.EXIT_CRITERIA_UNMET',
  'OPPORTUNITY.NOT_WINNABLE_FROM_STAGE',
  'OPPORTUNITY.INVALID_LOST_REASON',
  'OPPORTUNITY.UNKNOWN_TEAM',
  'OPPORTUNITY.WON_REASON_REQUIRED',
  'OPPORTUNITY.INVALID_WON_REASON',
] as const;

export type ProcessRuleCode = (typeof PROCESS_RULE_CODES)[number];

/** The field of the process definition a rule comes from. */
export type ProcessRuleId = 'stages' | 'allowBackward' | 'allowSkipping' | 'exitCriteria' | 'winFrom' | 'lostReasons' | 'wonReasons' | 'teams' | 'reopen';

export interface RuleViolation {
  readonly rule: ProcessRuleId;
  readonly code: ProcessRuleCode;
  /** Says what is wrong and what would make the step acceptable. */
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** A machine guard by name with its params: plain data, implemented in the machine's setup. */
export type RuleGuard =
  | { readonly type: 'isMoveTo'; readonly params: { readonly to: string } }
  | { readonly type: 'isMoveToWithExitCriteriaMet'; readonly params: { readonly to: string; readonly required: readonly string[] } }
  | { readonly type: 'exitCriteriaMet'; readonly params: { readonly required: readonly string[] } }
  | { readonly type: 'exitCriteriaMetWithWonReason'; readonly params: { readonly required: readonly string[]; readonly reasons: readonly string[] } }
  | { readonly type: 'isAllowedLostReason'; readonly params: { readonly reasons: readonly string[] } }
  | { readonly type: 'isReopenTo'; readonly params: { readonly stage: string; readonly closedIn: readonly string[] } };

/** The rule table bound to one definition. */
export interface RuleTable {
  /** The first rule the step breaks, given the exit criteria met in the current visit; undefined when every rule allows it. */
  violation(step: ProcessStep, criteriaMet: readonly string[]): RuleViolation | undefined;
  /**
   * The first rule the step breaks whatever is met: the rules the definition alone decides. The
   * machine has a transition for a move, a win or a reopen exactly where this is undefined.
   */
  structuralViolation(step: ProcessStep): RuleViolation | undefined;
  /**
   * The machine guard of a step's transition (a lost reason is the event's, so any will do for
   * `lose`), or undefined when the structural rules leave no transition for it.
   */
  guardOf(step: ProcessStep): RuleGuard | undefined;
}

interface Judged {
  readonly definition: ProcessDefinition;
  readonly indexOf: ReadonlyMap<string, number>;
}

interface RuleDeclaration {
  readonly id: ProcessRuleId;
  /** Decided by the definition and where the step goes alone: not by the criteria met, nor by what the event carries. */
  readonly structural: boolean;
  check(process: Judged, step: ProcessStep, criteriaMet: readonly string[]): RuleViolation | undefined;
  /** What this rule adds to the guard of a step it constrains at run time. */
  guard?(process: Judged, step: ProcessStep): Partial<GuardParts> | undefined;
}

/** What the run-time rules ask of a transition, merged into one guard. */
interface GuardParts {
  readonly required: readonly string[];
  readonly reasons: readonly string[];
  readonly wonReasons: readonly string[];
}

/** The exit-criteria rule's test, and the machine guards' for it. */
export const allCriteriaMet = (required: readonly string[], criteriaMet: readonly string[]): boolean => required.every((id) => criteriaMet.includes(id));

/** The lost-reasons rule's test, and the machine guard's for it. */
export const isAllowedLostReason = (reasons: readonly string[], reason: string): boolean => reasons.includes(reason);

/**
 * The won-reasons rule's test, and the machine guards' for it: with a list, a win names one of
 * it; without one, a win names none (a reason nobody defined would be a typo nobody sees).
 */
export const isAllowedWonReason = (reasons: readonly string[] | undefined, reason: string | undefined): boolean =>
  reasons === undefined ? reason === undefined : reason !== undefined && reasons.includes(reason);

const quoted = (ids: readonly string[]): string => ids.map((id) => quotedValue(id)).join(', ');
const stageIds = ({ definition }: Judged): string[] => definition.stages.map((stage) => stage.id);

const violation = (rule: ProcessRuleId, code: ProcessRuleCode, message: string, details: Record<string, unknown>): RuleViolation => ({ rule, code, message, details });

/** The stage a step goes to, for the rules about targets. */
const targetOf = (step: ProcessStep): string | undefined => (step.kind === 'move' || step.kind === 'reopen' ? step.to : undefined);

/** In judging order: the first rule broken is the one explained. */
const RULES: readonly RuleDeclaration[] = [
  {
    id: 'stages',
    structural: true,
    check(process, step) {
      const to = targetOf(step);
      if (to === undefined) return undefined;
      if (!process.indexOf.has(to)) {
        return violation('stages', 'OPPORTUNITY.UNKNOWN_STAGE', `The process has no stage ${quotedValue(to)}; its stages are ${quoted(stageIds(process))}.`, {
          stage: to,
          knownStages: stageIds(process),
        });
      }
      if (step.kind === 'move' && step.from === to) {
        return violation('stages', 'OPPORTUNITY.ALREADY_IN_STAGE', `The opportunity is already in stage ${quotedValue(to)}.`, { stage: to });
      }
      return undefined;
    },
  },
  {
    // A closed deal comes back where it closed, or where one move from there would take it: the
    // same move rules, with none of the closing stage's criteria met (a reopened visit starts
    // from none). So: the closing stage, or an earlier one where going back is allowed.
    id: 'reopen',
    structural: true,
    check(process, step) {
      if (step.kind !== 'reopen' || step.to === step.closedIn || !process.indexOf.has(step.closedIn)) return undefined;
      const asMove = judge(process, RULES, { kind: 'move', from: step.closedIn, to: step.to }, []);
      if (!asMove) return undefined;
      const reopenable = process.definition.stages
        .map((stage) => stage.id)
        .filter((to) => to === step.closedIn || judge(process, RULES, { kind: 'move', from: step.closedIn, to }, []) === undefined);
      return violation(
        'reopen',
        asMove.code,
        `Cannot reopen in ${quotedValue(step.to)}: the opportunity closed in ${quotedValue(step.closedIn)}, and a reopened deal returns there or where one move from there may go. ${asMove.message} Stages it may reopen in: ${quoted(reopenable)}.`,
        { ...asMove.details, closedIn: step.closedIn, reopenableStages: reopenable },
      );
    },
  },
  {
    id: 'allowBackward',
    structural: true,
    check(process, step) {
      if (step.kind !== 'move' || process.definition.rules.allowBackward) return undefined;
      if (process.indexOf.get(step.to)! >= process.indexOf.get(step.from)!) return undefined;
      return violation('allowBackward', 'OPPORTUNITY.BACKWARD_NOT_ALLOWED', `This process does not allow moving back from ${quotedValue(step.from)} to ${quotedValue(step.to)}.`, {
        from: step.from,
        to: step.to,
        rule: 'allowBackward',
      });
    },
  },
  {
    id: 'allowSkipping',
    structural: true,
    check(process, step) {
      if (step.kind !== 'move' || process.definition.rules.allowSkipping) return undefined;
      const fromIndex = process.indexOf.get(step.from)!;
      if (process.indexOf.get(step.to)! <= fromIndex + 1) return undefined;
      const next = process.definition.stages[fromIndex + 1]!.id;
      return violation(
        'allowSkipping',
        'OPPORTUNITY.SKIP_NOT_ALLOWED',
        `This process does not allow skipping stages: from ${quotedValue(step.from)} the next stage is ${quotedValue(next)}, not ${quotedValue(step.to)}.`,
        { from: step.from, to: step.to, nextStage: next, rule: 'allowSkipping' },
      );
    },
  },
  {
    id: 'winFrom',
    structural: true,
    check({ definition }, step) {
      if (step.kind !== 'win' || definition.rules.winFrom.includes(step.from)) return undefined;
      const { winFrom } = definition.rules;
      return violation('winFrom', 'OPPORTUNITY.NOT_WINNABLE_FROM_STAGE', `An opportunity cannot be won from stage ${quotedValue(step.from)}; this process allows winning from ${quoted(winFrom)}.`, {
        stage: step.from,
        winFrom,
        rule: 'winFrom',
      });
    },
  },
  {
    // Leaving a stage forward (a move forward, or a win) needs all of its exit criteria met in this visit.
    id: 'exitCriteria',
    structural: false,
    check(process, step, criteriaMet) {
      const stage = leftForward(process, step);
      if (!stage || allCriteriaMet(stage.exitCriteria.map((criterion) => criterion.id), criteriaMet)) return undefined;
      const unmet = unmetCriteria(stage.exitCriteria, criteriaMet);
      const action = step.kind === 'move' ? `move from ${quotedValue(step.from)} to ${quotedValue(step.to)}` : 'win the opportunity';
      const one = unmet.length === 1;
      return violation(
        'exitCriteria',
        'OPPORTUNITY.EXIT_CRITERIA_UNMET',
        `Cannot ${action}: ${unmet.length} exit ${one ? 'criterion' : 'criteria'} of stage ${quotedValue(stage.id)} ${one ? 'is' : 'are'} not met: ` +
          `${unmet.map((c) => `${c.id} (${c.description})`).join('; ')}. Mark them as met first.`,
        { stage: stage.id, unmetCriteria: unmet.map(({ id, description }) => ({ id, description })) },
      );
    },
    guard(process, step) {
      const stage = leftForward(process, step);
      return stage ? { required: stage.exitCriteria.map((criterion) => criterion.id) } : undefined;
    },
  },
  {
    id: 'lostReasons',
    structural: false, // judged on the event's reason, at run time
    check({ definition }, step) {
      if (step.kind !== 'lose' || isAllowedLostReason(definition.lostReasons, step.reason)) return undefined;
      return violation('lostReasons', 'OPPORTUNITY.INVALID_LOST_REASON', `${quotedValue(step.reason)} is not a lost reason of this process; use one of ${quoted(definition.lostReasons)}.`, {
        reason: step.reason,
        lostReasons: definition.lostReasons,
      });
    },
    guard: ({ definition }, step) => (step.kind === 'lose' ? { reasons: definition.lostReasons } : undefined),
  },
  {
    id: 'wonReasons',
    structural: false, // judged on the command's reason, at run time
    check({ definition }, step) {
      if (step.kind !== 'win' || isAllowedWonReason(definition.wonReasons, step.reason)) return undefined;
      const { wonReasons } = definition;
      if (wonReasons === undefined) {
        return violation('wonReasons', 'OPPORTUNITY.INVALID_WON_REASON', `This process defines no won reasons, so a win takes no reason (got ${quotedValue(step.reason)}); add wonReasons to the process to record them.`, {
          reason: step.reason,
          wonReasons: [],
        });
      }
      if (step.reason === undefined) {
        return violation('wonReasons', 'OPPORTUNITY.WON_REASON_REQUIRED', `This process records why deals are won: give a reason, one of ${quoted(wonReasons)}.`, { wonReasons });
      }
      return violation('wonReasons', 'OPPORTUNITY.INVALID_WON_REASON', `${quotedValue(step.reason)} is not a won reason of this process; use one of ${quoted(wonReasons)}.`, {
        reason: step.reason,
        wonReasons,
      });
    },
    guard: ({ definition }, step) => (step.kind === 'win' && definition.wonReasons ? { wonReasons: definition.wonReasons } : undefined),
  },
  {
    id: 'teams',
    structural: true,
    check({ definition }, step) {
      if (step.kind !== 'assign-team' || definition.teams.length === 0 || definition.teams.includes(step.teamId)) return undefined;
      return violation('teams', 'OPPORTUNITY.UNKNOWN_TEAM', `Team ${quotedValue(step.teamId)} does not run this process; its teams are ${quoted(definition.teams)}.`, {
        teamId: step.teamId,
        teams: definition.teams,
      });
    },
  },
];

/** The stage a step leaves forward (a forward move or a win), whose exit criteria it needs; else undefined. */
function leftForward(process: Judged, step: ProcessStep) {
  if (step.kind !== 'win' && step.kind !== 'move') return undefined;
  const from = process.indexOf.get(step.from);
  if (from === undefined) return undefined;
  const forward = step.kind === 'win' || process.indexOf.get(step.to)! > from;
  return forward ? process.definition.stages[from] : undefined;
}

/** The exit criteria of a stage not among those met, in definition order. */
export function unmetCriteria(required: readonly ExitCriterionDefinition[], criteriaMet: readonly string[]): ExitCriterionDefinition[] {
  return required.filter((criterion) => !criteriaMet.includes(criterion.id));
}

/** The first of `rules` the step breaks, in table order. */
function judge(process: Judged, rules: readonly RuleDeclaration[], step: ProcessStep, criteriaMet: readonly string[]): RuleViolation | undefined {
  for (const rule of rules) {
    const broken = rule.check(process, step, criteriaMet);
    if (broken) return broken;
  }
  return undefined;
}

export function ruleTableOf(definition: ProcessDefinition): RuleTable {
  const judged: Judged = { definition, indexOf: new Map(definition.stages.map((stage, index) => [stage.id, index])) };
  const structural = RULES.filter((rule) => rule.structural);
  const structuralViolation = (step: ProcessStep) => judge(judged, structural, step, []);
  return {
    violation: (step, criteriaMet) => judge(judged, RULES, step, criteriaMet),
    structuralViolation,
    guardOf(step) {
      if (structuralViolation(step)) return undefined;
      const parts = Object.assign({}, ...RULES.map((rule) => rule.guard?.(judged, step) ?? {})) as Partial<GuardParts>;
      switch (step.kind) {
        case 'move':
          return parts.required ? { type: 'isMoveToWithExitCriteriaMet', params: { to: step.to, required: parts.required } } : { type: 'isMoveTo', params: { to: step.to } };
        case 'win':
          return parts.wonReasons
            ? { type: 'exitCriteriaMetWithWonReason', params: { required: parts.required ?? [], reasons: parts.wonReasons } }
            : { type: 'exitCriteriaMet', params: { required: parts.required ?? [] } };
        case 'lose':
          return { type: 'isAllowedLostReason', params: { reasons: parts.reasons ?? [] } };
        case 'reopen': {
          // The guard knows the stage a deal closed in from the machine's context, so the transition
          // lists the closing stages it may come back from.
          const closedIn = definition.stages.map((stage) => stage.id).filter((from) => !structuralViolation({ kind: 'reopen', closedIn: from, to: step.to }));
          return closedIn.length > 0 ? { type: 'isReopenTo', params: { stage: step.to, closedIn } } : undefined;
        }
        case 'assign-team':
          return undefined; // not a machine event: teams are checked when details are decided
      }
    },
  };
}

import type { ProcessDefinition } from './process-definition.types';
import { ruleTableOf, type ProcessRuleCode, type ProcessRuleId } from './process-rules';

// Where an open opportunity may go from each stage, asked of the rule table (never re-derived):
// what a board needs to offer only allowed moves and to say why the others are refused.

export interface MoveOption {
  /** A stage id, or "won" / "lost". */
  readonly to: string;
  readonly allowed: boolean;
  /** Exit criteria of the stage left that must be met when the move is made (forward moves and wins). */
  readonly requiredCriteria: readonly string[];
  /** When not allowed: the rule that forbids it, as the API would refuse it. */
  readonly refusal?: { readonly rule: ProcessRuleId; readonly code: ProcessRuleCode; readonly message: string };
}

export interface StageMoves {
  readonly from: string;
  readonly options: readonly MoveOption[];
}

export function stageMovesOf(definition: ProcessDefinition): StageMoves[] {
  const rules = ruleTableOf(definition);
  return definition.stages.map((from) => {
    const options: MoveOption[] = definition.stages
      .filter((to) => to.id !== from.id)
      .map((to) => option(to.id, { kind: 'move', from: from.id, to: to.id }));
    options.push(option('won', { kind: 'win', from: from.id }));
    // Losing is allowed from every stage; only its reason is judged, when it is given.
    options.push({ to: 'lost', allowed: true, requiredCriteria: [] });
    return { from: from.id, options };
  });

  function option(to: string, step: Parameters<typeof rules.structuralViolation>[0]): MoveOption {
    const broken = rules.structuralViolation(step);
    if (broken) return { to, allowed: false, requiredCriteria: [], refusal: { rule: broken.rule, code: broken.code, message: broken.message } };
    const guard = rules.guardOf(step);
    const requiredCriteria = guard && 'required' in guard.params ? guard.params.required : [];
    return { to, allowed: true, requiredCriteria };
  }
}

import type { ProcessDefinition } from '@stagecraft/sales-process';

// An auditor's reading of a stored history, written apart from decide, the machine and the rule
// table: given every event of one opportunity and the definitions of the versions it ran on, it
// lists each step the process rules forbid. A history any path produced (HTTP, the CLI's import,
// a bulk migration) must give none. Tests only.

/** An event as stored: its type and data, untyped, and where it sits in the global log when known. */
export interface AuditedEvent {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly position?: number;
}

/**
 * The definition of a recorded version, and the order versions had been (last) recorded in as of
 * a log position: a migration is judged by the order its decider knew.
 */
export type VersionsOf = (version: string, asOfPosition?: number) => { readonly definition: ProcessDefinition; readonly recordedOrder: number } | undefined;

/** Every broken rule of one opportunity's history, as "revision N: what"; empty when it kept every rule. */
export function auditProcessRules(events: readonly AuditedEvent[], versions: VersionsOf): string[] {
  const problems: string[] = [];
  let definition: ProcessDefinition | undefined;
  let version = '';
  let status: 'none' | 'open' | 'won' | 'lost' = 'none';
  let stage = '';
  let met = new Set<string>();

  const ids = () => definition!.stages.map((s) => s.id);
  const indexOf = (id: string) => ids().indexOf(id);
  const criteriaOf = (id: string) => definition!.stages[indexOf(id)]?.exitCriteria.map((c) => c.id) ?? [];
  const allMet = (id: string) => criteriaOf(id).every((c) => met.has(c));
  // Where one move from `from` may go when `criteria` are met: the rules of DESIGN.md §3.
  const moveAllowed = (from: string, to: string, criteria: Set<string>) => {
    const [f, t] = [indexOf(from), indexOf(to)];
    if (t < 0 || t === f) return false;
    if (t < f) return definition!.rules.allowBackward;
    if (t > f + 1 && !definition!.rules.allowSkipping) return false;
    return criteriaOf(from).every((c) => criteria.has(c));
  };

  events.forEach(({ type, data, position }, revision) => {
    const fail = (what: string) => problems.push(`revision ${revision} (${type}): ${what}`);
    if (type === 'OpportunityOpened') {
      if (status !== 'none') return fail('opened twice');
      version = String(data.processVersion);
      definition = versions(version)?.definition;
      if (!definition) return fail(`unknown version ${version}`);
      if (data.stage !== definition.stages[0]!.id) fail(`opened in ${String(data.stage)}, not the first stage`);
      if (typeof data.teamId === 'string' && definition.teams.length > 0 && !definition.teams.includes(data.teamId)) fail(`team ${data.teamId} does not run the process`);
      status = 'open';
      stage = String(data.stage);
      met = new Set();
      return;
    }
    if (!definition) return fail('an event before the opening');
    switch (type) {
      case 'ExitCriterionMet':
      case 'ExitCriterionRevoked':
        if (status !== 'open' || data.stage !== stage) return fail(`criterion of ${String(data.stage)} while ${status} in ${stage}`);
        if (!criteriaOf(stage).includes(String(data.criterionId))) return fail(`${String(data.criterionId)} is not a criterion of ${stage}`);
        if (type === 'ExitCriterionMet') met.add(String(data.criterionId));
        else met.delete(String(data.criterionId));
        return;
      case 'StageChanged':
        if (status !== 'open' || data.from !== stage) return fail(`moved from ${String(data.from)} while ${status} in ${stage}`);
        if (!moveAllowed(stage, String(data.to), met)) fail(`the move ${stage} → ${String(data.to)} breaks a rule (criteria met: ${[...met].join(',') || 'none'})`);
        stage = String(data.to);
        met = new Set();
        return;
      case 'OpportunityWon':
        if (status !== 'open') return fail(`won while ${status}`);
        if (!definition.rules.winFrom.includes(stage)) fail(`won from ${stage}, not a winFrom stage`);
        if (!allMet(stage)) fail(`won with unmet criteria of ${stage}`);
        if (definition.wonReasons ? !definition.wonReasons.includes(String(data.reason)) : data.reason !== undefined) fail(`won for ${String(data.reason)}, not a won reason`);
        status = 'won';
        return;
      case 'OpportunityLost':
        if (status !== 'open') return fail(`lost while ${status}`);
        if (!definition.lostReasons.includes(String(data.reason))) fail(`lost for ${String(data.reason)}, not a lost reason`);
        status = 'lost';
        return;
      case 'OpportunityReopened': {
        if (status === 'open') return fail('reopened while open');
        const to = String(data.stage);
        // Where it closed, or one move from there with nothing met (a reopened visit starts from none).
        if (to !== stage && !moveAllowed(stage, to, new Set())) fail(`reopened in ${to} after closing in ${stage}`);
        status = 'open';
        stage = to;
        met = new Set();
        return;
      }
      case 'OpportunityDetailsChanged':
        if (status !== 'open') return fail(`details changed while ${status}`);
        if (typeof data.teamId === 'string' && definition.teams.length > 0 && !definition.teams.includes(data.teamId)) fail(`team ${data.teamId} does not run the process`);
        return;
      case 'ExpectedCloseDateChanged':
        if (status !== 'open') return fail(`expected close date changed while ${status}`);
        return;
      case 'ProcessMigrated': {
        if (status !== 'open') return fail(`migrated while ${status}`);
        const from = versions(version, position)!;
        const target = versions(String(data.toVersion), position);
        if (!target || target.recordedOrder <= from.recordedOrder) return fail(`migrated to ${String(data.toVersion)}, not a newer version`);
        const toStage = String(data.toStage);
        const targetIds = target.definition.stages.map((s) => s.id);
        if (!targetIds.includes(toStage)) fail(`continues in ${toStage}, which the target lacks`);
        // Wherever the deal continues (its own stage kept, or another mapped): back, or on the stage
        // right after the last kept one it had passed, never further, and never past a kept one it
        // had not reached (the target may reorder stages or add some before its own).
        const landing = targetIds.indexOf(toStage);
        const before = ids().slice(0, indexOf(stage)).filter((id) => targetIds.includes(id));
        const lastPassed = before.length === 0 ? -1 : Math.max(...before.map((id) => targetIds.indexOf(id)));
        if (landing > lastPassed + 1) fail(`continues in ${toStage}, more than one stage past ${before.length === 0 ? 'the start' : targetIds[lastPassed]}, the last kept stage it had passed`);
        const keptAfter = ids().slice(indexOf(stage) + 1).filter((id) => targetIds.includes(id));
        const unreached = keptAfter.find((id) => landing > targetIds.indexOf(id));
        if (unreached !== undefined) fail(`continues in ${toStage}, past ${unreached}, which followed ${stage} and the target keeps`);
        // A stage the target keeps where the deal may stand keeps the deal.
        if (targetIds.includes(stage) && toStage !== stage && targetIds.indexOf(stage) <= Math.min(lastPassed + 1, ...keptAfter.map((id) => targetIds.indexOf(id)))) fail(`the target keeps ${stage}, yet the deal continues in ${toStage}`);
        const kept = (data.criteriaKept as string[]) ?? [];
        const targetCriteria = target.definition.stages.find((s) => s.id === toStage)?.exitCriteria.map((c) => c.id) ?? [];
        for (const criterion of kept) if (!met.has(criterion) || !targetCriteria.includes(criterion)) fail(`keeps ${criterion}, not met here or not a criterion of ${toStage}`);
        // Another stage of the version it leaves is entered, not continued: none of its criteria was met in this visit.
        if (kept.length > 0 && toStage !== stage && ids().includes(toStage)) fail(`keeps ${kept.join(', ')} of ${stage} on ${toStage}, another stage of its version, never met there`);
        definition = target.definition;
        version = String(data.toVersion);
        stage = toStage;
        met = new Set(kept);
        return;
      }
      case 'NoChangeRecorded':
        return; // a keyed command that changed nothing: no rule to check
      default:
        return fail('an event type the auditor does not know');
    }
  });
  return problems;
}

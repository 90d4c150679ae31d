import type { CompiledProcess, MachinePosition, ProcessStep, SalesProcessEvent } from '@stagecraft/sales-process';
import { definedOnly } from './defined-only';
import type {
  ChangeOpportunityDetails,
  LoseOpportunity,
  MeetExitCriterion,
  MigrateOpportunity,
  MoveOpportunityToStage,
  OpenOpportunity,
  OpportunityCommand,
  ReopenOpportunity,
  RevokeExitCriterion,
  WinOpportunity,
} from './opportunity.commands';
import { rejections, ruleRejection, type OpportunityRejection } from './opportunity.errors';
import type { NoChangeRecorded, OpportunityDetails, OpportunityEvent } from './opportunity.events';
import type { OpenOpportunityState, OpportunityState, OpenedOpportunityState } from './opportunity.state';
import { isValidAmount } from './amount';
import { isoTextOf, parseInstant, storedInstant } from './instant';
import { parseCalendarDay } from './calendar-date';
import { firstTextFault } from './storable-text';

export type Decision =
  | { readonly ok: true; readonly events: readonly OpportunityEvent[] }
  | { readonly ok: false; readonly error: OpportunityRejection };

/**
 * The other recorded versions of the opportunity's process, for migrations: a version and the
 * order it was (last) recorded in, or undefined when the process has no such version.
 */
export type ProcessVersionLookup = (version: string) => { readonly process: CompiledProcess; readonly recordedOrder: number } | undefined;

const accepted = (...events: OpportunityEvent[]): Decision => ({ ok: true, events });
const rejected = (error: OpportunityRejection): Decision => ({ ok: false, error });

/**
 * Decides what a command means for an opportunity: the events to append, or why not.
 * `process` must be the compiled version the opportunity runs on (for OpenOpportunity, the
 * version it will open with). The machine is the authority on what is allowed; when it says no,
 * the process's rule table (the one the machine's guards ask) says which rule refused and why.
 */
export function decide(command: OpportunityCommand, state: OpportunityState, process: CompiledProcess, versions?: ProcessVersionLookup): Decision {
  // Whatever path a command came by (HTTP, the CLI's import, a library caller), no text it would
  // record may be one a read model cannot keep (storable-text.ts).
  const badText = firstTextFault(command);
  if (badText !== undefined) return rejected(rejections.invalidText(badText.field, badText.reason));
  const time = resolveOccurredAt(command, state);
  if (!time.ok) return time;
  const occurredAt = time.occurredAt;

  if (command.type === 'OpenOpportunity') {
    return state.status === 'none' ? decideOpen(command, process, occurredAt) : rejected(rejections.alreadyOpened(command.opportunityId));
  }
  if (state.status === 'none') return rejected(rejections.notFound(command.opportunityId));
  if (state.processVersion !== process.version || state.processId !== process.definition.id) {
    // A wiring mistake, not a client's: the caller must pass the version the opportunity runs on.
    throw new Error(
      `decide() got process ${process.definition.id}@${process.version} for an opportunity on ${state.processId}@${state.processVersion}`,
    );
  }

  const at = { opportunityId: state.id, occurredAt };
  switch (command.type) {
    case 'MeetExitCriterion':
      return decideMeetCriterion(command, state, process, at);
    case 'RevokeExitCriterion':
      return decideRevokeCriterion(command, state, process, at);
    case 'MoveOpportunityToStage':
      return decideMove(command, state, process, at);
    case 'WinOpportunity':
      return decideWin(command, state, process, at);
    case 'LoseOpportunity':
      return decideLose(command, state, process, at);
    case 'ReopenOpportunity':
      return decideReopen(command, state, process, at);
    case 'ChangeOpportunityDetails':
      return decideChangeDetails(command, state, process, at);
    case 'MigrateOpportunity':
      if (!versions) throw new Error('decide() needs the process versions to decide a migration');
      return decideMigrate(command, state, process, versions, at);
    default: {
      const exhaustive: never = command;
      throw new Error(`Unknown command ${(exhaustive as { type: string }).type}`);
    }
  }
}

type EventStamp = { readonly opportunityId: string; readonly occurredAt: string };

function decideOpen(command: OpenOpportunity, process: CompiledProcess, occurredAt: string): Decision {
  const invalid = checkDetails(command, process);
  if (invalid) return rejected(invalid);
  const { opportunityId, title, teamId, ownerId, amount, currency, expectedCloseDate } = command;
  if (expectedCloseDate !== undefined && parseCalendarDay(expectedCloseDate) === undefined) return rejected(rejections.invalidExpectedCloseDate(expectedCloseDate));
  const opened: OpportunityEvent = {
    type: 'OpportunityOpened',
    data: {
      opportunityId,
      occurredAt,
      processId: process.definition.id,
      processVersion: process.version,
      stage: process.initialStage.id,
      title,
      ...definedOnly({ teamId, ownerId, amount, currency }),
    },
  };
  return expectedCloseDate === undefined
    ? accepted(opened)
    : accepted(opened, { type: 'ExpectedCloseDateChanged', data: { opportunityId, occurredAt, from: null, to: expectedCloseDate } });
}

/**
 * The event that records a client-keyed command `decide` accepted without events (NoChangeRecorded),
 * at the business time the command names (or now). Call it only with a command decide() accepted
 * on this state.
 */
export function noChangeRecorded(command: OpportunityCommand, state: OpportunityState): NoChangeRecorded {
  if (state.status === 'none') throw new Error(`${command.type} changed nothing on an opportunity that does not exist: decide() refuses that`);
  const time = resolveOccurredAt(command, state);
  if (!time.ok) throw new Error(`${command.type} has a business time decide() refuses: ${time.error.code}`);
  return { type: 'NoChangeRecorded', data: { opportunityId: state.id, occurredAt: time.occurredAt, command: command.type } };
}

function decideMeetCriterion(command: MeetExitCriterion, state: OpenedOpportunityState, process: CompiledProcess, at: EventStamp): Decision {
  const { criterionId } = command;
  return withMachine(process, state, { type: 'MEET_CRITERION', criterionId }, (open) => ({
    type: 'ExitCriterionMet',
    data: { ...at, stage: open.stage, criterionId, ...definedOnly({ note: command.note }) },
  }), (open) => {
    if (!process.criterion(open.stage, criterionId)) return rejected(unknownCriterion(criterionId, open, process));
    return accepted(); // already met during this visit: nothing new to record
  });
}

function decideRevokeCriterion(command: RevokeExitCriterion, state: OpenedOpportunityState, process: CompiledProcess, at: EventStamp): Decision {
  const { criterionId } = command;
  return withMachine(process, state, { type: 'REVOKE_CRITERION', criterionId }, (open) => ({
    type: 'ExitCriterionRevoked',
    data: { ...at, stage: open.stage, criterionId, ...definedOnly({ note: command.note }) },
  }), (open) => {
    if (!process.criterion(open.stage, criterionId)) return rejected(unknownCriterion(criterionId, open, process));
    return accepted(); // not met: nothing to revoke
  });
}

function decideMove(command: MoveOpportunityToStage, state: OpenedOpportunityState, process: CompiledProcess, at: EventStamp): Decision {
  const to = command.stage;
  return withMachine(process, state, { type: 'MOVE', to }, (open) => ({
    type: 'StageChanged',
    data: {
      ...at,
      from: open.stage,
      to,
      direction: process.stageIndex(to) > process.stageIndex(open.stage) ? 'forward' : 'backward',
      ...definedOnly({ note: command.note }),
    },
  }), (open) => explainByRules(process, open, { kind: 'move', from: open.stage, to }));
}

function decideWin(command: WinOpportunity, state: OpenedOpportunityState, process: CompiledProcess, at: EventStamp): Decision {
  const { reason } = command;
  return withMachine(process, state, { type: 'WIN', ...definedOnly({ reason }) }, (open) => ({
    type: 'OpportunityWon',
    data: { ...at, stage: open.stage, ...definedOnly({ amount: open.amount, reason, note: command.note, nextSteps: command.nextSteps }) },
  }), (open) => explainByRules(process, open, { kind: 'win', from: open.stage, ...definedOnly({ reason }) }));
}

function decideLose(command: LoseOpportunity, state: OpenedOpportunityState, process: CompiledProcess, at: EventStamp): Decision {
  const { reason } = command;
  return withMachine(process, state, { type: 'LOSE', reason }, (open) => ({
    type: 'OpportunityLost',
    data: { ...at, stage: open.stage, reason, ...definedOnly({ note: command.note, nextSteps: command.nextSteps }) },
  }), (open) => explainByRules(process, open, { kind: 'lose', from: open.stage, reason }));
}

function decideReopen(command: ReopenOpportunity, state: OpenedOpportunityState, process: CompiledProcess, at: EventStamp): Decision {
  if (state.status === 'open') return rejected(rejections.notClosed(state.stage));
  const stage = command.stage ?? state.stage;
  const event: SalesProcessEvent = { type: 'REOPEN', stage };
  const allowed = process.can(positionOf(state), event);
  const broken = process.ruleTable.violation({ kind: 'reopen', closedIn: state.stage, to: stage }, []);
  if (allowed === (broken !== undefined)) throw machineDisagrees(event, state);
  if (broken) return rejected(ruleRejection(broken));
  return accepted({ type: 'OpportunityReopened', data: { ...at, stage, ...definedOnly({ note: command.note }) } });
}

function decideChangeDetails(command: ChangeOpportunityDetails, state: OpenedOpportunityState, process: CompiledProcess, at: EventStamp): Decision {
  if (state.status !== 'open') return rejected(rejections.alreadyClosed(state.status));
  const invalid = checkDetails(command, process);
  if (invalid) return rejected(invalid);
  const { expectedCloseDate } = command;
  if (expectedCloseDate !== undefined && expectedCloseDate !== null && parseCalendarDay(expectedCloseDate) === undefined) {
    return rejected(rejections.invalidExpectedCloseDate(expectedCloseDate));
  }
  const keys: readonly (keyof OpportunityDetails)[] = ['title', 'teamId', 'ownerId', 'amount', 'currency'];
  const changes = Object.fromEntries(
    keys.filter((key) => command[key] !== undefined && command[key] !== state[key]).map((key) => [key, command[key]]),
  ) as Partial<OpportunityDetails>;
  const events: OpportunityEvent[] = [];
  if (Object.keys(changes).length > 0) events.push({ type: 'OpportunityDetailsChanged', data: { ...at, ...changes } });
  const from = state.expectedCloseDate ?? null;
  if (expectedCloseDate !== undefined && expectedCloseDate !== from) {
    events.push({ type: 'ExpectedCloseDateChanged', data: { ...at, from, to: expectedCloseDate } });
  }
  return accepted(...events); // nothing differs: nothing to record
}

function decideMigrate(command: MigrateOpportunity, state: OpenedOpportunityState, process: CompiledProcess, versions: ProcessVersionLookup, at: EventStamp): Decision {
  if (state.status !== 'open') return rejected(rejections.alreadyClosed(state.status));
  const target = versions(command.toVersion);
  const current = versions(state.processVersion);
  if (!target) return rejected(rejections.unknownProcessVersion(state.processId, command.toVersion));
  if (!current || target.recordedOrder <= current.recordedOrder) return rejected(rejections.notANewerVersion(state.processVersion, command.toVersion));
  const mapping = command.stageMapping ?? {};
  const sourceStages = stageIds(process);
  const targetStages = stageIds(target.process);
  const invalidMapping = stageMappingRejection(mapping, process, target.process);
  if (invalidMapping) return rejected(invalidMapping);
  // The target's teams bind the deal as an opening would: a version its team no longer runs is not
  // one it may move on (its team must change first, on the version it runs on now).
  const team = state.teamId === undefined ? undefined : target.process.ruleTable.violation({ kind: 'assign-team', teamId: state.teamId }, []);
  if (team) return rejected(ruleRejection(team));
  // Own entries only: a stage named like an inherited property (constructor) is a stage too.
  const toStage = Object.hasOwn(mapping, state.stage) ? mapping[state.stage]! : state.stage;
  if (target.process.stageIndex(toStage) < 0) return rejected(rejections.unmappedStage(state.stage, command.toVersion, targetStages));
  // A stage the target keeps, but behind a stage the deal never reached (the stages reordered, or
  // one added before it): kept there, the deal would skip that stage and its exit criteria.
  const furthest = furthestMappedStage(state.stage, sourceStages, targetStages);
  if (toStage === state.stage && targetStages.indexOf(toStage) > furthest) {
    return rejected(rejections.invalidStageMapping(state.stage, toStage, 'kept-stage-past-next-stage', targetStages.slice(0, furthest + 1)));
  }
  // The visit continues in the stage itself, or in one the source version lacks (a stage renamed or
  // merged): the criteria it met there that the target stage also has stay met. A stage the source
  // version has too is another stage with criteria of its own, never met in this visit: as on any
  // entry, it starts with none (its ids may repeat those of the stage left).
  const continued = toStage === state.stage || !sourceStages.includes(toStage);
  const targetCriteria = continued ? target.process.stage(toStage)!.exitCriteria.map((criterion) => criterion.id) : [];
  return accepted({
    type: 'ProcessMigrated',
    data: {
      ...at,
      processId: state.processId,
      fromVersion: state.processVersion,
      toVersion: command.toVersion,
      stageMapping: { ...mapping },
      fromStage: state.stage,
      toStage,
      criteriaKept: state.criteriaMet.filter((id) => targetCriteria.includes(id)),
      ...definedOnly({ note: command.note }),
    },
  });
}

/**
 * The furthest stage (its index in the target) a deal in `from`, a stage the target drops, may be
 * mapped to: the stage right after the last one the target keeps of those before `from` (what the
 * deal passed), and not past the first one it keeps of those after `from` (what it never reached).
 * With none passed, only the target's first stage.
 */
/**
 * Why a stage mapping cannot take deals from the `source` version to the `target` one, judged on
 * the two versions alone (whatever stage a deal is in): a mapping from or to a stage that does not
 * exist, of a stage the target keeps, or past where a deal there may stand. A bulk migration asks
 * it once for all its deals, as each deal's migration does.
 */
export function stageMappingRejection(mapping: Readonly<Record<string, string>>, source: CompiledProcess, target: CompiledProcess): OpportunityRejection | undefined {
  const sourceStages = stageIds(source);
  const targetStages = stageIds(target);
  for (const [from, to] of Object.entries(mapping)) {
    if (!sourceStages.includes(from)) return rejections.invalidStageMapping(from, to, 'unknown-source-stage', sourceStages);
    if (!targetStages.includes(to)) return rejections.invalidStageMapping(from, to, 'unknown-target-stage', targetStages);
    // Nor past where a deal there may stand in the target (furthestMappedStage): it would skip a
    // stage and its exit criteria, a move no rule of either version allows.
    const furthest = furthestMappedStage(from, sourceStages, targetStages);
    // Only stages the target version lacks are mapped: remapping one it keeps would be a move past
    // the rules. Unless the target puts that stage past where a deal in it may stand (stages
    // reordered, or added before it): then it may be mapped back, within that bound.
    if (from !== to && targetStages.includes(from) && targetStages.indexOf(from) <= furthest) return rejections.invalidStageMapping(from, to, 'stage-still-exists', targetStages);
    if (targetStages.indexOf(to) > furthest) return rejections.invalidStageMapping(from, to, 'past-next-stage', targetStages.slice(0, furthest + 1));
  }
  return undefined;
}

function furthestMappedStage(from: string, sourceStages: readonly string[], targetStages: readonly string[]): number {
  const at = sourceStages.indexOf(from);
  const passed = sourceStages.slice(0, at).map((stage) => targetStages.indexOf(stage)).filter((index) => index >= 0);
  const ahead = sourceStages.slice(at + 1).map((stage) => targetStages.indexOf(stage)).filter((index) => index >= 0);
  const afterPassed = passed.length === 0 ? 0 : Math.max(...passed) + 1;
  return Math.min(afterPassed, ...ahead);
}

/**
 * Asks the machine, restored at the opportunity's position, whether the event is allowed.
 * Yes: emit. No: `explain` says why (or that there is nothing to do). A closed opportunity
 * accepts only REOPEN, so every other event on it is refused as already closed.
 */
function withMachine(
  process: CompiledProcess,
  state: OpenedOpportunityState,
  event: SalesProcessEvent,
  emit: (open: OpenOpportunityState) => OpportunityEvent,
  explain: (open: OpenOpportunityState) => Decision | undefined,
): Decision {
  if (state.status !== 'open') {
    if (process.can(positionOf(state), event)) throw machineDisagrees(event, state);
    return rejected(rejections.alreadyClosed(state.status));
  }
  if (process.can(positionOf(state), event)) return accepted(emit(state));
  const explanation = explain(state);
  if (!explanation) throw machineDisagrees(event, state);
  return explanation;
}

export function positionOf(state: OpenedOpportunityState): MachinePosition {
  return state.status === 'open'
    ? { status: 'open', stage: state.stage, criteriaMet: state.criteriaMet }
    : { status: state.status, stage: state.stage };
}

/** Why the machine refused a step: the first rule of the table it breaks. */
function explainByRules(process: CompiledProcess, open: OpenOpportunityState, step: ProcessStep): Decision | undefined {
  const broken = process.ruleTable.violation(step, open.criteriaMet);
  return broken ? rejected(ruleRejection(broken)) : undefined;
}

// The machine and the explanation are two readings of one definition; if they ever disagree
// that is a bug in this library, and it must be loud rather than silently pick one.
function machineDisagrees(event: SalesProcessEvent, state: OpenedOpportunityState): Error {
  return new Error(`Machine and rule explanation disagree on ${JSON.stringify(event)} in status ${state.status}`);
}

function unknownCriterion(criterionId: string, open: OpenOpportunityState, process: CompiledProcess): OpportunityRejection {
  const known = process.stage(open.stage)!.exitCriteria.map((criterion) => criterion.id);
  return rejections.unknownCriterion(criterionId, open.stage, known);
}

function stageIds(process: CompiledProcess): string[] {
  return process.definition.stages.map((stage) => stage.id);
}

function checkDetails(details: Partial<OpportunityDetails>, process: CompiledProcess): OpportunityRejection | undefined {
  const team = details.teamId === undefined ? undefined : process.ruleTable.violation({ kind: 'assign-team', teamId: details.teamId }, []);
  if (team) return ruleRejection(team);
  if (details.amount !== undefined && !isValidAmount(details.amount)) {
    return rejections.invalidAmount(details.amount);
  }
  return undefined;
}

function resolveOccurredAt(
  command: OpportunityCommand,
  state: OpportunityState,
): { ok: true; occurredAt: string } | { ok: false; error: OpportunityRejection } {
  const now = parseInstant(command.now);
  if (now === undefined) throw new Error(`Command ${command.type} carries an invalid server time "${command.now}"`);
  if (command.occurredAt === undefined) {
    // Server time cannot go backwards in a stream either: a clock step back would reorder history.
    if (state.status === 'none') return { ok: true, occurredAt: isoTextOf(command.now, now) };
    const last = storedInstant(state.lastOccurredAt);
    return { ok: true, occurredAt: last > now ? isoTextOf(state.lastOccurredAt, last) : isoTextOf(command.now, now) };
  }
  const occurred = parseInstant(command.occurredAt);
  if (occurred === undefined) return { ok: false, error: rejections.invalidOccurredAt(command.occurredAt) };
  const occurredAt = isoTextOf(command.occurredAt, occurred);
  if (occurred > now) return { ok: false, error: rejections.occurredAtInFuture(occurredAt, new Date(now).toISOString()) };
  if (state.status !== 'none' && occurred < storedInstant(state.lastOccurredAt)) {
    return { ok: false, error: rejections.occurredAtBeforeLastEvent(occurredAt, state.lastOccurredAt) };
  }
  return { ok: true, occurredAt };
}


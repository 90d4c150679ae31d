import { COMMAND_KEY_STREAM_PREFIX } from '@stagecraft/commands';
import { MAX_STORED_JSON_DEPTH, nestsDeeperThan } from '@stagecraft/event-store';
import { PROCESS_STREAM_PREFIX } from '@stagecraft/sales-process';
import { ACTOR_NAME_RULE, commandFieldFault, fitsRule, fromOpportunityStreamId, NOTE_MAX_LENGTH, VISIBLE_CHARACTER, type FieldRule, isActorName, isOpportunityEventType, type EventDifference, type OpportunityCommand, type OpportunityEvent, type OpportunityEventType } from '@stagecraft/opportunity';
import { isUuid } from '../io/opportunity-id';
import type { PlannedCommand } from './backfill.plan';
import { quoted } from '../io/printable';

/** One event of an exported log (`export --format jsonl`, or its CSV), as import reads it back. */
export interface EventRecord {
  readonly line: number;
  readonly id: string;
  readonly stream: string;
  /** Where the event sat in its stream: an import lands each event at the same revision. */
  readonly revision: number;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

export type ParsedEventRecord = { readonly ok: true; readonly record: EventRecord } | { readonly ok: false; readonly reason: string };

/** Checks the shape of an exported event (already parsed from JSON). */
export function toEventRecord(line: number, value: unknown): ParsedEventRecord {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'is not a JSON object' };
  const record = value as Record<string, unknown>;
  for (const field of ['id', 'stream', 'type'] as const) {
    if (typeof record[field] !== 'string' || record[field] === '') return { ok: false, reason: `${field}: must be a non-empty string` };
  }
  if (!Number.isInteger(record.revision) || (record.revision as number) < 0) return { ok: false, reason: `revision: must be a whole number from 0 (got ${quoted(record.revision)})` };
  for (const field of ['data', 'metadata'] as const) {
    const inner = record[field];
    if (!inner || typeof inner !== 'object' || Array.isArray(inner)) return { ok: false, reason: `${field}: must be a JSON object` };
    // What no store would read back (and what hashing or comparing it would overflow the stack on).
    if (nestsDeeperThan(inner, MAX_STORED_JSON_DEPTH)) return { ok: false, reason: `${field}: is nested deeper than ${MAX_STORED_JSON_DEPTH} levels, which no event of Stagecraft's is` };
  }
  return {
    ok: true,
    record: {
      line,
      id: record.id as string,
      stream: record.stream as string,
      revision: record.revision as number,
      type: record.type as string,
      data: record.data as Record<string, unknown>,
      metadata: record.metadata as Record<string, unknown>,
    },
  };
}

export type EventCommand =
  | {
      readonly kind: 'command';
      readonly opportunityId: string;
      readonly body: PlannedCommand;
      readonly processVersion?: string;
      /** Who did it in the store exported from (its onBehalfOf, else its actor): kept as onBehalfOf. */
      readonly onBehalfOf?: string;
    }
  | {
      /** A keyed command that changed nothing (NoChangeRecorded): made again on the state it meets (unchangingCommand). */
      readonly kind: 'no-change';
      readonly opportunityId: string;
      readonly commandType: string;
      readonly occurredAt: unknown;
      readonly onBehalfOf?: string;
    }
  | { readonly kind: 'skip'; readonly what: SkippedRecord; readonly reason: string }
  | { readonly kind: 'reject'; readonly reason: string };

/** What an export holds that an import does not replay: this store writes its own. */
export type SkippedRecord = 'processVersions' | 'keyClaims';

/**
 * The command that makes the API record this event again: importing replays the log through the
 * decider, so every imported event obeys the same rules as one sent over HTTP (and gets this
 * store's metadata). Process version records are not replayed: versions come from PROCESSES_DIR.
 */
export function commandForEvent(record: EventRecord): EventCommand {
  if (record.stream.startsWith(PROCESS_STREAM_PREFIX)) {
    return { kind: 'skip', what: 'processVersions', reason: 'process version record: this store records the versions PROCESSES_DIR defines' };
  }
  if (record.stream.startsWith(COMMAND_KEY_STREAM_PREFIX)) {
    return { kind: 'skip', what: 'keyClaims', reason: "an opening's idempotency key: the import's own openings claim theirs" };
  }
  const opportunityId = fromOpportunityStreamId(record.stream);
  if (opportunityId === undefined) return { kind: 'reject', reason: `stream ${quoted(record.stream)} is not an opportunity stream` };
  if (!isOpportunityEventType(record.type)) return { kind: 'reject', reason: `event type ${quoted(record.type)} cannot be imported by this version` };
  if (record.data.opportunityId !== opportunityId) return { kind: 'reject', reason: `data.opportunityId ${quoted(String(record.data.opportunityId))} does not match stream ${quoted(record.stream)}` };
  if (record.data.occurredAt === undefined) return { kind: 'reject', reason: 'data.occurredAt: is required' };
  // What the API could never have recorded is not brought in by the back door: a deal whose id is
  // not a UUID no route can address (the backfill maps such source ids to UUIDs; an export holds
  // UUIDs only), nor a field the API's body would refuse (below): a team or owner outside the id
  // rule no filter or team-limited key can name, a title no card can show.
  if (!isUuid(opportunityId)) return { kind: 'reject', reason: `the opportunity id ${quoted(opportunityId)} (of stream "opportunity-<id>") must be a UUID, as the API's routes take it` };

  // Who did it is kept only when the API could have recorded that name: `history` prints it as it
  // stands, so an actor holding ESC would rewrite the terminal of whoever reads the deal's history.
  const actorField = record.metadata.onBehalfOf !== undefined ? 'onBehalfOf' : 'actor';
  const original = record.metadata[actorField];
  if (original !== undefined && (typeof original !== 'string' || !isActorName(original))) {
    return { kind: 'reject', reason: `metadata.${actorField}: must be ${ACTOR_NAME_RULE} (got ${quoted(original)})` };
  }
  const onBehalfOf = original !== undefined ? { onBehalfOf: original } : {};
  // A keyed command that changed nothing holds a revision like any event: skipped, the events after
  // it would have nowhere to land. Which command changes nothing depends on the state it meets.
  if (record.type === 'NoChangeRecorded') {
    if (typeof record.data.command !== 'string') return { kind: 'reject', reason: `data.command: must be the type of a command (got ${quoted(record.data.command)})` };
    return { kind: 'no-change', opportunityId, commandType: record.data.command, occurredAt: record.data.occurredAt, ...onBehalfOf };
  }

  const replay = REPLAYED_AS[record.type];
  const body: Record<string, unknown> = { type: replay.command, opportunityId, occurredAt: record.data.occurredAt };
  for (const [dataField, commandField] of Object.entries(replay.fields)) {
    if (Object.hasOwn(record.data, dataField) && record.data[dataField] !== undefined) body[commandField] = record.data[dataField];
  }
  // The API's body rules, field by field (the table its DTOs are proven against): the executor and
  // decide() trust the values they are given, so a title {"a": 1}, one of spaces only or of 5,000
  // characters, or a currency "eur" would be recorded as the file has it. A note or next steps an
  // earlier API recorded (null, or one that draws nothing) is the one exception (isLegacyNote):
  // replayed as the line has it, it is not judged.
  const judged = Object.fromEntries(Object.entries(body).filter(([field, value]) => !isLegacyNote(field, value)));
  const fault = commandFieldFault(judged as { type: CommandType });
  if (fault !== undefined) {
    const dataField = Object.entries(replay.fields).find(([, commandField]) => commandField === fault.field)?.[0] ?? fault.field;
    return { kind: 'reject', reason: `data.${dataField}: ${fault.reason}${fault.value === undefined ? '' : ` (got ${quoted(fault.value)})`}` };
  }
  return {
    kind: 'command',
    opportunityId,
    body: body as unknown as PlannedCommand,
    ...onBehalfOf,
    ...(record.type === 'OpportunityOpened' ? { processVersion: record.data.processVersion as string } : {}),
  };
}

/**
 * Fields an earlier API recorded as null: until 2026-11-29 (6c1dc9b) a body's null passed as an
 * omitted optional field and was recorded as given, so a move sent with `"note": null` holds
 * `note: null`. It means "none"; the command replays it as it stands, and decide() records the
 * very event the line holds (mustRecord compares them). Every other null is judged by the rules.
 */
const LEGACY_NOTE_FIELDS: ReadonlySet<string> = new Set(['note', 'nextSteps']);
/** What a note or next steps had to be until 2026-11-30: any 1 to NOTE_MAX_LENGTH characters, spaces or a zero-width space only included. */
const LEGACY_NOTE: FieldRule = { kind: 'text', length: [1, NOTE_MAX_LENGTH], rule: `a string of 1 to ${NOTE_MAX_LENGTH} characters` };

/**
 * A note or next steps an earlier API recorded and the rules refuse today: null (above), or one
 * that draws nothing (spaces, a zero-width space), taken until 2026-11-30. Either is a fact of the
 * log, replayed as it stands; a backfill, which records new facts, is judged by today's rules.
 */
export function isLegacyNote(field: string, value: unknown): boolean {
  if (!LEGACY_NOTE_FIELDS.has(field)) return false;
  return value === null || (typeof value === 'string' && !VISIBLE_CHARACTER.test(value) && fitsRule(LEGACY_NOTE, value));
}

type CommandType = OpportunityCommand['type'];
type ReplayedEventType = Exclude<OpportunityEventType, 'NoChangeRecorded'>;
type DataFieldsOf<Type extends ReplayedEventType> = Exclude<keyof Extract<OpportunityEvent, { type: Type }>['data'], 'opportunityId' | 'occurredAt'>;
type CommandFieldsOf<Type extends CommandType> = Exclude<keyof Extract<OpportunityCommand, { type: Type }>, 'type' | 'opportunityId' | 'now' | 'occurredAt'>;
/** How an event of `Type` is replayed: the command that made it, and the data field that gives each of its fields. */
type Replay<Type extends ReplayedEventType> = {
  readonly [Command in CommandType]: { readonly command: Command; readonly fields: { readonly [Field in DataFieldsOf<Type>]?: CommandFieldsOf<Command> } };
}[CommandType];

/**
 * Each event as the command that made it (with the event's opportunity id and occurredAt). What
 * an event holds that no command field gives (the stage an opening starts in, a move's direction,
 * a migration's kept criteria) is decided again, not copied, and compared with the line: the
 * import sends the line's event as the command's `mustRecord`. The spec walks this table against the
 * command field rules, so a field added to a command is checked here once it is replayed.
 */
export const REPLAYED_AS: { readonly [Type in ReplayedEventType]: Replay<Type> } = {
  OpportunityOpened: { command: 'OpenOpportunity', fields: { processId: 'processId', title: 'title', teamId: 'teamId', ownerId: 'ownerId', amount: 'amount', currency: 'currency' } },
  ExitCriterionMet: { command: 'MeetExitCriterion', fields: { criterionId: 'criterionId', note: 'note' } },
  ExitCriterionRevoked: { command: 'RevokeExitCriterion', fields: { criterionId: 'criterionId', note: 'note' } },
  StageChanged: { command: 'MoveOpportunityToStage', fields: { to: 'stage', note: 'note' } },
  OpportunityWon: { command: 'WinOpportunity', fields: { reason: 'reason', note: 'note', nextSteps: 'nextSteps' } },
  OpportunityLost: { command: 'LoseOpportunity', fields: { reason: 'reason', note: 'note', nextSteps: 'nextSteps' } },
  OpportunityReopened: { command: 'ReopenOpportunity', fields: { stage: 'stage', note: 'note' } },
  OpportunityDetailsChanged: { command: 'ChangeOpportunityDetails', fields: { title: 'title', teamId: 'teamId', ownerId: 'ownerId', amount: 'amount', currency: 'currency' } },
  // An opening's expected close date is this event right after it, replayed as a details change.
  ExpectedCloseDateChanged: { command: 'ChangeOpportunityDetails', fields: { to: 'expectedCloseDate' } },
  // Succeeds only where this store's processes hold the version migrated to.
  ProcessMigrated: { command: 'MigrateOpportunity', fields: { toVersion: 'toVersion', stageMapping: 'stageMapping', note: 'note' } },
};

/**
 * Why a line whose command records other events than the line says (or that differs from the event
 * this store holds for it) is rejected: the first field that differs, with the line's value and the
 * one its command records here (`other`: or the store holds; a derived field such as
 * an opening's stage, a move's direction or a win's amount, edited in the file or written by
 * other rules), so what is refused can be found in the file.
 */
export function differenceReason(difference: EventDifference, other = 'its command records'): string {
  const value = (side: unknown) => (side === undefined ? 'nothing' : quoted(side));
  const which = difference.index === 0 ? '' : ` (its event ${difference.index + 1})`;
  return `${difference.field}: the line says ${value(difference.expected)}, but ${other} ${value(difference.decided)} here${which}`;
}

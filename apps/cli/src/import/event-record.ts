import { COMMAND_KEY_STREAM_PREFIX } from '@stagecraft/commands';
import { PROCESS_STREAM_PREFIX } from '@stagecraft/sales-process';
import { CLIENT_ID_RULE, fromOpportunityStreamId, isClientId, isOpportunityEventType, type OpportunityEvent } from '@stagecraft/opportunity';
import { isUuid } from '../io/opportunity-id';
import type { PlannedCommand } from './backfill.plan';

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
  if (!Number.isInteger(record.revision) || (record.revision as number) < 0) return { ok: false, reason: 'revision: must be a whole number from 0' };
  for (const field of ['data', 'metadata'] as const) {
    const inner = record[field];
    if (!inner || typeof inner !== 'object' || Array.isArray(inner)) return { ok: false, reason: `${field}: must be a JSON object` };
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
  | { readonly kind: 'command'; readonly opportunityId: string; readonly body: PlannedCommand; readonly processVersion?: string }
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'reject'; readonly reason: string };

/**
 * The command that makes the API record this event again: importing replays the log through the
 * decider, so every imported event obeys the same rules as one sent over HTTP (and gets this
 * store's metadata). Process version records are not replayed: versions come from PROCESSES_DIR.
 */
export function commandForEvent(record: EventRecord): EventCommand {
  if (record.stream.startsWith(PROCESS_STREAM_PREFIX)) {
    return { kind: 'skip', reason: 'process version record: this store records the versions PROCESSES_DIR defines' };
  }
  if (record.stream.startsWith(COMMAND_KEY_STREAM_PREFIX)) {
    return { kind: 'skip', reason: "an opening's idempotency key: the import's own openings claim theirs" };
  }
  const opportunityId = fromOpportunityStreamId(record.stream);
  if (opportunityId === undefined) return { kind: 'reject', reason: `stream "${record.stream}" is not an opportunity stream` };
  if (!isOpportunityEventType(record.type)) return { kind: 'reject', reason: `event type "${record.type}" cannot be imported by this version` };
  // The import's own commands are keyed anew: a retried command's record has nothing to import.
  if (record.type === 'NoChangeRecorded') return { kind: 'skip', reason: 'a keyed command that changed nothing: nothing to import' };
  if (record.data.opportunityId !== opportunityId) return { kind: 'reject', reason: `data.opportunityId "${String(record.data.opportunityId)}" does not match stream "${record.stream}"` };
  if (typeof record.data.occurredAt !== 'string') return { kind: 'reject', reason: 'data.occurredAt: is missing' };
  // What the API could never have recorded is not brought in by the back door: a deal whose id is
  // not a UUID no route can address (the backfill maps such source ids to UUIDs; an export holds
  // UUIDs only), and a team or owner outside the id rule no filter or team-limited key can name.
  if (!isUuid(opportunityId)) return { kind: 'reject', reason: `the opportunity id ${shown(opportunityId)} (of stream "opportunity-<id>") must be a UUID, as the API's routes take it` };
  const badId = idFieldFault(record.type, record.data);
  if (badId !== undefined) return { kind: 'reject', reason: badId };

  const event = { type: record.type, data: record.data } as OpportunityEvent;
  const at = { opportunityId, occurredAt: event.data.occurredAt };
  const body = ((): PlannedCommand => {
    switch (event.type) {
      case 'OpportunityOpened': {
        const { processId, title, teamId, ownerId, amount, currency } = event.data;
        return { type: 'OpenOpportunity', ...at, processId, title, ...defined({ teamId, ownerId, amount, currency }) };
      }
      case 'ExitCriterionMet':
        return { type: 'MeetExitCriterion', ...at, criterionId: event.data.criterionId, ...defined({ note: event.data.note }) };
      case 'ExitCriterionRevoked':
        return { type: 'RevokeExitCriterion', ...at, criterionId: event.data.criterionId, ...defined({ note: event.data.note }) };
      case 'StageChanged':
        return { type: 'MoveOpportunityToStage', ...at, stage: event.data.to, ...defined({ note: event.data.note }) };
      case 'OpportunityWon':
        return { type: 'WinOpportunity', ...at, ...defined({ reason: event.data.reason, note: event.data.note, nextSteps: event.data.nextSteps }) };
      case 'OpportunityLost':
        return { type: 'LoseOpportunity', ...at, reason: event.data.reason, ...defined({ note: event.data.note, nextSteps: event.data.nextSteps }) };
      case 'OpportunityReopened':
        return { type: 'ReopenOpportunity', ...at, stage: event.data.stage, ...defined({ note: event.data.note }) };
      case 'OpportunityDetailsChanged': {
        const { title, teamId, ownerId, amount, currency } = event.data;
        return { type: 'ChangeOpportunityDetails', ...at, ...defined({ title, teamId, ownerId, amount, currency }) };
      }
      case 'ExpectedCloseDateChanged':
        return { type: 'ChangeOpportunityDetails', ...at, expectedCloseDate: event.data.to };
      case 'NoChangeRecorded':
        throw new Error('NoChangeRecorded is skipped above');
      case 'ProcessMigrated':
        // Succeeds only where this store's processes hold the version migrated to.
        return { type: 'MigrateOpportunity', ...at, toVersion: event.data.toVersion, stageMapping: event.data.stageMapping, ...defined({ note: event.data.note }) };
      default: {
        const exhaustive: never = event;
        throw new Error(`Unknown event ${(exhaustive as { type: string }).type}`);
      }
    }
  })();
  return {
    kind: 'command',
    opportunityId,
    body,
    ...(event.type === 'OpportunityOpened' ? { processVersion: event.data.processVersion } : {}),
  };
}

/** The id fields an event carries (its process, team and owner), checked as the API's bodies check them. */
const ID_FIELDS: Readonly<Record<string, readonly string[]>> = {
  OpportunityOpened: ['processId', 'teamId', 'ownerId'],
  OpportunityDetailsChanged: ['teamId', 'ownerId'],
};

function idFieldFault(type: string, data: Record<string, unknown>): string | undefined {
  for (const field of ID_FIELDS[type] ?? []) {
    const value = data[field];
    if (value === undefined && field !== 'processId') continue;
    if (typeof value !== 'string' || !isClientId(value)) return `data.${field}: must be ${CLIENT_ID_RULE} (got ${shown(value)})`;
  }
  return undefined;
}

/** A value as a reason quotes it: a 50,000-character team is not printed whole. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? 'nothing';
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function defined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

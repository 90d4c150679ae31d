import type { EventDifference, OpportunityRejection } from '@stagecraft/opportunity';
import { quotedValue } from '@stagecraft/sales-process';

// What the command side can refuse with, besides the store's own errors: typed, with a stable
// code each, never an HTTP type. The edge (apps/api/src/http/problem.catalogue.ts) gives each code
// its status; the CLI reports `code: message`.

/** Stable codes of the command side's own errors. A shipped code is never renamed. */
export const COMMAND_ERROR_CODES = [
  'PROCESS.NOT_FOUND',
  'PROCESS.VERSION_NOT_FOUND',
  'COMMAND.IDEMPOTENCY_KEY_REUSED',
  'OPPORTUNITY.CONCURRENT_MODIFICATION',
  'AUTH.TEAM_FORBIDDEN',
  'EVENT_STORE.CHAIN_BROKEN',
] as const;

export type CommandErrorCode = (typeof COMMAND_ERROR_CODES)[number];

/** An error of the command side: `message` says what is wrong and what to do; `details` are facts a client can branch on. */
export abstract class CommandSideError extends Error {
  abstract readonly code: CommandErrorCode;

  constructor(
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ProcessNotFoundError extends CommandSideError {
  readonly code = 'PROCESS.NOT_FOUND';

  constructor(processId: string, known: readonly string[]) {
    super(`There is no process ${quotedValue(processId)}; known processes: ${known.map((id) => quotedValue(id)).join(', ')}.`, { processId });
  }
}

/** An opportunity on a version no longer recorded means the store was tampered with. */
export class ProcessVersionNotFoundError extends CommandSideError {
  readonly code = 'PROCESS.VERSION_NOT_FOUND';

  constructor(processId: string, version: string) {
    super(`Process ${quotedValue(processId)} has no recorded version ${quotedValue(version)}.`, { processId, version });
  }
}

export class IdempotencyKeyReusedError extends CommandSideError {
  readonly code = 'COMMAND.IDEMPOTENCY_KEY_REUSED';

  constructor(commandId: string) {
    super('This Idempotency-Key was already used with a different request; use a new key for a new command.', { commandId });
  }
}

/** The stream kept changing under a command that asked for no particular revision. */
export class ConcurrentModificationError extends CommandSideError {
  readonly code = 'OPPORTUNITY.CONCURRENT_MODIFICATION';

  constructor(attempts: number) {
    super(`The opportunity kept changing while this command was decided (${attempts} attempts); retry shortly.`, { attempts });
  }
}

/** A caller limited to teams touched an opportunity of another team. */
export class TeamForbiddenError extends CommandSideError {
  readonly code = 'AUTH.TEAM_FORBIDDEN';

  constructor(allowed: readonly string[], team: string | undefined) {
    super(
      // A key or token naming no team (teams: []) may act on none: "limited to the teams ," would be an instruction with nothing to follow.
      allowed.length === 0
        ? 'This caller may open or change no opportunity: its key or token names no team.'
        : team === undefined
        ? `This caller is limited to the teams ${allowed.join(', ')}; the opportunity must belong to one of them (give teamId).`
        : `This caller is limited to the teams ${allowed.join(', ')}, not ${quotedValue(team)}.`,
      { allowedTeams: allowed },
    );
  }
}

/** A command the domain refused: its rejection travels to the edge unchanged. */
export class OpportunityRejectedError extends Error {
  constructor(readonly rejection: OpportunityRejection) {
    super(rejection.message);
    this.name = 'OpportunityRejectedError';
  }
}

/**
 * The opportunity's stored events no longer hold their hash chain (an event edited, moved or
 * deleted outside Stagecraft): a command decided on them would be decided on what someone wrote
 * into the file, and its events would chain onto the tampering.
 */
export class StreamChainBrokenError extends CommandSideError {
  readonly code = 'EVENT_STORE.CHAIN_BROKEN';

  constructor(stream: string, revision: number, reason: string, detail: string) {
    super(
      `No command is decided on ${stream}: its stored events no longer hold their hash chain at revision ${revision} (${reason}: ${detail}). The log was altered outside Stagecraft; an auditor can see what with GET /opportunities/{id}/verify or \`npx stagecraft verify <id>\`.`,
      { stream, revision, reason },
    );
  }
}

/**
 * Events this process had read of an opportunity's stream are gone from the log, which still
 * numbers past them (SQLite's position counter is not lowered by a delete): they were deleted by
 * hand, not lost to a restore. A command written now would take their revisions, and the stream
 * would then verify as intact; only the log's position gap (`verify --all`) would still show it.
 */
export class StreamEventsCutError extends CommandSideError {
  readonly code = 'EVENT_STORE.CHAIN_BROKEN';

  constructor(stream: string, gone: { readonly from: number; readonly to: number }, position: number) {
    const revisions = gone.from === gone.to ? `revision ${gone.from}` : `revisions ${gone.from} to ${gone.to}`;
    super(
      `No command is decided on ${stream}: its ${revisions}, which this instance read (the last at log position ${position}), are gone from the event store, though the log numbered them and goes on past them: they were deleted outside Stagecraft. A command now would write over the gap, and \`stagecraft verify <id>\` could not show it. \`npx stagecraft verify --all\` lists the log's gaps; restore the event store from a backup taken before the deletion (or put the events back): commands on it then go on.`,
      { stream, revision: gone.from, reason: 'events-cut', goneRevisions: gone, position },
    );
  }
}

/**
 * A command whose decided events are not the ones its envelope said it must record (`mustRecord`):
 * nothing was appended. Only a caller that sets `mustRecord` meets it (the CLI's import, replaying
 * an exported log); no HTTP route does, so it has no problem code.
 */
export class RecordedEventsDifferError extends Error {
  constructor(readonly difference: EventDifference) {
    const value = (text: unknown) => (text === undefined ? 'nothing' : quotedValue(text, 200));
    super(`The command would record ${difference.field} ${value(difference.decided)} where ${value(difference.expected)} was expected (event ${difference.index}); nothing was appended.`);
    this.name = 'RecordedEventsDifferError';
  }
}

import type { ProcessDetail } from '@stagecraft/contracts';
import type { BoardCard, BoardColumn, MoveTarget } from './board.model';
import { isolated, quotedTitle } from './format';

// Which columns a card may go to, as the API's move table (GET /processes/:id `moves`) says:
// the board asks the process's rules instead of knowing them. Pure: moves.model.spec.ts.

export interface MoveChoice {
  readonly target: MoveTarget;
  readonly allowed: boolean;
  /** Why not, in words (stage names, not ids); null when allowed. */
  readonly reason: string | null;
}

/** One process version as the board names and judges a deal on it: its stages (names, criteria, reasons) and its move table. */
export type VersionDetail = Pick<ProcessDetail, 'definition' | 'moves'>;
type Detail = VersionDetail;

/**
 * The process a card is named and judged by: its own version's (GET /processes/:id?version=), not
 * the current version's, which may allow what its version refuses, refuse what it allows, and name
 * its stages otherwise. A closed card too: its version's rules decide where it may reopen. The
 * current version for a card on it (or one the answer does not say the version of); for a version
 * not known (yet), the current names and no moves, left to the API.
 */
export function detailForCard(detail: Pick<ProcessDetail, 'definition' | 'moves' | 'version'>, versions: ReadonlyMap<string, VersionDetail>, card: Pick<BoardCard, 'processVersion'>): Detail {
  if (card.processVersion === null || card.processVersion === detail.version) return detail;
  return versions.get(card.processVersion) ?? { definition: detail.definition, moves: [] };
}

/** The versions of the cards that are not the current one: their moves are asked for once each (versions never change). */
export function otherVersions(columns: readonly BoardColumn[], current: string): string[] {
  return [...new Set(columns.flatMap((column) => column.cards.map((card) => card.processVersion)).filter((version): version is string => version !== null && version !== current))];
}

/**
 * Every other column with whether the card may go there. An open card: as the move table of its
 * own version says (detailForCard; a card in a stage the table does not know is left to the API,
 * a column the table does not list is refused). A closed card: only the stages, as a reopening
 * (reopenable below).
 */
export function moveChoices(columns: readonly BoardColumn[], card: Pick<BoardCard, 'stageId' | 'status'> & Partial<Pick<BoardCard, 'closedInStage'>>, detail: Detail | null): MoveChoice[] {
  const options = detail?.moves.find((entry) => entry.from === card.stageId)?.options;
  const reopenIn = card.status === 'open' ? undefined : reopenable(card.closedInStage ?? null, detail);
  return columns
    .filter((column) => column.key !== card.stageId)
    .map((column): MoveChoice => {
      if (card.status !== 'open') {
        if (column.target.kind !== 'stage') return { target: column.target, allowed: false, reason: `A ${card.status} deal can only be reopened in a stage.` };
        if (!reopenIn || reopenIn.has(column.key)) return { target: column.target, allowed: true, reason: null };
        // Its own version may have had a stage the current one dropped: named as its column is, else its id.
        const closedIn = detail!.definition.stages.find((stage) => stage.id === card.closedInStage)?.name ?? columns.find((entry) => entry.key === card.closedInStage)?.name ?? card.closedInStage!;
        return { target: column.target, allowed: false, reason: `it closed in ${isolated(closedIn)}, and a reopened deal returns there or where one move from there may go with no criteria met.` };
      }
      const option = options?.find((candidate) => candidate.to === column.key);
      // A column its version's table does not list: a stage only another version has (UNKNOWN_STAGE at the API).
      if (options && !option) return { target: column.target, allowed: false, reason: `${isolated(column.name)} is not a stage of the process version this deal runs on.` };
      if (!option || option.allowed) return { target: column.target, allowed: true, reason: null };
      return { target: column.target, allowed: false, reason: detail ? inWords(option.refusal?.message ?? 'The process does not allow this move.', detail.definition) : null };
    });
}

/**
 * Stages a closed deal may reopen in, as the API's reopen rule has it (process-rules.ts): the stage
 * it closed in, or one a move from there may reach with none of its criteria met (allowed in the
 * move table and needing no criteria). Undefined, leaving it to the API, when the stage it closed
 * in is unknown or not in the table. The table is the deal's own version's (detailForCard), whose
 * stages the current definition may not all have: every target but the outcomes is a stage.
 */
export function reopenable(closedInStage: string | null, detail: Detail | null): ReadonlySet<string> | undefined {
  const options = closedInStage === null ? undefined : detail?.moves.find((entry) => entry.from === closedInStage)?.options;
  if (!options || !detail) return undefined;
  return new Set([closedInStage!, ...options.filter((option) => option.allowed && option.requiredCriteria.length === 0 && option.to !== 'won' && option.to !== 'lost').map((option) => option.to)]);
}

/** A target named in a sentence ("moved to …", "Move to …"): a stage's name isolated (U+2068 … U+2069), as the process named it; Won and Lost are the board's words. */
export function targetInSentence(target: MoveTarget): string {
  return target.kind === 'stage' ? isolated(target.name) : target.name;
}

/** The targets a menu offers: only the allowed ones. */
export function allowedTargets(choices: readonly MoveChoice[]): MoveTarget[] {
  return choices.filter((choice) => choice.allowed).map((choice) => choice.target);
}

/**
 * A deal the board drew that the API does not find for this key (404 OPPORTUNITY.NOT_FOUND): for a
 * key limited to teams, most likely moved to a team the key does not see (the API answers "not
 * found" rather than tell a team-limited key of another team's deal); for a key that sees every
 * team, that cannot be: its stream was deleted in the event store (README: Deleting or
 * truncating an opportunity's stream). Said as that, not as the API's
 * "Opportunity … does not exist; open it first", which is untrue of a deal on the rep's screen.
 * Such a key is told of a stream deleted or hidden whole by a store setting (410 STREAM_DELETED,
 * STREAM_HIDDEN, whose detail is written for an auditor): gone too, said the same.
 */
export function isGone(problem: { readonly status: number; readonly code: string }): boolean {
  if (problem.status === 410) return problem.code === 'EVENT_STORE.STREAM_HIDDEN' || problem.code === 'EVENT_STORE.STREAM_DELETED';
  return problem.status === 404 && problem.code === 'OPPORTUNITY.NOT_FOUND';
}

export function goneText(title: string, limitedToTeams: boolean): string {
  return limitedToTeams
    ? `${quotedTitle(title)} is no longer on this board: it may have been moved to a team this key does not see.`
    : `${quotedTitle(title)} is no longer found: its records may have been deleted from the event store.`;
}

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

/**
 * An API message for people who never saw the YAML: quoted stage ids become stage names,
 * criterion ids their descriptions, other quoted ids lose their quotes; opportunity ids go. A name
 * or value so set in the sentence is isolated (U+2068 … U+2069; other quoted values keep their
 * quotes outside the isolate, as quotedTitle): a right-to-left stage name or team reordered the
 * words, quotes and other names around it. Won and Lost are the board's own words.
 */
export function inWords(message: string, definition: Detail['definition'] | null): string {
  const stageName = new Map(definition?.stages.map((stage) => [stage.id, stage.name]) ?? []);
  const criterion = new Map(definition?.stages.flatMap((stage) => stage.exitCriteria.map((entry) => [entry.id, entry.description] as const)) ?? []);
  return message
    .replace(/"((?:[^"\\]|\\.)*)"/g, (_quoted, value: string) => {
      if (!/^[A-Za-z0-9_-]+$/.test(value)) return `"${isolated(value)}"`;
      const name = stageName.get(value);
      if (name !== undefined) return isolated(name);
      // An opportunity id is left bare for the next step to drop.
      return value === 'won' ? 'Won' : value === 'lost' ? 'Lost' : new RegExp(`^${UUID.source}$`, 'i').test(value) ? value : isolated(value);
    })
    .replace(/\b([a-z0-9][a-z0-9_-]*) \(([^()]+)\)/g, (whole, id: string, description: string) => (criterion.get(id) === description ? isolated(description) : whole))
    .replace(UUID, 'this deal')
    .replace(/ {2,}/g, ' ');
}

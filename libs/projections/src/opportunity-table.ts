import {
  int32Column,
  opportunityIdOf,
  pushInt32,
  type Int32Column,
  type ParsedFilter,
} from './projection.helpers';
import type { OpportunityDetails, OpportunityOpened } from '@stagecraft/opportunity';

// Every read model keeps its opportunities as rows of typed-array columns, one row index per
// opportunity, with teams, owners and process ids stored as small integer codes. A query then
// filters 100,000 opportunities with one loop over integers instead of walking objects, and a
// model is a few flat arrays for the runner to snapshot.
//
// Team and owner are the opportunity's CURRENT ones: OpportunityDetailsChanged overwrites them,
// so every report filters and groups by who owns the opportunity now, not at each past event.

/** Strings by code and codes by string; codes are dense from 0 in order of first appearance. */
export interface StringCodes {
  readonly codeOf: Map<string, number>;
  readonly values: string[];
}

export const createStringCodes = (): StringCodes => ({ codeOf: new Map(), values: [] });

/** Code for "no value" in a column. */
export const NONE = -1;

/** The code of a string, assigning the next one to a new string; NONE for anything else. */
export function encode(codes: StringCodes, value: unknown): number {
  if (typeof value !== 'string') return NONE;
  let code = codes.codeOf.get(value);
  if (code === undefined) {
    code = codes.values.length;
    codes.values.push(value);
    codes.codeOf.set(value, code);
  }
  return code;
}

export interface OpportunityTable {
  /** Row by opportunity id. No id by row: only the pipeline lists ids, and keeps them itself. */
  readonly indexById: Map<string, number>;
  /** Number of rows. */
  rows: number;
  readonly processes: StringCodes;
  readonly teams: StringCodes;
  readonly owners: StringCodes;
  readonly process: Int32Column;
  readonly team: Int32Column;
  readonly owner: Int32Column;
}

export function createOpportunityTable(): OpportunityTable {
  return {
    indexById: new Map(),
    rows: 0,
    processes: createStringCodes(),
    teams: createStringCodes(),
    owners: createStringCodes(),
    process: int32Column(),
    team: int32Column(),
    owner: int32Column(),
  };
}

/**
 * Adds the row of an OpportunityOpened event and returns its index; -1 when the event is not an
 * opportunity's own or the opportunity is already open (the first opening stands).
 */
export function addOpportunity(table: OpportunityTable, event: Pick<OpportunityOpened, 'data'> & { readonly stream: string }): number {
  const id = opportunityIdOf(event);
  if (id === undefined || table.indexById.has(id)) return -1;
  const index = table.rows++;
  table.indexById.set(id, index);
  const { data } = event;
  pushInt32(table.process, encode(table.processes, data.processId));
  pushInt32(table.team, encode(table.teams, data.teamId));
  pushInt32(table.owner, encode(table.owners, data.ownerId));
  return index;
}

/** The row of the opportunity an event belongs to; -1 for other streams and unopened opportunities. */
export function rowOf(table: OpportunityTable, event: { readonly stream: string; readonly data: { readonly opportunityId: string } }): number {
  const id = opportunityIdOf(event);
  if (id === undefined) return -1;
  const index = table.indexById.get(id);
  return index === undefined ? -1 : index;
}

/** Applies the team and owner of an OpportunityDetailsChanged (only the fields it carries). */
export function changePeople(table: OpportunityTable, index: number, data: Partial<OpportunityDetails>): void {
  if (typeof data.teamId === 'string') table.team.values[index] = encode(table.teams, data.teamId);
  if (typeof data.ownerId === 'string') table.owner.values[index] = encode(table.owners, data.ownerId);
}

/**
 * Which rows a filter's process, team and owner select (1) or not (0); undefined when the filter
 * names none of them, so callers can skip the check. A value never seen selects nothing.
 */
export function matchRows(table: OpportunityTable, filter: Pick<ParsedFilter, 'processId' | 'teamId' | 'ownerId'>): Uint8Array | undefined {
  const { processId, teamId, ownerId } = filter;
  if (processId === undefined && teamId === undefined && ownerId === undefined) return undefined;
  const { rows } = table;
  const selected = new Uint8Array(rows);
  const processCode = processId === undefined ? NONE : table.processes.codeOf.get(processId);
  const teamCode = teamId === undefined ? NONE : table.teams.codeOf.get(teamId);
  const ownerCode = ownerId === undefined ? NONE : table.owners.codeOf.get(ownerId);
  if (processCode === undefined || teamCode === undefined || ownerCode === undefined) return selected;
  const process = table.process.values;
  const team = table.team.values;
  const owner = table.owner.values;
  const anyProcess = +(processCode < 0);
  const anyTeam = +(teamCode < 0);
  const anyOwner = +(ownerCode < 0);
  // Branch-free, as matches are data-dependent: a mispredicted branch costs more than the work.
  for (let row = 0; row < rows; row++) {
    selected[row] = (anyProcess | +(process[row] === processCode)) & (anyTeam | +(team[row] === teamCode)) & (anyOwner | +(owner[row] === ownerCode));
  }
  return selected;
}

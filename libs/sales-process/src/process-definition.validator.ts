import type {
  ExitCriterionDefinition,
  ProcessDefinition,
  ProcessRules,
  StageDefinition,
} from './process-definition.types';
import { VISIBLE_CHARACTER } from './visible-text';

export type DocumentPath = readonly (string | number)[];

export interface RawIssue {
  readonly path: DocumentPath;
  readonly reason: string;
}

export type ValidationResult =
  // isDefault: the file says `default: true` (the process a board opens on). Kept out of the
  // definition, so marking a process as the default does not record a new version of it.
  | { readonly ok: true; readonly definition: ProcessDefinition; readonly isDefault: boolean }
  | { readonly ok: false; readonly issues: readonly RawIssue[] };

// Ids end up in stream names, URLs and CSV headers: keep them boring.
const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const ID_RULE = 'lower-case letters, digits, "-" or "_", starting with a letter or digit, at most 64 characters';
// Outcomes are machine states of their own, so no stage may take their names.
const RESERVED_STAGE_IDS = new Set(['won', 'lost', 'closed']);

/**
 * How large a process may be. Far past any sales process, and what keeps checking one (its rules
 * are compiled stage by stage against every other) quick: 1,000 stages took minutes and ~1 GB.
 */
export const LIMITS = { stages: 100, criteria: 100, ids: 1_000 } as const;

const ROOT_KEYS = ['id', 'name', 'description', 'stages', 'rules', 'lostReasons', 'wonReasons', 'teams', 'default'];
const STAGE_KEYS = ['id', 'name', 'description', 'probability', 'exitCriteria', 'rotAfterDays'];
const CRITERION_KEYS = ['id', 'description'];
const RULE_KEYS = ['allowSkipping', 'allowBackward', 'winFrom'];

export function formatPath(path: DocumentPath): string {
  return path.reduce<string>(
    (text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${part}` : part),
    '',
  );
}

/** Checks a parsed document against the schema of DESIGN.md §3 and applies the defaults. */
export function validateProcessDefinition(raw: unknown): ValidationResult {
  const issues: RawIssue[] = [];
  const report = (path: DocumentPath, reason: string): void => {
    issues.push({ path, reason });
  };

  if (!isRecord(raw)) {
    report([], `must be a mapping with id, name, stages and lostReasons (got ${describe(raw)})`);
    return { ok: false, issues };
  }
  rejectUnknownKeys(raw, ROOT_KEYS, [], report);

  const id = readId(raw, 'id', [], report);
  const name = readText(raw, 'name', [], report);
  const description = readOptionalText(raw, 'description', [], report);
  const { stages, stageIds } = readStages(raw.stages, report);
  const rules = readRules(raw.rules, stages, stageIds, report);
  const lostReasons = readIdList(raw.lostReasons, ['lostReasons'], { required: true }, report);
  const wonReasons = raw.wonReasons === undefined ? undefined : readIdList(raw.wonReasons, ['wonReasons'], { required: true }, report);
  // Left out, teams means every team: an empty list would read as that too, where it most likely meant none yet.
  if (Array.isArray(raw.teams) && raw.teams.length === 0) report(['teams'], 'must not be empty: leave it out to allow every team, or list the teams');
  const teams = readIdList(raw.teams, ['teams'], { required: false }, report);
  if (raw.default !== undefined && typeof raw.default !== 'boolean') report(['default'], `must be true or false (got ${describe(raw.default)})`);

  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    isDefault: raw.default === true,
    definition: { id: id!, name: name!, ...(description ? { description } : {}), stages, rules, lostReasons, ...(wonReasons ? { wonReasons } : {}), teams },
  };
}

type Report = (path: DocumentPath, reason: string) => void;

// Stage ids are collected even from stages with other problems, so rules that refer to them
// are not reported as unknown on top of the real problem.
function readStages(value: unknown, report: Report): { stages: StageDefinition[]; stageIds: Set<string> } {
  const none = { stages: [], stageIds: new Set<string>() };
  if (value === undefined) {
    report(['stages'], 'is required: list the stages in process order');
    return none;
  }
  if (!Array.isArray(value)) {
    report(['stages'], `must be a list of stages (got ${describe(value)})`);
    return none;
  }
  if (value.length === 0) {
    report(['stages'], 'must list at least one stage');
    return none;
  }
  if (value.length > LIMITS.stages) {
    report(['stages'], `lists ${value.length} stages; a process has at most ${LIMITS.stages}`);
    return none;
  }
  const seen = new Map<string, number>();
  const stages: StageDefinition[] = [];
  value.forEach((item, index) => {
    const path = ['stages', index];
    if (!isRecord(item)) {
      report(path, `must be a mapping with id, name and probability (got ${describe(item)})`);
      return;
    }
    rejectUnknownKeys(item, STAGE_KEYS, path, report);
    const id = readId(item, 'id', path, report);
    if (id !== undefined) {
      if (RESERVED_STAGE_IDS.has(id)) {
        report([...path, 'id'], `"${id}" is reserved for outcomes; won and lost are not stages`);
      } else if (seen.has(id)) {
        report([...path, 'id'], `duplicate stage id "${id}" (already used by stages[${seen.get(id)}])`);
      } else {
        seen.set(id, index);
      }
    }
    const name = readText(item, 'name', path, report);
    const description = readOptionalText(item, 'description', path, report);
    const probability = readProbability(item.probability, [...path, 'probability'], report);
    const exitCriteria = readCriteria(item.exitCriteria, [...path, 'exitCriteria'], report);
    const rotAfterDays = readRotAfterDays(item.rotAfterDays, [...path, 'rotAfterDays'], report);
    if (id !== undefined && name !== undefined && probability !== undefined) {
      stages.push({ id, name, ...(description ? { description } : {}), probability, exitCriteria, ...(rotAfterDays !== undefined ? { rotAfterDays } : {}) });
    }
  });
  return { stages, stageIds: new Set(seen.keys()) };
}

function readProbability(value: unknown, path: DocumentPath, report: Report): number | undefined {
  if (value === undefined) {
    report(path, 'is required: a number from 0 to 100');
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
    report(path, `must be a number from 0 to 100 (got ${describe(value)})`);
    return undefined;
  }
  return value;
}

// A whole number of days: "rotting after 2.5 days" would be read on a board as 2 or 3.
const MAX_ROT_AFTER_DAYS = 3650;

function readRotAfterDays(value: unknown, path: DocumentPath, report: Report): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_ROT_AFTER_DAYS) {
    report(path, `must be a whole number of days from 1 to ${MAX_ROT_AFTER_DAYS} (got ${describe(value)})`);
    return undefined;
  }
  return value;
}

function readCriteria(value: unknown, path: DocumentPath, report: Report): ExitCriterionDefinition[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    report(path, `must be a list of { id, description } (got ${describe(value)})`);
    return [];
  }
  if (value.length > LIMITS.criteria) {
    report(path, `lists ${value.length} exit criteria; a stage has at most ${LIMITS.criteria}`);
    return [];
  }
  const seen = new Map<string, number>();
  const criteria: ExitCriterionDefinition[] = [];
  value.forEach((item, index) => {
    const itemPath = [...path, index];
    if (!isRecord(item)) {
      report(itemPath, `must be a mapping with id and description (got ${describe(item)})`);
      return;
    }
    rejectUnknownKeys(item, CRITERION_KEYS, itemPath, report);
    const id = readId(item, 'id', itemPath, report);
    if (id !== undefined) {
      if (seen.has(id)) {
        report([...itemPath, 'id'], `duplicate exit criterion id "${id}" in this stage (already used by exitCriteria[${seen.get(id)}])`);
      } else {
        seen.set(id, index);
      }
    }
    const description = readText(item, 'description', itemPath, report);
    if (id !== undefined && description !== undefined) criteria.push({ id, description });
  });
  return criteria;
}

function readRules(
  value: unknown,
  stages: readonly StageDefinition[],
  stageIds: ReadonlySet<string>,
  report: Report,
): ProcessRules {
  const lastStage = stages[stages.length - 1]?.id;
  const defaults: ProcessRules = {
    allowSkipping: false,
    allowBackward: true,
    winFrom: lastStage ? [lastStage] : [],
  };
  if (value === undefined || value === null) return defaults;
  if (!isRecord(value)) {
    report(['rules'], `must be a mapping with allowSkipping, allowBackward and winFrom (got ${describe(value)})`);
    return defaults;
  }
  rejectUnknownKeys(value, RULE_KEYS, ['rules'], report);
  const allowSkipping = readBoolean(value, 'allowSkipping', defaults.allowSkipping, report);
  const allowBackward = readBoolean(value, 'allowBackward', defaults.allowBackward, report);
  let winFrom = defaults.winFrom;
  if (value.winFrom !== undefined) {
    winFrom = readIdList(value.winFrom, ['rules', 'winFrom'], { required: true }, report);
    winFrom.forEach((stageId, index) => {
      if (!stageIds.has(stageId)) {
        report(['rules', 'winFrom', index], `unknown stage "${stageId}"; known stages: ${[...stageIds].join(', ')}`);
      }
    });
  }
  return { allowSkipping, allowBackward, winFrom };
}

function readBoolean(record: Record<string, unknown>, key: string, fallback: boolean, report: Report): boolean {
  const value = record[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    report(['rules', key], `must be true or false (got ${describe(value)})`);
    return fallback;
  }
  return value;
}

function readIdList(
  value: unknown,
  path: DocumentPath,
  options: { required: boolean },
  report: Report,
): string[] {
  if (value === undefined || value === null) {
    if (options.required) report(path, 'is required: a non-empty list of ids');
    return [];
  }
  if (!Array.isArray(value)) {
    report(path, `must be a list of ids (got ${describe(value)})`);
    return [];
  }
  if (options.required && value.length === 0) {
    report(path, 'must not be empty');
    return [];
  }
  if (value.length > LIMITS.ids) {
    report(path, `lists ${value.length} ids; at most ${LIMITS.ids}`);
    return [];
  }
  const ids: string[] = [];
  value.forEach((item, index) => {
    if (typeof item !== 'string' || !ID_PATTERN.test(item)) {
      report([...path, index], `must be an id: ${ID_RULE} (got ${describe(item)})`);
    } else if (ids.includes(item)) {
      report([...path, index], `duplicate "${item}"`);
    } else {
      ids.push(item);
    }
  });
  return ids;
}

function readId(record: Record<string, unknown>, key: string, path: DocumentPath, report: Report): string | undefined {
  const value = record[key];
  if (value === undefined) {
    report([...path, key], 'is required');
    return undefined;
  }
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    report([...path, key], `must be an id: ${ID_RULE} (got ${describe(value)})`);
    return undefined;
  }
  return value;
}

/** Control characters (a line break and a tab aside: descriptions span lines) and the bidirectional overrides and isolates. */
const UNSAFE_CHARACTER = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

function readText(record: Record<string, unknown>, key: string, path: DocumentPath, report: Report): string | undefined {
  const value = record[key];
  if (value === undefined) {
    report([...path, key], 'is required');
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    report([...path, key], `must be a non-empty text (got ${describe(value)})`);
    return undefined;
  }
  // Shown on the board and printed by the CLI: something visible, and nothing that changes how the rest of a line reads.
  if (!VISIBLE_CHARACTER.test(value)) {
    report([...path, key], `must have a visible character (got only spaces or invisible characters: ${describe(value)})`);
    return undefined;
  }
  const unsafe = UNSAFE_CHARACTER.exec(value);
  if (unsafe) {
    report([...path, key], `must not hold the control or direction character U+${unsafe[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
    return undefined;
  }
  if (value.length > 500) {
    report([...path, key], `must be at most 500 characters (got ${value.length})`);
    return undefined;
  }
  return value.trim();
}

function readOptionalText(
  record: Record<string, unknown>,
  key: string,
  path: DocumentPath,
  report: Report,
): string | undefined {
  return record[key] === undefined ? undefined : readText(record, key, path, report);
}

function rejectUnknownKeys(
  record: Record<string, unknown>,
  allowed: readonly string[],
  path: DocumentPath,
  report: Report,
): void {
  for (const key of Object.keys(record)) {
    if (key === '<<') {
      // YAML 1.2, which the files are read as, has no merge keys: what a merge would bring is missing too.
      report([...path, key], `YAML merge keys (<<) are not read: write the keys out (an alias, *name, may still stand for a whole value)`);
    } else if (!allowed.includes(key)) {
      report([...path, key], `unknown key "${key}"; allowed here: ${allowed.join(', ')}`);
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

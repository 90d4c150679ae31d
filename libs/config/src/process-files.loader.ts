import { readdirSync } from 'node:fs';
import { pathProblem, shownPath, unreadableFileReason } from './path-problem';
import { readUtf8 } from './utf8-file';
import { join, relative } from 'node:path';
import { parseProcessDocument, ProcessDefinitionError, type ProcessDefinition, type SourcePosition } from '@stagecraft/sales-process';

export interface LoadedProcessFile {
  /** The path as given to the loader joined with the file name, for messages. */
  readonly file: string;
  readonly definition: ProcessDefinition;
  /** The file says `default: true`: the process a board opens on. */
  readonly isDefault: boolean;
  /** Where `id` and `default` are written in the file. */
  readonly positions: { readonly id?: SourcePosition; readonly default?: SourcePosition };
}

/** Reads and validates one process YAML file. Throws ProcessDefinitionError naming the file. */
export function loadProcessFile(file: string): LoadedProcessFile {
  let text: string;
  try {
    text = readUtf8(file);
  } catch (error) {
    throw new ProcessDefinitionError(file, [{ path: '', reason: unreadableFileReason(file, error) }]);
  }
  return { file, ...parseProcessDocument(text, file) };
}

/**
 * The directory itself is unusable (missing, not a directory, unreadable, without a definition):
 * a setting to correct (PROCESSES_DIR), where a bad file in it is a definition to correct. Still a
 * ProcessDefinitionError, so whoever stops on one stops on this.
 */
export class ProcessDirectoryError extends ProcessDefinitionError {
  constructor(directory: string, reason: string) {
    super(directory, [{ path: '', reason }]);
    this.name = 'ProcessDirectoryError';
    // Worded as every other setting's refusal: the variable to correct, then the folder and why.
    this.message = `Invalid setting PROCESSES_DIR: ${shownPath(directory)} ${reason}`;
  }
}

/**
 * Loads every `*.yaml` / `*.yml` file of a directory, sorted by name. Fails on the first bad file,
 * and when two files define the same process id (which one would win would be an accident).
 */
export function loadProcessDirectory(directory: string): LoadedProcessFile[] {
  const problem = pathProblem(directory, 'folder');
  if (problem !== undefined) throw new ProcessDirectoryError(directory, problem);
  let names: string[];
  try {
    names = readdirSync(directory).filter((name) => /\.ya?ml$/i.test(name)).sort();
  } catch (error) {
    throw new ProcessDirectoryError(directory, `cannot be read: ${(error as Error).message}`);
  }
  if (names.length === 0) {
    throw new ProcessDirectoryError(directory, 'holds no process definition (*.yaml); add at least one');
  }
  const loaded = names.map((name) => loadProcessFile(join(directory, name)));
  assertProcessSet(loaded, (file) => relative(directory, file));
  return loaded;
}

/**
 * What files valid one by one must also be together (start-up loads them together, and
 * `processes validate` checks the files it is given the same way): no process id twice (which
 * one would win would be an accident), and at most one default (the board's first screen).
 */
export function assertProcessSet(loaded: readonly LoadedProcessFile[], nameOf: (file: string) => string = (file) => file): void {
  // Each file is named with the line of the field, as a problem within one file is.
  const at = (entry: LoadedProcessFile, field: 'id' | 'default'): string => {
    const position = entry.positions[field];
    return position ? `${nameOf(entry.file)}:${position.line}` : nameOf(entry.file);
  };
  const where = (entry: LoadedProcessFile, field: 'id' | 'default') => {
    const position = entry.positions[field];
    return position ? { line: position.line, column: position.column } : {};
  };
  const byId = new Map<string, LoadedProcessFile>();
  for (const entry of loaded) {
    const other = byId.get(entry.definition.id);
    if (other) {
      throw new ProcessDefinitionError(entry.file, [{ path: 'id', reason: `process id "${entry.definition.id}" is already defined in ${at(other, 'id')}`, ...where(entry, 'id') }]);
    }
    byId.set(entry.definition.id, entry);
  }
  const defaults = loaded.filter((entry) => entry.isDefault);
  if (defaults.length > 1) {
    throw new ProcessDefinitionError(defaults[1]!.file, [{ path: 'default', reason: `only one process may be the default; ${at(defaults[0]!, 'default')} already is`, ...where(defaults[1]!, 'default') }]);
  }
}

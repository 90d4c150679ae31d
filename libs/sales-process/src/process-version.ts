import { createHash } from 'node:crypto';
import type { ProcessDefinition } from './process-definition.types';

/**
 * A definition's version is derived from its content: the same definition always has the same
 * version, and any change that matters (a stage, a criterion, a rule, a name) makes a new one.
 * Formatting and comments in the YAML do not, since the hash is taken over canonical JSON.
 */
export function processVersionOf(definition: ProcessDefinition): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex').slice(0, 16);
}

/** JSON with object keys sorted at every level, so equal values serialise identically. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

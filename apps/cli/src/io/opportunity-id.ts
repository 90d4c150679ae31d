import { deterministicUuid } from '@stagecraft/commands';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID.test(text);
}

/**
 * The opportunity id for an id as given: a UUID stands for itself; any other id is a backfill
 * source id (e.g. a CRM's "SF-1042"), which the import maps to a UUID derived from it.
 */
export function opportunityIdFor(given: string): string {
  return isUuid(given) ? given.toLowerCase() : deterministicUuid('opportunity', 'backfill', given);
}

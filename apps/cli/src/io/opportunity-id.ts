import { deterministicUuid } from '@stagecraft/commands';
import { OPPORTUNITY_STREAM_PREFIX, toOpportunityStreamId } from '@stagecraft/opportunity';
import { CliError, EXIT } from '../cli.errors';
import { isBackfillSourceId } from '../import/backfill.row';
import { quoted } from './printable';

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

/**
 * The opportunity id a command-line argument names: as opportunityIdFor, but an id no opportunity
 * can have (empty, spaces, a character or a length no backfill source id has, and no UUID) is a
 * usage error: looked for, it was "no opportunity" (exit 1), and printed back whole.
 */
export function opportunityIdArgument(given: string): string {
  if (!isUuid(given) && !isBackfillSourceId(given)) {
    throw new CliError(
      `${quoted(given)} is not an opportunity id: give its UUID, or the source id a backfill import gave it (letters, digits, ".", "_", ":", "@" and "-", at most 200 characters).`,
      EXIT.usage,
    );
  }
  return opportunityIdFor(given);
}

/**
 * The opportunity stream a command-line argument names as a stream: `opportunity-` and a UUID (an
 * opportunity id always is one; in capitals it names the same deal), as `verify --all` prints it.
 * Anything else after the prefix is a source id a backfill gave (a CRM's "opportunity-42").
 */
export function opportunityStreamNamed(given: string): string | undefined {
  const id = given.startsWith(OPPORTUNITY_STREAM_PREFIX) ? given.slice(OPPORTUNITY_STREAM_PREFIX.length) : undefined;
  return id !== undefined && isUuid(id) ? toOpportunityStreamId(id) : undefined;
}

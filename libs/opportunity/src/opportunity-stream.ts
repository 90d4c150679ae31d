// Stream ids come from here only, so their shape is decided once.
export const OPPORTUNITY_STREAM_PREFIX = 'opportunity-';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Opportunity ids are UUIDs, stored and compared in lower case: the same id in capitals names the same deal. */
export function canonicalOpportunityId(opportunityId: string): string {
  return UUID.test(opportunityId) ? opportunityId.toLowerCase() : opportunityId;
}

export function toOpportunityStreamId(opportunityId: string): string {
  return `${OPPORTUNITY_STREAM_PREFIX}${canonicalOpportunityId(opportunityId)}`;
}

export function fromOpportunityStreamId(streamId: string): string | undefined {
  return streamId.startsWith(OPPORTUNITY_STREAM_PREFIX) ? streamId.slice(OPPORTUNITY_STREAM_PREFIX.length) : undefined;
}

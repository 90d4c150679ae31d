// Stream ids come from here only, so their shape is decided once.
export const OPPORTUNITY_STREAM_PREFIX = 'opportunity-';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Opportunity ids are UUIDs, stored and compared in lower case: the same id in capitals names the same deal. */
export function canonicalOpportunityId(opportunityId: string): string {
  if (isLowerCaseUuid(opportunityId)) return opportunityId;
  return UUID.test(opportunityId) ? opportunityId.toLowerCase() : opportunityId;
}

/** A UUID in lower case already (what every id this API made or stored is): checked without a pattern. */
function isLowerCaseUuid(text: string): boolean {
  if (text.length !== 36) return false;
  for (let index = 0; index < 36; index += 1) {
    const code = text.charCodeAt(index);
    if (index === 8 || index === 13 || index === 18 || index === 23) {
      if (code !== 45) return false;
    } else if (!((code >= 48 && code <= 57) || (code >= 97 && code <= 102))) return false;
  }
  return true;
}

export function toOpportunityStreamId(opportunityId: string): string {
  return `${OPPORTUNITY_STREAM_PREFIX}${canonicalOpportunityId(opportunityId)}`;
}

export function fromOpportunityStreamId(streamId: string): string | undefined {
  return streamId.startsWith(OPPORTUNITY_STREAM_PREFIX) ? streamId.slice(OPPORTUNITY_STREAM_PREFIX.length) : undefined;
}

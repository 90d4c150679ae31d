// Stream ids come from here only, so their shape is decided once.
export const OPPORTUNITY_STREAM_PREFIX = 'opportunity-';

export function toOpportunityStreamId(opportunityId: string): string {
  return `${OPPORTUNITY_STREAM_PREFIX}${opportunityId}`;
}

export function fromOpportunityStreamId(streamId: string): string | undefined {
  return streamId.startsWith(OPPORTUNITY_STREAM_PREFIX) ? streamId.slice(OPPORTUNITY_STREAM_PREFIX.length) : undefined;
}

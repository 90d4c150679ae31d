import type { CommandEnvelope } from '../command-envelope';

/**
 * A spec's envelopes: each call a new command id, and a server time one minute after the last
 * (the n-th at 2026-01-01T00:0n), so a stream's events are in time order as the API writes them.
 */
export function envelopeSequence(): (extra?: Partial<CommandEnvelope>) => CommandEnvelope {
  let n = 0;
  return (extra = {}) => {
    n += 1;
    return {
      commandId: `command-${n}`,
      clientSuppliedId: false,
      correlationId: 'test',
      actor: 'test',
      authenticatedBy: 'test',
      now: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
      ...extra,
    };
  };
}

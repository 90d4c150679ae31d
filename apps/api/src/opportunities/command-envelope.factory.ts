import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedRequest } from '../auth/auth.guard';
import type { Principal } from '../auth/principal';
import { ApiProblem } from '../http/problem';
import type { CommandEnvelope } from '@stagecraft/commands';
import type { CommandOptionsDto } from './opportunity.dto';
import { quotedValue } from '@stagecraft/sales-process';

const HEADER_VALUE = /^[\x21-\x7e]{1,200}$/;
// One revision, quoted as an entity tag or bare: not a list, not an unbalanced quote, and not a
// weak tag (W/"3"): If-Match compares strongly, so a weak tag never matches (RFC 9110, 13.1.1).
// Written as the ETag is (no leading zero): "01" is another tag than "1", never a match for it.
const IF_MATCH = /^(?:"(0|[1-9]\d{0,14})"|(0|[1-9]\d{0,14}))$/;

/**
 * Builds the envelope from headers and body. Header and body forms of the same thing must agree:
 * a request that says two different things is refused rather than guessed at.
 */
export function commandEnvelopeFrom(request: FastifyRequest, options: CommandOptionsDto, now: Date): CommandEnvelope {
  const principal = principalOf(request);
  const idempotencyKey = header(request, 'idempotency-key');
  if (idempotencyKey !== undefined && options.commandId !== undefined && idempotencyKey !== options.commandId) {
    throw new ApiProblem('REQUEST.CONFLICTING_COMMAND_ID', 'The Idempotency-Key header and the body\'s commandId differ; send one of them.');
  }
  const clientId = idempotencyKey ?? options.commandId;

  // Read as sent (not through header()): a list such as "1", "2" is told it is not one revision.
  const ifMatch = request.headers['if-match'];
  let expectedRevision = options.expectedRevision;
  if (ifMatch !== undefined) {
    const match = IF_MATCH.exec(ifMatch);
    if (!match) {
      const weak = /^W\//.test(ifMatch) ? ': a weak tag (W/…) never matches, send the ETag as it came' : '';
      throw new ApiProblem('REQUEST.INVALID_IF_MATCH', `If-Match must be one revision in quotes, such as "3" (got ${quotedValue(ifMatch, 40)})${weak}.`);
    }
    const fromHeader = Number(match[1] ?? match[2]);
    if (expectedRevision !== undefined && expectedRevision !== fromHeader) {
      throw new ApiProblem('REQUEST.CONFLICTING_REVISIONS', 'The If-Match header and the body\'s expectedRevision differ; send one of them.');
    }
    expectedRevision = fromHeader;
  }

  // The actor is who authenticated; X-Actor can only add the person a trusted service acts for.
  const onBehalfOf = header(request, 'x-actor');
  if (onBehalfOf !== undefined && !principal.mayActOnBehalf) {
    throw new ApiProblem('AUTH.ON_BEHALF_FORBIDDEN', `${principal.name} may not act on behalf of others; drop the X-Actor header or use a key allowed to.`);
  }

  // Field by field, in this order, the optional ones only when given (no throw-away objects to spread: every command builds one).
  const envelope: { -readonly [K in keyof CommandEnvelope]: CommandEnvelope[K] } = {
    commandId: clientId ?? randomUUID(),
    clientSuppliedId: clientId !== undefined,
    // Checked and echoed for every request by the request-shape hooks; refused here when malformed.
    correlationId: header(request, 'x-correlation-id') ?? request.correlationId ?? randomUUID(),
    actor: principal.name,
  } as CommandEnvelope;
  if (onBehalfOf !== undefined) envelope.onBehalfOf = onBehalfOf;
  envelope.authenticatedBy = principal.authenticatedBy;
  if (principal.teams) envelope.teams = principal.teams;
  if (expectedRevision !== undefined) envelope.expectedRevision = expectedRevision;
  envelope.now = now.toISOString();
  return envelope;
}

function principalOf(request: FastifyRequest): Principal {
  const principal = (request as AuthenticatedRequest).principal;
  if (!principal) throw new Error('A command reached the controller without an authenticated principal');
  return principal;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  if (!HEADER_VALUE.test(text)) {
    throw new ApiProblem('REQUEST.INVALID_HEADER', `Header ${name} must be 1 to 200 visible ASCII characters without spaces.`, { header: name });
  }
  return text;
}

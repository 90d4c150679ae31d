import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { getSQLiteEventStore } from '@stagecraft/event-store';
import { startApiTestApp, temporaryDirectory, TEST_SERVICE, type ApiTestApp } from './support/api-test-app';
import { E2E_STORE } from './support/e2e-store';
import { itIf } from './support/skips';

interface BadRequestCase {
  readonly name: string;
  readonly method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  /** `:open`, `:won` and `:missing` stand for an open, a won and an unknown opportunity. */
  readonly path: string;
  readonly body?: unknown;
  readonly raw?: { readonly type: string; readonly text: string };
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly code: string;
  readonly field?: string;
}

const long = (n: number) => 'x'.repeat(n);

const CASES: readonly BadRequestCase[] = [
  { name: 'title missing', method: 'post', path: '/opportunities', body: { processId: 'standard' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'title' },
  { name: 'title not a string', method: 'post', path: '/opportunities', body: { title: 42, processId: 'standard' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'title' },
  { name: 'title empty', method: 'post', path: '/opportunities', body: { title: '', processId: 'standard' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'title' },
  { name: 'title huge', method: 'post', path: '/opportunities', body: { title: long(10_000), processId: 'standard' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'title' },
  { name: 'title of spaces only', method: 'post', path: '/opportunities', body: { title: '   ', processId: 'standard' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'title' },
  { name: 'title changed to a tab', method: 'patch', path: '/opportunities/:open', body: { title: '\t' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'title' },
  // Characters that draw nothing make as empty a card as spaces do.
  { name: 'title of a zero-width space', method: 'post', path: '/opportunities', body: { title: '\u200b', processId: 'standard' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'title' },
  { name: 'title of a control character (NEL)', method: 'post', path: '/opportunities', body: { title: '\u0085', processId: 'standard' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'title' },
  { name: 'title of Hangul fillers and a blank Braille pattern', method: 'post', path: '/opportunities', body: { title: '\u3164\u115f\u2800', processId: 'standard' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'title' },
  { name: 'title changed to a tag space and a variation selector', method: 'patch', path: '/opportunities/:open', body: { title: '\u{e0020}\ufe0f' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'title' },
  // Notes and next steps are shown in the timeline and on the closed card: the title's rule, one that draws something.
  { name: 'note of a move of spaces only', method: 'post', path: '/opportunities/:open/move', body: { stage: 'qualification', note: '   ' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'note' },
  { name: 'note of a criterion of a zero-width space', method: 'post', path: '/opportunities/:open/criteria', body: { criterionId: 'goals', met: true, note: '\u200b' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'note' },
  { name: 'note of a loss of a newline', method: 'post', path: '/opportunities/:open/lose', body: { reason: 'price', note: '\n' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'note' },
  { name: 'next steps of a loss of Hangul fillers and a blank Braille pattern', method: 'post', path: '/opportunities/:open/lose', body: { reason: 'price', nextSteps: '\u3164\u2800' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'nextSteps' },
  { name: 'next steps of a win of a tab', method: 'post', path: '/opportunities/:open/win', body: { nextSteps: '\t' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'nextSteps' },
  { name: 'note of a reopening of a no-break space', method: 'post', path: '/opportunities/:won/reopen', body: { note: '\u00a0' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'note' },
  { name: 'note of a migration of a control character (NEL)', method: 'post', path: '/opportunities/:open/migrate', body: { toVersion: 'v2', note: '\u0085' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'note' },
  { name: 'note of a process migration of a word joiner', method: 'post', path: '/processes/standard/migrate', body: { fromVersion: 'v1', toVersion: 'v2', note: '\u2060' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'note' },
  { name: 'commandId with a space (no Idempotency-Key could carry it)', method: 'post', path: '/opportunities/:open/move', body: { stage: 'qualification', commandId: 'my command' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'commandId' },
  { name: 'commandId not ASCII', method: 'post', path: '/opportunities/:open/move', body: { stage: 'qualification', commandId: 'commandé' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'commandId' },
  { name: 'unknown field', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'standard', colour: 'red' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'colour' },
  { name: 'id not a UUID', method: 'post', path: '/opportunities', body: { id: 'abc', title: 'T', processId: 'standard' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'id' },
  { name: 'amount negative', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'standard', amount: -5 }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'amount' },
  { name: 'amount a string', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'standard', amount: '100' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'amount' },
  { name: 'amount absurdly large', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'standard', amount: 1e300 }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'amount' },
  { name: 'currency lower case', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'standard', currency: 'eur' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'currency' },
  { name: 'occurredAt not a date', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'standard', occurredAt: 'last tuesday' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'occurredAt' },
  { name: 'occurredAt without a zone', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'standard', occurredAt: '2026-01-01T10:00:00' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'occurredAt' },
  { name: 'occurredAt in the future', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'standard', occurredAt: '2999-01-01T00:00:00Z' }, status: 422, code: 'OPPORTUNITY.OCCURRED_AT_IN_FUTURE' },
  { name: 'unknown process', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'enterprise' }, status: 404, code: 'PROCESS.NOT_FOUND' },
  { name: 'process id with spaces', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'my process' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'processId' },
  { name: 'team not in the process', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'standard', teamId: 'inside' }, status: 422, code: 'OPPORTUNITY.UNKNOWN_TEAM' },
  { name: 'malformed JSON', method: 'post', path: '/opportunities', raw: { type: 'application/json', text: '{"title": "T",' }, status: 400, code: 'REQUEST.MALFORMED_JSON' },
  { name: 'not JSON at all', method: 'post', path: '/opportunities', raw: { type: 'text/plain', text: 'title=T' }, status: 415, code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE' },
  // A proxy keeping the first "stage" would check a move to new; JSON.parse keeps the last.
  { name: 'a field given twice', method: 'post', path: '/opportunities/:open/move', raw: { type: 'application/json', text: '{"stage":"new","stage":"qualification"}' }, status: 400, code: 'REQUEST.MALFORMED_JSON' },
  { name: 'a field given twice, once escaped', method: 'post', path: '/opportunities', raw: { type: 'application/json', text: '{"title":"T","processId":"standard","teamId":"direct","team\\u0049d":"partners"}' }, status: 400, code: 'REQUEST.MALFORMED_JSON' },
  { name: 'a JSON array', method: 'post', path: '/opportunities', raw: { type: 'application/json', text: '[1,2]' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: '(body)' },
  { name: 'body too large', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'standard', note: long(200_000) }, status: 413, code: 'REQUEST.BODY_TOO_LARGE' },
  { name: 'path id not a UUID', method: 'post', path: '/opportunities/12345/move', body: { stage: 'qualification' }, status: 400, code: 'REQUEST.INVALID_ID', field: 'id' },
  { name: 'unknown opportunity', method: 'post', path: '/opportunities/:missing/move', body: { stage: 'qualification' }, status: 404, code: 'OPPORTUNITY.NOT_FOUND' },
  { name: 'get an unknown opportunity', method: 'get', path: '/opportunities/:missing', status: 404, code: 'OPPORTUNITY.NOT_FOUND' },
  { name: 'stage missing', method: 'post', path: '/opportunities/:open/move', body: {}, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'stage' },
  { name: 'unknown stage', method: 'post', path: '/opportunities/:open/move', body: { stage: 'closing' }, status: 422, code: 'OPPORTUNITY.UNKNOWN_STAGE' },
  { name: 'skipping a stage', method: 'post', path: '/opportunities/:open/move', body: { stage: 'negotiation' }, status: 422, code: 'OPPORTUNITY.SKIP_NOT_ALLOWED' },
  { name: 'move to the current stage', method: 'post', path: '/opportunities/:open/move', body: { stage: 'new' }, status: 422, code: 'OPPORTUNITY.ALREADY_IN_STAGE' },
  { name: 'unknown criterion', method: 'post', path: '/opportunities/:open/criteria', body: { criterionId: 'vibes', met: true }, status: 422, code: 'OPPORTUNITY.UNKNOWN_CRITERION' },
  { name: 'met not a boolean', method: 'post', path: '/opportunities/:open/criteria', body: { criterionId: 'goals', met: 'yes' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'met' },
  { name: 'expectedRevision negative', method: 'post', path: '/opportunities/:open/move', body: { stage: 'qualification', expectedRevision: -1 }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'expectedRevision' },
  { name: 'expectedRevision a fraction', method: 'post', path: '/opportunities/:open/move', body: { stage: 'qualification', expectedRevision: 1.5 }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'expectedRevision' },
  ...['"11", "12"', '"1', '2"', '', 'W/"x"', 'W/"0"', 'W/"1"', '"1"x', '"01"', '00', '"+1"', '" 1"'].map((value): BadRequestCase => ({ name: `If-Match ${JSON.stringify(value)}`, method: 'post', path: '/opportunities/:open/move', body: { stage: 'qualification' }, headers: { 'If-Match': value }, status: 400, code: 'REQUEST.INVALID_IF_MATCH' })),
  { name: 'If-Match not a revision', method: 'post', path: '/opportunities/:open/move', body: { stage: 'qualification' }, headers: { 'If-Match': 'banana' }, status: 400, code: 'REQUEST.INVALID_IF_MATCH' },
  { name: 'Idempotency-Key too long', method: 'post', path: '/opportunities/:open/move', body: { stage: 'qualification' }, headers: { 'Idempotency-Key': long(300) }, status: 400, code: 'REQUEST.INVALID_HEADER' },
  { name: 'lost reason unknown', method: 'post', path: '/opportunities/:open/lose', body: { reason: 'mercury-retrograde' }, status: 422, code: 'OPPORTUNITY.INVALID_LOST_REASON' },
  { name: 'lost reason missing', method: 'post', path: '/opportunities/:open/lose', body: {}, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'reason' },
  { name: 'win from New', method: 'post', path: '/opportunities/:open/win', body: {}, status: 422, code: 'OPPORTUNITY.NOT_WINNABLE_FROM_STAGE' },
  { name: 'reopen an open deal', method: 'post', path: '/opportunities/:open/reopen', body: {}, status: 422, code: 'OPPORTUNITY.NOT_CLOSED' },
  { name: 'move a won deal', method: 'post', path: '/opportunities/:won/move', body: { stage: 'new' }, status: 422, code: 'OPPORTUNITY.ALREADY_CLOSED' },
  { name: 'meet a criterion on a won deal', method: 'post', path: '/opportunities/:won/criteria', body: { criterionId: 'goals', met: true }, status: 422, code: 'OPPORTUNITY.ALREADY_CLOSED' },
  { name: 'win a won deal', method: 'post', path: '/opportunities/:won/win', body: {}, status: 422, code: 'OPPORTUNITY.ALREADY_CLOSED' },
  { name: 'reopen to an unknown stage', method: 'post', path: '/opportunities/:won/reopen', body: { stage: 'limbo' }, status: 422, code: 'OPPORTUNITY.UNKNOWN_STAGE' },
  { name: 'patch with a bad amount', method: 'patch', path: '/opportunities/:open', body: { amount: 'lots' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'amount' },
  { name: 'reopen an existing id', method: 'post', path: '/opportunities', body: { id: ':open', title: 'T', processId: 'standard' }, status: 409, code: 'OPPORTUNITY.ALREADY_OPENED' },
  { name: 'no such route', method: 'get', path: '/opportunity', status: 404, code: 'ROUTE.NOT_FOUND' },
  { name: 'asOf not a date', method: 'get', path: '/opportunities/:open?asOf=last-march', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'asOf' },
  { name: 'asOf without a zone', method: 'get', path: '/opportunities/:open?asOf=2026-03-31T23:59:59', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'asOf' },
  { name: 'asOf not a real day', method: 'get', path: '/opportunities/:open?asOf=2026-13-45T10:00:00Z', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'asOf' },
  { name: 'asOf on 30 February (Date.parse would read 2 March)', method: 'get', path: '/opportunities/:open?asOf=2026-02-30T10:00:00Z', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'asOf' },
  { name: 'pipeline asOf at 24:00', method: 'get', path: '/pipeline?asOf=2026-03-31T24:00:00Z', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'asOf' },
  { name: 'asOfRecorded not a date', method: 'get', path: '/opportunities/:open?asOfRecorded=yesterday', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'asOfRecorded' },
  { name: 'both asOf and asOfRecorded', method: 'get', path: '/opportunities/:open?asOf=2026-03-31T00:00:00Z&asOfRecorded=2026-03-31T00:00:00Z', status: 400, code: 'REQUEST.AS_OF_CONFLICT' },
  { name: 'asOf before the deal existed', method: 'get', path: '/opportunities/:open?asOf=2000-01-01T00:00:00Z', status: 404, code: 'OPPORTUNITY.NOT_YET_OPENED' },
  { name: 'as-of an unknown opportunity', method: 'get', path: '/opportunities/:missing?asOf=2026-03-31T00:00:00Z', status: 404, code: 'OPPORTUNITY.NOT_FOUND' },
  { name: 'unknown history view', method: 'get', path: '/opportunities/:open/history?view=story', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'view' },
  { name: 'verify an unknown opportunity', method: 'get', path: '/opportunities/:missing/verify', status: 404, code: 'OPPORTUNITY.NOT_FOUND' },
  { name: 'migrate without toVersion', method: 'post', path: '/opportunities/:open/migrate', body: {}, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'toVersion' },
  { name: 'migrate to an unknown version', method: 'post', path: '/opportunities/:open/migrate', body: { toVersion: 'nope' }, status: 422, code: 'OPPORTUNITY.UNKNOWN_PROCESS_VERSION' },
  { name: 'stageMapping not an object', method: 'post', path: '/opportunities/:open/migrate', body: { toVersion: 'nope', stageMapping: ['new'] }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'stageMapping' },
  { name: 'stageMapping to a number', method: 'post', path: '/opportunities/:open/migrate', body: { toVersion: 'nope', stageMapping: { new: 3 } }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'stageMapping' },
  // Keys named like methods every object inherits reach the rules as given, not dropped on the way (they were recorded as no mapping).
  { name: 'stageMapping key valueOf', method: 'post', path: '/opportunities/:open/migrate', body: { toVersion: 'nope', stageMapping: { valueOf: 'zzz' } }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'stageMapping' },
  { name: 'stageMapping key toString', method: 'post', path: '/opportunities/:open/migrate', body: { toVersion: 'nope', stageMapping: { toString: 'new' } }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'stageMapping' },
  { name: 'bulk stageMapping key hasOwnProperty', method: 'post', path: '/processes/standard/migrate', body: { fromVersion: 'a', toVersion: 'b', stageMapping: { hasOwnProperty: 'new' } }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'stageMapping' },
  { name: 'migrate a won deal', method: 'post', path: '/opportunities/:won/migrate', body: { toVersion: 'nope' }, status: 422, code: 'OPPORTUNITY.ALREADY_CLOSED' },
  { name: 'migrate an unknown opportunity', method: 'post', path: '/opportunities/:missing/migrate', body: { toVersion: 'nope' }, status: 404, code: 'OPPORTUNITY.NOT_FOUND' },
  // A version named in the body is the single-deal route's 422; only the path's process is a 404.
  { name: 'bulk migration of an unknown version', method: 'post', path: '/processes/standard/migrate', body: { fromVersion: 'old', toVersion: 'new' }, status: 422, code: 'OPPORTUNITY.UNKNOWN_PROCESS_VERSION' },
  { name: 'bulk migration of an unknown process', method: 'post', path: '/processes/enterprise/migrate', body: { fromVersion: 'old', toVersion: 'new' }, status: 404, code: 'PROCESS.NOT_FOUND' },
  { name: 'pipeline asOf without a zone', method: 'get', path: '/pipeline?asOf=2026-03-31', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'asOf' },
  { name: 'pipeline asOf not a real day', method: 'get', path: '/pipeline?asOf=2026-02-45T00:00:00Z', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'asOf' },
  // Ids in a query take the rule of the ids they name (a deal's team and owner, a process id): a typo is 400, not an empty answer or a 403/404.
  ...[
    ['/pipeline?teamId=%20x', 'teamId'],
    ['/pipeline?ownerId=ana%20b', 'ownerId'],
    ['/pipeline?processId=my%20process', 'processId'],
    ['/analytics/win-loss?teamId=EMEA/north', 'teamId'],
    ['/analytics/funnel?ownerId=-ana', 'ownerId'],
    ['/analytics/rotting?processId=%E2%80%8Bstandard', 'processId'],
    ['/analytics/waterfall?teamId=%00', 'teamId'],
    ['/analytics/velocity?ownerId=%F0%9F%9A%80', 'ownerId'],
  ].map(([path, field]): BadRequestCase => ({ name: `malformed id ${path}`, method: 'get', path: path!, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: field! })),
  { name: 'pipeline closed not an outcome', method: 'get', path: '/pipeline?closed=open', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'closed' },
  { name: 'pipeline closed given twice', method: 'get', path: '/pipeline?closed=won&closed=lost', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'closed' },
  { name: 'pipeline closedFrom not a date', method: 'get', path: '/pipeline?closed=won&closedFrom=last-month', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'closedFrom' },
  { name: 'pipeline closedTo not a real day', method: 'get', path: '/pipeline?closed=won&closedTo=2026-02-45T00:00:00Z', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'closedTo' },
  { name: 'pipeline closedLimit 0', method: 'get', path: '/pipeline?closed=won&closedLimit=0', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'closedLimit' },
  { name: 'pipeline closedLimit over 500', method: 'get', path: '/pipeline?closed=won&closedLimit=501', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'closedLimit' },
  { name: 'pipeline closedLimit not a number', method: 'get', path: '/pipeline?closed=won&closedLimit=ten', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'closedLimit' },
  { name: 'pipeline cardsPerColumn 0', method: 'get', path: '/pipeline?include=opportunities&cardsPerColumn=0', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'cardsPerColumn' },
  { name: 'pipeline cardsPerColumn over 1000', method: 'get', path: '/pipeline?include=opportunities&cardsPerColumn=1001', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'cardsPerColumn' },
  { name: 'pipeline cardsPerColumn not whole', method: 'get', path: '/pipeline?include=opportunities&cardsPerColumn=2.5', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'cardsPerColumn' },
  { name: 'pipeline cardsPerColumn not a number', method: 'get', path: '/pipeline?include=opportunities&cardsPerColumn=ten', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'cardsPerColumn' },
  { name: 'pipeline cardsPerColumn given twice', method: 'get', path: '/pipeline?include=opportunities&cardsPerColumn=1&cardsPerColumn=2', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'cardsPerColumn' },
  { name: 'pipeline cardsPerColumn without include', method: 'get', path: '/pipeline?cardsPerColumn=10', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'cardsPerColumn' },
  { name: 'pipeline cardsPerColumn on a past board without include', method: 'get', path: '/pipeline?asOf=2026-03-31T00:00:00Z&cardsPerColumn=10', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'cardsPerColumn' },
  { name: 'pipeline closedFrom without closed', method: 'get', path: '/pipeline?closedFrom=2026-01-01T00:00:00Z', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'closedFrom' },
  { name: 'pipeline closedFrom after closedTo', method: 'get', path: '/pipeline?closed=won,lost&closedFrom=2026-03-01T00:00:00Z&closedTo=2026-02-01T00:00:00Z', status: 400, code: 'REQUEST.INVALID_PERIOD' },
  { name: 'pipeline closed with asOf', method: 'get', path: '/pipeline?closed=won&asOf=2026-03-31T00:00:00Z', status: 400, code: 'REQUEST.AS_OF_CONFLICT' },
  { name: 'bulk migration without fromVersion', method: 'post', path: '/processes/standard/migrate', body: { toVersion: 'new' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'fromVersion' },
  // Issue 21: inputs that gave 500, and queries that read instants or processes loosely.
  ...[1e-7, 0.0000001, -1e-7, 12.34567, 1e16, 0.30000000000000004, 0.3000000000001, 123456789012.00001].map((amount): BadRequestCase => ({ name: `amount ${amount}`, method: 'post', path: '/opportunities', body: { title: 'T', processId: 'standard', amount }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'amount' })),
  { name: 'amount in exponent notation with too many decimals, raw', method: 'post', path: '/opportunities', raw: { type: 'application/json', text: '{"title":"T","processId":"standard","amount":1.5e-5}' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'amount' },
  { name: 'amount PATCHed to 1e-7', method: 'patch', path: '/opportunities/:open', body: { amount: 1e-7 }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'amount' },
  { name: 'JSON nested 1,500 deep', method: 'post', path: '/opportunities', raw: { type: 'application/json', text: `{"title":"T","processId":"standard","note":${'['.repeat(1500)}${']'.repeat(1500)}}` }, status: 400, code: 'REQUEST.BODY_TOO_DEEP' },
  { name: 'JSON nested 1,500 deep in a query-less command', method: 'post', path: '/opportunities/:open/move', raw: { type: 'application/json', text: `${'{"a":'.repeat(1500)}1${'}'.repeat(1500)}` }, status: 400, code: 'REQUEST.BODY_TOO_DEEP' },
  { name: 'path parameter of 150 characters', method: 'post', path: `/opportunities/${long(150)}/move`, body: { stage: 'qualification' }, status: 414, code: 'REQUEST.PATH_TOO_LONG' },
  { name: 'a form body', method: 'post', path: '/opportunities', raw: { type: 'application/x-www-form-urlencoded', text: 'title=T&processId=standard' }, status: 415, code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE' },
  { name: 'analytics from without a zone', method: 'get', path: '/analytics/win-loss?from=2026-01-01T00:00:00', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'from' },
  { name: 'analytics to as a date only', method: 'get', path: '/analytics/funnel?to=2026-03-31', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'to' },
  ...['win-loss', 'stage-durations', 'funnel', 'transitions'].map((name): BadRequestCase => ({ name: `${name}: from after to`, method: 'get', path: `/analytics/${name}?from=2026-03-01T00:00:00Z&to=2026-02-01T00:00:00Z`, status: 400, code: 'REQUEST.INVALID_PERIOD' })),
  ...['/analytics/win-loss', '/analytics/stage-durations', '/analytics/funnel', '/analytics/transitions', '/analytics/win-probability/calibration', '/pipeline'].map((path): BadRequestCase => ({ name: `${path} of an unknown process`, method: 'get', path: `${path}?processId=enterprise`, status: 404, code: 'PROCESS.NOT_FOUND' })),
  { name: 'pipeline with from/to (it is the present board)', method: 'get', path: '/pipeline?from=2026-01-01T00:00:00Z', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'from' },
  // Text a read model cannot keep (U+0000: PostgreSQL's text refuses it; an unpaired surrogate:
  // UTF-8 cannot carry it), in any field of any route: refused before it is recorded or queried.
  { name: 'title holding U+0000', method: 'post', path: '/opportunities', body: { title: 'ACME \u0000', processId: 'standard' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'title' },
  { name: 'title holding an unpaired surrogate', method: 'post', path: '/opportunities', body: { title: 'ACME \ud800', processId: 'standard' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'title' },
  { name: 'note of a move holding U+0000', method: 'post', path: '/opportunities/:open/move', body: { stage: 'qualification', note: '\u0000' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'note' },
  { name: 'next steps of a loss holding an unpaired surrogate', method: 'post', path: '/opportunities/:open/lose', body: { reason: 'price', nextSteps: 'call \udc00' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'nextSteps' },
  { name: 'stage mapping key holding U+0000', method: 'post', path: '/opportunities/:open/migrate', body: { toVersion: 'nope', stageMapping: { 'le\u0000ad': 'new' } }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'stageMapping (a key)' },
  { name: 'owner filter holding U+0000', method: 'get', path: '/pipeline?ownerId=%00', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'ownerId' },
  { name: 'team filter of an analytics query holding U+0000', method: 'get', path: '/analytics/win-loss?teamId=a%00b', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'teamId' },
  { name: 'a query with a malformed percent-encoding', method: 'get', path: '/pipeline?teamId=%ZZ', status: 400, code: 'REQUEST.BAD_URL' },
  { name: 'a query whose escapes are not UTF-8', method: 'get', path: '/analytics/funnel?ownerId=%FF%FE', status: 400, code: 'REQUEST.BAD_URL' },
  { name: 'a command with a malformed percent-encoding in its query', method: 'post', path: '/opportunities?x=%', body: { title: 'T', processId: 'standard' }, status: 400, code: 'REQUEST.BAD_URL' },
  // null is not "left out": only expectedCloseDate takes it (to clear the date).
  { name: 'title null on a change', method: 'patch', path: '/opportunities/:open', body: { title: null }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'title' },
  { name: 'team null on a change', method: 'patch', path: '/opportunities/:open', body: { teamId: null }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'teamId' },
  { name: 'amount null on opening', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'standard', amount: null }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'amount' },
  { name: 'note null on a move', method: 'post', path: '/opportunities/:open/move', body: { stage: 'qualification', note: null }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'note' },
  { name: 'occurredAt null', method: 'post', path: '/opportunities/:open/move', body: { stage: 'qualification', occurredAt: null }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'occurredAt' },
  // Instants outside years 0001–9999 in UTC: their text is one PostgreSQL refuses and no parser reads back.
  { name: 'occurredAt in year 0000', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'standard', occurredAt: '0000-01-01T00:00:00+01:00' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'occurredAt' },
  { name: 'occurredAt an offset away from year 0000', method: 'post', path: '/opportunities/:open/move', body: { stage: 'qualification', occurredAt: '0001-01-01T00:00:00+02:00' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'occurredAt' },
  { name: 'analytics from in year 0000', method: 'get', path: '/analytics/win-loss?from=0000-01-01T00:00:00Z', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'from' },
  { name: 'analytics to an offset into year 10000', method: 'get', path: '/analytics/funnel?to=9999-12-31T23:59:59-14:00', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'to' },
  { name: 'pipeline closedTo an offset into year 10000', method: 'get', path: '/pipeline?closed=won&closedTo=9999-12-31T23:59:59-14:00', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'closedTo' },
  { name: 'pipeline closedFrom in year 0000', method: 'get', path: '/pipeline?closed=won&closedFrom=0000-01-01T00:00:00%2B01:00', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'closedFrom' },
  // Accept is negotiated: an analytics answer comes as JSON or CSV, and a client asking for neither is told so.
  { name: 'analytics asked for as HTML', method: 'get', path: '/analytics/funnel', headers: { Accept: 'text/html' }, status: 406, code: 'REQUEST.NOT_ACCEPTABLE' },
  { name: 'pipeline asked for as XML, CSV refused', method: 'get', path: '/pipeline', headers: { Accept: 'application/xml, text/csv;q=0' }, status: 406, code: 'REQUEST.NOT_ACCEPTABLE' },
  { name: 'pipeline asOf in year 10000', method: 'get', path: '/pipeline?asOf=9999-12-31T23:00:00-01:00', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'asOf' },
  // A path that exists, asked with a method it does not take, is told which ones it does.
  { name: 'delete the pipeline', method: 'delete', path: '/pipeline', status: 405, code: 'ROUTE.METHOD_NOT_ALLOWED' },
  // The router undoes percent-encoding (GET /pipelin%65 is the pipeline): so does the 405.
  { name: 'delete the pipeline, percent-encoded', method: 'delete', path: '/pipelin%65', status: 405, code: 'ROUTE.METHOD_NOT_ALLOWED' },
  { name: 'get a command route, percent-encoded', method: 'get', path: '/opportunities/:open/w%69n', status: 405, code: 'ROUTE.METHOD_NOT_ALLOWED' },
  { name: 'put a move', method: 'put', path: '/opportunities/:open/move', body: { stage: 'qualification' }, status: 405, code: 'ROUTE.METHOD_NOT_ALLOWED' },
  { name: 'get a command route', method: 'get', path: '/opportunities/:open/win', status: 405, code: 'ROUTE.METHOD_NOT_ALLOWED' },
  { name: 'post to an analytics route', method: 'post', path: '/analytics/funnel', body: {}, status: 405, code: 'ROUTE.METHOD_NOT_ALLOWED' },
  { name: 'an empty id segment is no route', method: 'post', path: '/opportunities//move', body: { stage: 'qualification' }, status: 404, code: 'ROUTE.NOT_FOUND' },
  { name: 'delete a path no route has', method: 'delete', path: '/opportunities/:open/colour', status: 404, code: 'ROUTE.NOT_FOUND' },
  // Names every object inherits are unknown fields like any other (class-transformer skips them).
  ...['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'].map((name): BadRequestCase => ({ name: `query parameter ${name}`, method: 'get', path: `/analytics/win-loss?${name}=1`, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: name })),
  { name: 'query parameter constructor on the pipeline', method: 'get', path: '/pipeline?constructor=1', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'constructor' },
  { name: 'query parameter toString on an opportunity', method: 'get', path: '/opportunities/:open?toString=1', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'toString' },
  { name: 'body field toString on opening', method: 'post', path: '/opportunities', body: { title: 'T', processId: 'standard', toString: 'x' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'toString' },
  { name: 'body field constructor on a change', method: 'patch', path: '/opportunities/:open', body: { constructor: 'x' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'constructor' },
  { name: 'body field valueOf on a bulk migration', method: 'post', path: '/processes/standard/migrate', body: { fromVersion: 'old', toVersion: 'new', valueOf: 1 }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'valueOf' },
  { name: 'body with a __proto__ key', method: 'post', path: '/opportunities', raw: { type: 'application/json', text: '{"title":"T","processId":"standard","__proto__":{"admin":true}}' }, status: 400, code: 'REQUEST.MALFORMED_JSON' },
  // Whole numbers are decimal digits: Number() alone reads hex, exponents, blanks and '' as numbers.
  ...['0x10', '1e3', '%205', '', '0b11', '+5', '5.0', '05', '-0', '-05'].map((value): BadRequestCase => ({ name: `cardsPerColumn=${value}`, method: 'get', path: `/pipeline?include=opportunities&cardsPerColumn=${value}`, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'cardsPerColumn' })),
  { name: 'minPosition in hex', method: 'get', path: '/analytics/funnel?minPosition=0x1', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'minPosition' },
  { name: 'minPosition -0', method: 'get', path: '/analytics/funnel?minPosition=-0', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'minPosition' },
  { name: 'minPosition 00', method: 'get', path: '/analytics/funnel?minPosition=00', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'minPosition' },
  { name: 'rotting limit with an exponent', method: 'get', path: '/analytics/rotting?limit=1e2', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'limit' },
  { name: 'closedLimit of 20 digits', method: 'get', path: '/pipeline?closed=won&closedLimit=00000000000000000001', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'closedLimit' },
  // A key's limits: null is not "left out" (which means every team).
  { name: 'a key with teams null', method: 'post', path: '/admin/api-keys', body: { name: 'x', roles: ['writer'], teams: null }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'teams' },
  { name: 'a key with mayActOnBehalf null', method: 'post', path: '/admin/api-keys', body: { name: 'x', roles: ['writer'], mayActOnBehalf: null }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'mayActOnBehalf' },
  { name: 'a key named with a newline', method: 'post', path: '/admin/api-keys', body: { name: 'billing\nsck_fake  admin', roles: ['writer'] }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'name' },
  { name: 'a key named with an escape sequence', method: 'post', path: '/admin/api-keys', body: { name: 'x\u001b[31m', roles: ['writer'] }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'name' },
  { name: 'a key named with spaces only', method: 'post', path: '/admin/api-keys', body: { name: '   ', roles: ['writer'] }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'name' },
  { name: 'a key named with a space at its end', method: 'post', path: '/admin/api-keys', body: { name: 'billing ', roles: ['writer'] }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'name' },
  { name: 'a key named with a space before it', method: 'post', path: '/admin/api-keys', body: { name: ' billing', roles: ['writer'] }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'name' },
  { name: 'a key limited to a team no deal can have', method: 'post', path: '/admin/api-keys', body: { name: 'x', roles: ['writer'], teams: ['\u{1F642}'] }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'teams' },
  { name: 'a key limited to a team id past 100 characters', method: 'post', path: '/admin/api-keys', body: { name: 'x', roles: ['writer'], teams: ['t'.repeat(101)] }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'teams' },
  { name: 'a key named with a bidi override', method: 'post', path: '/admin/api-keys', body: { name: 'billing\u202eadmin', roles: ['writer'] }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'name' },
  { name: 'a key naming a role twice', method: 'post', path: '/admin/api-keys', body: { name: 'x', roles: ['writer', 'writer'] }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'roles' },
  // A body is an object, and only where a route reads one.
  { name: 'a change with a null body', method: 'patch', path: '/opportunities/:open', raw: { type: 'application/json', text: 'null' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: '(body)' },
  { name: 'a move with a lone number for a body', method: 'post', path: '/opportunities/:open/move', raw: { type: 'application/json', text: '7' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: '(body)' },
  { name: 'a key made from a list', method: 'post', path: '/admin/api-keys', raw: { type: 'application/json', text: '[{"name":"x","roles":["writer"]}]' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: '(body)' },
  { name: 'a body sent to a rebuild, which takes none', method: 'post', path: '/admin/projections/pipeline/rebuild', body: { bogus: 1 }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: '(body)' },
  { name: 'a filter sent as the body of an analytics GET', method: 'get', path: '/analytics/funnel', body: { teamId: 'partners' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: '(body)' },
  { name: 'a body sent to revoke a key', method: 'delete', path: '/admin/api-keys/0123456789ab', body: { reason: 'left' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: '(body)' },
  // Routes without a query DTO refuse the parameters they do not name, as the others do.
  { name: 'a query parameter on opening', method: 'post', path: '/opportunities?dryRun=1', body: { title: 'T', processId: 'standard' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'dryRun' },
  { name: 'a query parameter on a move (served directly)', method: 'post', path: '/opportunities/:open/move?force=true', body: { stage: 'qualification' }, status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'force' },
  { name: 'an empty version of a process machine', method: 'get', path: '/processes/standard/machine?version=', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'version' },
  { name: 'a version of a process machine given twice', method: 'get', path: '/processes/standard/machine?version=a&version=b', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'version' },
  { name: 'a misspelt version of a process machine', method: 'get', path: '/processes/standard/machine?verison=2', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'verison' },
  { name: 'a query parameter on verify', method: 'get', path: '/opportunities/:open/verify?deep=1', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'deep' },
  { name: 'a query parameter on the health check (public)', method: 'get', path: '/health?verbose=1', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'verbose' },
  { name: 'a query parameter on the process list', method: 'get', path: '/processes?processId=standard', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'processId' },
  { name: 'forecast accuracy with include=learned (it does not learn)', method: 'get', path: '/analytics/forecast-accuracy?include=learned', status: 400, code: 'REQUEST.VALIDATION_FAILED', field: 'include' },
];

describe('bad input gets a 4xx with a stable code, never a 5xx', () => {
  const dir = temporaryDirectory();
  let api: ApiTestApp & { keys: Record<string, string> };
  const ids: Record<string, string> = { ':missing': randomUUID() };

  beforeAll(async () => {
    api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db` });
    // inside-sales allows skipping: meet Lead's result, jump to Quote, meet it, win.
    const won = (await api.http.post('/opportunities').send({ title: 'Won deal', processId: 'inside-sales' }).expect(201)).body.id;
    await api.http.post(`/opportunities/${won}/criteria`).send({ criterionId: 'contact-made', met: true }).expect(200);
    await api.http.post(`/opportunities/${won}/move`).send({ stage: 'quote' }).expect(200);
    await api.http.post(`/opportunities/${won}/criteria`).send({ criterionId: 'quote-sent', met: true }).expect(200);
    await api.http.post(`/opportunities/${won}/win`).send({}).expect(200);
    ids[':won'] = won;
    // The open deal runs on the standard process, where skipping is refused.
    ids[':open'] = (await api.http.post('/opportunities').send({ title: 'Open deal', processId: 'standard' }).expect(201)).body.id;
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it(`has a table of at least 25 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(25);
  });

  it.each(CASES)('$name → $status $code', async (testCase) => {
    const path = testCase.path.replace(/:(open|won|missing)/, (token) => ids[token]!);
    let call = api.http[testCase.method](path);
    for (const [name, value] of Object.entries(testCase.headers ?? {})) call = call.set(name, value);
    let body = testCase.body;
    if (body && typeof body === 'object' && (body as { id?: string }).id === ':open') body = { ...body, id: ids[':open'] };
    const response = testCase.raw ? await call.set('content-type', testCase.raw.type).send(testCase.raw.text) : body === undefined ? await call : await call.send(body as object);

    expect(response.status).toBe(testCase.status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: testCase.status, code: testCase.code, detail: expect.any(String), title: expect.any(String) });
    expect(JSON.stringify(response.body)).not.toMatch(/at .*\.(ts|js):\d+|node_modules|\/work\//);
    if (testCase.field) expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(testCase.field);
    // One message per bad field, and the request's correlation id on the answer.
    if (response.body.errors) expect(new Set(response.body.errors.map((e: { field: string }) => e.field)).size).toBe(response.body.errors.length);
    expect(response.headers['x-correlation-id']).toEqual(expect.any(String));
  });

  // The default window of the closed sections is the 30 days up to closedTo: near the first
  // instant there is, it starts there rather than in year 0000 (which no parser reads back).
  it('answers the closed sections of a window ending in the first days of year 0001', async () => {
    const answer = await api.http.get('/pipeline?closed=won&closedTo=0001-01-05T00:00:00Z').expect(200);
    expect(answer.body.closed).toEqual({ from: '0001-01-01T00:00:00.000Z', to: '0001-01-05T00:00:00.000Z', limit: 50 });
  });

  it('answers the type Accept weighs highest: JSON over a CSV weighted lower, CSV for text/*', async () => {
    const json = await api.http.get('/analytics/funnel').set('Accept', 'text/csv;q=0.1, application/json').expect(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    const csv = await api.http.get('/analytics/funnel').set('Accept', 'text/*').expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
  });

  it('a route that answers JSON only refuses an Accept that takes no JSON (406), before it runs: a command records nothing', async () => {
    const id = ids[':open']!;
    const before = (await api.http.get(`/opportunities/${id}`).expect(200)).body.revision;
    const refusedTypes = ['application/xml', 'image/png', 'text/html', 'text/html;q=1, application/json;q=0', 'text/csv', 'application/problem+json'];
    const routes = [
      () => api.http.get(`/opportunities/${id}`),
      () => api.http.get(`/opportunities/${id}/history`),
      () => api.http.get('/processes'),
      () => api.http.get('/health'),
      () => api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }),
    ];
    for (const route of routes) {
      for (const type of refusedTypes) {
        const answer = await route().set('Accept', type);
        expect([type, answer.status, answer.body.code, answer.body.available]).toEqual([type, 406, 'REQUEST.NOT_ACCEPTABLE', ['application/json']]);
        expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    }
    expect((await api.http.get(`/opportunities/${id}`).expect(200)).body.revision).toBe(before);
    // What takes JSON, however it says so, is answered in it; an unreadable Accept says nothing.
    for (const type of ['*/*', 'application/*', 'application/json', 'text/html, application/json;q=0.1', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'gibberish']) {
      const answer = await api.http.get(`/opportunities/${id}`).set('Accept', type);
      expect([type, answer.status]).toEqual([type, 200]);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
    }
    // Routes that answer other types weigh Accept themselves.
    expect((await api.http.get('/analytics/funnel').set('Accept', 'text/csv').expect(200)).headers['content-type']).toMatch(/^text\/csv/);
    await api.anonymous.get('/docs/openapi.json').set('Accept', 'text/html').expect(200);
  });

  it('tells a whole-number parameter what it must be, however it was missed', async () => {
    for (const value of ['abc', 'Infinity', '2.5', '0', '1001']) {
      const answer = await api.http.get(`/pipeline?include=opportunities&cardsPerColumn=${value}`).expect(400);
      expect(answer.body.errors).toEqual([{ field: 'cardsPerColumn', message: 'cardsPerColumn must be a whole number from 1 to 1000' }]);
    }
    // A position past the safe integers is a whole number of at least 0: the message gives the bound it broke.
    for (const value of ['abc', '9007199254740992', '99999999999999999999']) {
      const position = await api.http.get(`/analytics/funnel?minPosition=${value}`).expect(400);
      expect(position.body.errors).toEqual([{ field: 'minPosition', message: `minPosition must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}` }]);
    }
  });

  it('tells a field or parameter of an empty name what it is, not "property  should not exist"', async () => {
    const id = ids[':open']!;
    const answers = [
      ['GET /pipeline?=1', await api.http.get('/pipeline?=1')],
      ['GET /analytics/funnel?=a&=', await api.http.get('/analytics/funnel?=a&=')],
      ['PATCH {"": 1}', await api.http.patch(`/opportunities/${id}`).send({ '': 1 })],
      // Served directly (direct-command.routes.ts): the same words.
      ['POST move?=1', await api.http.post(`/opportunities/${id}/move?=1`).send({ stage: 'qualification' })],
      ['POST move {"": 1}', await api.http.post(`/opportunities/${id}/move`).send({ '': 1, stage: 'qualification' })],
    ] as const;
    for (const [context, answer] of answers) {
      expect({ context, status: answer.status, errors: answer.body.errors }).toEqual({ context, status: 400, errors: [{ field: '', message: expect.stringMatching(/^a field or query parameter with an empty name/) }] });
      expect({ context, detail: answer.body.detail }).toEqual({ context, detail: expect.not.stringContaining('property  should') });
    }
  });

  it('tells a query parameter given twice to give it once, whatever its kind, and still judges the others', async () => {
    const once = (field: string, times = 2) => ({ field, message: `${field} was given ${times} times; give it once (where a parameter takes several values, they go comma-separated in one: closed=won,lost)` });
    const errorsOf = async (path: string) => (await api.http.get(path).expect(400)).body.errors;
    // Each value alone is valid: the answer must not say "must be a string", or name a format the values already have.
    expect(await errorsOf('/pipeline?processId=standard&processId=inside-sales')).toEqual([once('processId')]);
    expect(await errorsOf('/pipeline?closed=won&closed=lost')).toEqual([once('closed')]);
    expect(await errorsOf('/analytics/win-loss?from=2026-01-01T00:00:00Z&from=2026-02-01T00:00:00Z&from=2026-03-01T00:00:00Z')).toEqual([once('from', 3)]);
    expect(await errorsOf('/analytics/forecast?period=month&period=quarter')).toEqual([once('period')]);
    expect(await errorsOf(`/opportunities/${ids[':open']}/history?limit=1&limit=2`)).toEqual([once('limit')]);
    expect(await errorsOf(`/opportunities/${ids[':open']}?asOf=2026-01-01T00:00:00Z&asOf=2026-01-01T00:00:00Z`)).toEqual([once('asOf')]);
    // One message per field, and a field wrong in another way is still told what is wrong with it.
    expect(await errorsOf('/pipeline?include=opportunities&cardsPerColumn=0&teamId=direct&teamId=partners&colour=red')).toEqual(
      expect.arrayContaining([once('teamId'), { field: 'cardsPerColumn', message: 'cardsPerColumn must be a whole number from 1 to 1000' }, { field: 'colour', message: 'property colour should not exist' }]),
    );
    expect((await errorsOf('/pipeline?include=opportunities&cardsPerColumn=0&teamId=direct&teamId=partners&colour=red')).length).toBe(3);
    // A parameter the route does not have is told so, however often it came.
    expect(await errorsOf('/analytics/funnel?colour=red&colour=blue')).toEqual([{ field: 'colour', message: 'property colour should not exist' }]);
    // Also one class-transformer cannot see (an inherited name): one message, not a second saying it came twice.
    expect(await errorsOf('/pipeline?constructor=1&constructor=2')).toEqual([{ field: 'constructor', message: 'property constructor should not exist' }]);
  });

  it('tells an as-of parameter sent to a route without one (history, verify, figures over a period, search) where an instant is read', async () => {
    const id = ids[':open']!;
    for (const path of [`/opportunities/${id}/history`, `/opportunities/${id}/history?view=timeline&limit=0`, `/opportunities/${id}/verify`]) {
      for (const name of ['asOf', 'asOfRecorded']) {
        const answer = await api.http.get(`${path}${path.includes('?') ? '&' : '?'}${name}=2026-01-01T00:00:00Z`).expect(400);
        expect(answer.body.code).toBe('REQUEST.VALIDATION_FAILED');
        const told = answer.body.errors.find((error: { field: string }) => error.field === name);
        expect({ path, message: told?.message }).toEqual({ path, message: expect.stringContaining(`GET /opportunities/{id}?${name}=`) });
        expect(answer.body.detail).toContain(`GET /opportunities/{id}?${name}=`);
        // The route's other faults are still told beside it.
        if (path.includes('limit=0')) expect(answer.body.errors).toContainEqual(expect.objectContaining({ field: 'limit' }));
      }
    }
    // The same on the routes of figures over a period, and the search: where an instant is read.
    for (const path of ['/analytics/funnel', '/analytics/win-loss?groupBy=team', '/opportunities?q=acme']) {
      const answer = await api.http.get(`${path}${path.includes('?') ? '&' : '?'}asOf=2026-01-01T00:00:00Z`).expect(400);
      expect({ path, errors: answer.body.errors }).toEqual({ path, errors: [{ field: 'asOf', message: expect.stringContaining('GET /pipeline?asOf=') }] });
    }
    // A parameter no sibling route has is still just unknown.
    expect((await api.http.get(`/opportunities/${id}/history?colour=red`).expect(400)).body.errors).toEqual([{ field: 'colour', message: 'property colour should not exist' }]);
  });

  // A query string reads "+" as a space (application/x-www-form-urlencoded): ?from=…+05:30
  // arrives as "… 05:30". Every instant parameter of every route says to send %2B.
  it('tells every instant query parameter that came with a "+" read as a space to send it as %2B', async () => {
    const document = (await api.anonymous.get('/docs/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string; example?: unknown; schema?: { example?: unknown } }[] }>>;
    };
    const asked = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([method]) => method === 'get')
        .flatMap(([, operation]) =>
          (operation.parameters ?? [])
            .filter((parameter) => parameter.in === 'query' && /^\d{4}-\d\d-\d\dT/.test(String(parameter.example ?? parameter.schema?.example ?? '')))
            .map((parameter) => ({ path: path.replace('{id}', ids[':open']!), name: parameter.name })),
        ),
    );
    // Validated though left out of the document (a board has no period: refused, saying what to use).
    asked.push({ path: '/pipeline', name: 'from' }, { path: '/pipeline', name: 'to' }, { path: '/analytics/rotting', name: 'from' });
    expect(new Set(asked.map((a) => a.name))).toEqual(new Set(['from', 'to', 'asOf', 'asOfRecorded', 'closedFrom', 'closedTo']));
    for (const { path, name } of asked) {
      for (const value of ['2026-01-01T00:00:00+05:30', '2026-01-01T00:00:00.123+0530', '2026-01-01T00:00:00+05']) {
        const answer = await api.http.get(`${path}?${name}=${value}`);
        const context = `${path}?${name}=${value}`;
        expect({ context, status: answer.status, code: answer.body.code }).toEqual({ context, status: 400, code: 'REQUEST.VALIDATION_FAILED' });
        expect({ context, errors: answer.body.errors }).toEqual({ context, errors: [{ field: name, message: expect.stringContaining('send a "+" in a URL as %2B') }] });
      }
    }
    // Other mistakes are not told about "+": nothing stands where an offset's sign would.
    const zoneless = await api.http.get('/analytics/funnel?from=2026-01-01T00:00:00').expect(400);
    expect(zoneless.body.errors[0].message).not.toContain('%2B');
    // Sent as %2B, the same instant is taken.
    await api.http.get('/analytics/funnel?from=2026-01-01T00:00:00%2B05:30').expect(200);
  });

  it('says which methods a known path takes, in the answer and in Allow', async () => {
    const get = await api.http.delete('/pipeline').expect(405);
    expect([get.headers['allow'], get.body.allowedMethods]).toEqual(['GET, HEAD', ['GET', 'HEAD']]);
    const post = await api.http.get(`/opportunities/${ids[':open']}/move?x=1`).expect(405);
    expect([post.headers['allow'], post.body.allowedMethods]).toEqual(['POST', ['POST']]);
    // One path, several routes: the opportunity itself is read and changed.
    const opportunity = await api.http.delete(`/opportunities/${ids[':open']}`).expect(405);
    expect(opportunity.headers['allow']).toBe('GET, HEAD, PATCH');
  });

  it('still takes the query parameters a route without a DTO names, and nothing is recorded for a refused command', async () => {
    const machine = await api.http.get('/processes/standard/machine?version=nope').expect(404);
    expect(machine.body.code).toBe('PROCESS.VERSION_NOT_FOUND');
    const before = (await api.http.get(`/opportunities/${ids[':open']}`).expect(200)).body.revision;
    await api.http.post(`/opportunities/${ids[':open']}/move?force=true`).send({ stage: 'qualification' }).expect(400);
    expect((await api.http.get(`/opportunities/${ids[':open']}`).expect(200)).body.revision).toBe(before);
  });

  it('reads whole-number parameters as decimal digits written the one way: no sign but a minus, no leading zero, no -0', async () => {
    const answer = await api.http.get('/pipeline?include=opportunities&cardsPerColumn=7').expect(200);
    expect(answer.body.processes.flatMap((process: { stages: { opportunities?: unknown[] }[] }) => process.stages.map((stage) => stage.opportunities?.length ?? 0)).every((n: number) => n <= 7)).toBe(true);
    for (const value of ['0x10', '007', '+7', '-0']) {
      const refused = await api.http.get(`/pipeline?include=opportunities&cardsPerColumn=${value}`).expect(400);
      expect([value, refused.body.errors]).toEqual([value, [{ field: 'cardsPerColumn', message: 'cardsPerColumn must be a whole number from 1 to 1000' }]]);
    }
    // Where 0 is in range, -0 was taken for it.
    const zero = await api.http.get('/analytics/funnel?minPosition=-0').expect(400);
    expect(zero.body.errors).toEqual([{ field: 'minPosition', message: `minPosition must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}` }]);
  });

  /** Sends bytes as they are, headers repeated as given (supertest would serialise a Buffer, and joins repeated headers). */
  async function rawRequest(path: string, headers: readonly [string, string][], body: Buffer | string, { method = 'POST', host = true } = {}): Promise<{ status: number; body: Record<string, unknown>; allow?: string }> {
    const server = api.app.getHttpServer() as import('node:http').Server;
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as import('node:net').AddressInfo;
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    const lines = [`${method} ${path} HTTP/1.1`, ...(host ? [`Host: 127.0.0.1:${port}`] : []), 'Connection: close', `Content-Length: ${payload.length}`, ...headers.map(([name, value]) => `${name}: ${value}`)];
    const head = [...lines, '', ''].join('\r\n');
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      // Written, not ended: the server answers, then closes (Connection: close).
      const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.concat([Buffer.from(head, 'latin1'), payload])));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => resolve(Buffer.concat(chunks)));
      socket.on('error', reject);
    });
    const text = answer.toString('utf8');
    const bodyText = text.slice(text.indexOf('\r\n\r\n') + 4);
    const allow = /\r\nallow: ([^\r]*)/i.exec(text.slice(0, text.indexOf('\r\n\r\n')))?.[1];
    return { status: Number(text.split(' ')[1]), body: JSON.parse(/transfer-encoding: chunked/i.test(text) ? bodyText.split('\r\n').filter((_, i) => i % 2 === 1).join('') : bodyText), ...(allow === undefined ? {} : { allow }) };
  }
  const authorised = (): [string, string] => ['Authorization', `Bearer ${api.keys[TEST_SERVICE]}`];

  // A method no route takes is told 405 and Allow on a known path (404 elsewhere), however its
  // body came: QUERY without a Content-Type (which Fastify refuses for any QUERY), a body that
  // is not JSON or too large were judged first, as if some route would have read them.
  it('answers a method no route takes as PUT /pipeline is answered (405 with Allow, or 404), before judging its body', async () => {
    const asked: [string, string, [string, string][], string][] = [
      ['QUERY', '/pipeline', [], ''],
      ['QUERY', '/pipeline', [['Content-Type', 'application/json']], '{}'],
      ['QUERY', `/opportunities/${ids[':open']}`, [], ''],
      ['DELETE', '/pipeline', [['Content-Type', 'application/json']], '{'],
      ['PUT', '/pipeline', [['Content-Type', 'application/json']], `"${long(300_000)}"`],
      ['PUT', '/pipeline', [], ''],
    ];
    const allowed = { '/pipeline': 'GET, HEAD', [`/opportunities/${ids[':open']}`]: 'GET, HEAD, PATCH' } as Record<string, string>;
    for (const [method, path, headers, body] of asked) {
      const answer = await rawRequest(path, [authorised(), ...headers], body, { method });
      const context = `${method} ${path} ${JSON.stringify(headers)} ${body.slice(0, 10)}`;
      expect({ context, status: answer.status, code: answer.body.code, allow: answer.allow }).toEqual({ context, status: 405, code: 'ROUTE.METHOD_NOT_ALLOWED', allow: allowed[path] });
    }
    const unrouted: [string, [string, string][], string][] = [['QUERY', [], ''], ['POST', [['Content-Type', 'text/plain']], 'x'], ['PATCH', [['Content-Type', 'application/json']], '{']];
    for (const [method, headers, body] of unrouted) {
      const answer = await rawRequest('/no-such-route', [authorised(), ...headers], body, { method });
      expect({ method, status: answer.status, code: answer.body.code }).toEqual({ method, status: 404, code: 'ROUTE.NOT_FOUND' });
    }
  });

  it('takes JSON in UTF-8 only: another charset is 415, invalid bytes 400, never text stored altered', async () => {
    const latin1 = Buffer.from('{"title":"M\u00fcller GmbH","processId":"standard"}', 'latin1');
    const declared = await rawRequest('/opportunities', [authorised(), ['Content-Type', 'application/json; charset=iso-8859-1']], latin1);
    expect([declared.status, declared.body.code]).toEqual([415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE']);
    const undeclared = await rawRequest('/opportunities', [authorised(), ['Content-Type', 'application/json']], latin1);
    expect([undeclared.status, undeclared.body.code]).toEqual([400, 'REQUEST.MALFORMED_JSON']);
    expect(undeclared.body.detail).toMatch(/UTF-8/);
    const utf8 = await rawRequest('/opportunities', [authorised(), ['Content-Type', 'application/json; charset=UTF-8']], Buffer.from('{"title":"M\u00fcller GmbH","processId":"standard"}', 'utf8'));
    expect(utf8.status).toBe(201);
    expect((await api.http.get(`/opportunities/${String(utf8.body.id)}`).expect(200)).body.title).toBe('M\u00fcller GmbH');
  });

  it('refuses an amount no stored number holds as written, on every route that takes one, and records nothing', async () => {
    const head = async () => (await api.http.get('/health').expect(200)).body.store.headPosition as number;
    const before = await head();
    const send = (method: 'post' | 'patch', path: string, json: string) => api.http[method](path).set('content-type', 'application/json').send(json);
    for (const [method, path, json] of [
      ['post', '/opportunities', '{"title":"T","processId":"standard","amount":999999999999999.9999,"currency":"EUR"}'],
      ['patch', `/opportunities/${ids[':open']}`, '{"amount":9007199254740993}'],
    ] as const) {
      const refused = await send(method, path, json);
      expect([path, refused.status, refused.body.code, refused.body.errors]).toEqual([path, 400, 'REQUEST.VALIDATION_FAILED', [{ field: 'amount', message: expect.stringMatching(/cannot be stored as written \(it would be recorded as \d+\)/) }]]);
    }
    expect(await head()).toBe(before);
    // The same amount with the digits a double holds is taken, and shown back as written.
    const taken = (await send('patch', `/opportunities/${ids[':open']}`, '{"amount":999999999999999.9,"currency":"EUR"}').expect(200)).body;
    expect((await api.http.get(`/opportunities/${ids[':open']}`).expect(200)).body.amount).toBe(999999999999999.9);
    expect(taken.position).toBeGreaterThan(before);
  });

  it('says why a body is not JSON, and tells a prototype key from a syntax error', async () => {
    const syntax = await api.http.post('/opportunities').set('content-type', 'application/json').send('{"title": "T",');
    expect([syntax.status, syntax.body.code]).toEqual([400, 'REQUEST.MALFORMED_JSON']);
    expect(syntax.body.detail).toMatch(/^The body is not valid JSON \(/);
    const proto = await api.http.post('/opportunities').set('content-type', 'application/json').send('{"title":"T","processId":"standard","constructor":{"prototype":{}}}');
    expect([proto.status, proto.body.code]).toEqual([400, 'REQUEST.MALFORMED_JSON']);
    expect(proto.body.detail).toMatch(/"__proto__" key, or a "constructor" key holding "prototype"/);
  });

  it('refuses an encoded body (415) rather than reading it as malformed JSON', async () => {
    const zipped = await rawRequest('/opportunities', [authorised(), ['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']], gzipSync('{"title":"T","processId":"standard"}'));
    expect([zipped.status, zipped.body.code]).toEqual([415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE']);
    expect(zipped.body.detail).toMatch(/Content-Encoding gzip/);
  });

  it('answers an HTTP/1.1 request without Host, and an Expect it cannot meet, as problems with a code', async () => {
    const hostless = await rawRequest('/processes', [authorised()], '', { method: 'GET', host: false });
    expect([hostless.status, hostless.body.code]).toEqual([400, 'REQUEST.MALFORMED_HTTP']);
    expect(hostless.body.detail).toMatch(/Host/);
    const expecting = await rawRequest('/processes', [authorised(), ['Expect', '200-ok']], '', { method: 'GET' });
    expect([expecting.status, expecting.body.code]).toEqual([417, 'REQUEST.EXPECTATION_FAILED']);
  });

  it('refuses a header that must come once when it comes twice, naming it, and records nothing', async () => {
    const before = (await api.http.get(`/opportunities/${ids[':open']}`).expect(200)).body.revision;
    for (const [header, value] of [authorised(), ['Content-Type', 'application/json'], ['Idempotency-Key', 'k-1'], ['If-Match', `"${before}"`], ['X-Correlation-Id', 'c-1']] as [string, string][]) {
      const others = [authorised(), ['Content-Type', 'application/json']].filter(([name]) => name !== header) as [string, string][];
      const answer = await rawRequest(`/opportunities/${ids[':open']}/move`, [...others, [header, value], [header, value]], '{"stage":"qualification"}');
      expect([header, answer.status, answer.body.code, answer.body.header]).toEqual([header, 400, 'REQUEST.INVALID_HEADER', header]);
    }
    expect((await api.http.get(`/opportunities/${ids[':open']}`).expect(200)).body.revision).toBe(before);
  });

  it('refuses a command header on a change that does not act on it, before it changes anything', async () => {
    const keysBefore = (await api.http.get('/admin/api-keys').expect(200)).body.keys.length;
    // Told retries were safe, a client retrying a lost answer made a second live key (whose secret it had never seen).
    for (const header of ['Idempotency-Key', 'If-Match', 'X-Actor']) {
      const made = await api.http.post('/admin/api-keys').set(header, header === 'If-Match' ? '"0"' : 'k-keys').send({ name: `made with ${header}`, roles: ['analyst'] });
      expect([header, made.status, made.body.code, made.body.header]).toEqual([header, 400, 'REQUEST.INVALID_HEADER', header.toLowerCase()]);
    }
    expect((await api.http.get('/admin/api-keys').expect(200)).body.keys).toHaveLength(keysBefore);
    // A key this test made, so that a deletion let through would show (an inline key cannot be deleted).
    const madeKey = (await api.http.post('/admin/api-keys').send({ name: 'to keep', roles: ['analyst'] }).expect(201)).body.id;
    expect((await api.http.delete(`/admin/api-keys/${madeKey}`).set('If-Match', '"0"')).body.code).toBe('REQUEST.INVALID_HEADER');
    expect((await api.http.get('/admin/api-keys').expect(200)).body.keys.map((key: { id: string }) => key.id)).toContain(madeKey);
    await api.http.delete(`/admin/api-keys/${madeKey}`).expect(204);
    expect((await api.http.post('/admin/projections/pipeline/rebuild').set('Idempotency-Key', 'k-rebuild')).body.code).toBe('REQUEST.INVALID_HEADER');
    // A bulk migration spans many revisions: an If-Match cannot be honoured, and is not ignored.
    const standard = (await api.http.get('/processes/standard').expect(200)).body.versions;
    const version = standard[standard.length - 1].version;
    const bulk = await api.http.post('/processes/standard/migrate').set('If-Match', '"0"').send({ fromVersion: version, toVersion: version });
    expect([bulk.status, bulk.body.code, bulk.body.header]).toEqual([400, 'REQUEST.INVALID_HEADER', 'if-match']);
    // Where they are acted on, and on reads, they are taken as before.
    const revision = (await api.http.get(`/opportunities/${ids[':open']}`).set('If-Match', '"0"').set('Idempotency-Key', 'k-read').expect(200)).body.revision;
    const changed = await api.http.patch(`/opportunities/${ids[':open']}`).set('If-Match', `"${revision}"`).set('Idempotency-Key', `k-patch-${revision}`).set('X-Actor', 'ana').send({ title: 'Open deal' });
    expect(changed.status).toBe(200);
  });

  it('tells each bad field what is wrong with it: missing, then the wrong kind, then the rule it breaks', async () => {
    const errorsOf = async (path: string, body: object) => (await api.http.post(path).send(body).expect(400)).body.errors;
    const move = `/opportunities/${ids[':open']}/move`;
    expect(await errorsOf(move, {})).toEqual([{ field: 'stage', message: 'stage is required' }]);
    expect(await errorsOf(move, { stage: 5 })).toEqual([{ field: 'stage', message: 'stage must be a string' }]);
    expect(await errorsOf(`/opportunities/${ids[':open']}/criteria`, { criterionId: 5, met: true })).toEqual([{ field: 'criterionId', message: 'criterionId must be a string' }]);
    expect(await errorsOf('/opportunities', { processId: 'standard' })).toEqual([{ field: 'title', message: 'title is required' }]);
    // 1e308 and 9007199254740993 are whole numbers of at least 0: the message gives the bound they break.
    for (const expectedRevision of ['3', true, null, -1, 1.5, 1e308, 9007199254740993]) {
      expect(await errorsOf(move, { stage: 'qualification', expectedRevision })).toEqual([{ field: 'expectedRevision', message: `expectedRevision must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER} (the revision the client read)` }]);
    }
    expect(await errorsOf('/admin/api-keys', { name: 'x', roles: 'writer' })).toEqual([{ field: 'roles', message: 'roles must be an array' }]);
    expect(await errorsOf('/admin/api-keys', { name: 'x', roles: ['writer'], teams: 'direct' })).toEqual([{ field: 'teams', message: 'teams must be an array' }]);
    expect(await errorsOf('/admin/api-keys', { name: 'x' })).toEqual([{ field: 'roles', message: 'roles is required' }]);
  });

  it('names the path alone as the instance of a problem: a query may hold what must not be echoed', async () => {
    const answer = await api.anonymous.get('/pipeline?access_token=sck_secret_value&closed=open').expect(401);
    expect(answer.body.instance).toBe('/pipeline');
    expect(JSON.stringify(answer.body)).not.toContain('sck_secret_value');
  });

  it('echoes the X-Correlation-Id it was given, on answers and on refusals', async () => {
    const ok = await api.http.get('/processes').set('X-Correlation-Id', 'trace-42').expect(200);
    const refused = await api.http.post(`/opportunities/${ids[':open']}/move`).set('X-Correlation-Id', 'trace-43').send({ stage: 'negotiation' }).expect(422);
    expect([ok.headers['x-correlation-id'], refused.headers['x-correlation-id']]).toEqual(['trace-42', 'trace-43']);
  });

  it('a body without a Content-Type is 415, not a field error', async () => {
    const answer = await api.app.getHttpAdapter().getInstance().inject({
      method: 'POST',
      url: '/opportunities',
      headers: { authorization: `Bearer ${api.keys[TEST_SERVICE]}` },
      payload: Buffer.from('{"title":"T","processId":"standard"}'),
    });
    expect([answer.statusCode, answer.headers['content-type'], answer.json().code]).toEqual([415, 'application/problem+json; charset=utf-8', 'REQUEST.UNSUPPORTED_MEDIA_TYPE']);
  });
});

/**
 * An API listening on a port of its own, for tests that talk raw TCP to it, started before the
 * suite's tests and closed after them; `api` and `port` are set once it listens.
 */
function listeningApi(env: Record<string, string>): { api: ApiTestApp & { keys: Record<string, string> }; port: number } {
  const dir = temporaryDirectory();
  const handle = { api: undefined as unknown as ApiTestApp & { keys: Record<string, string> }, port: 0 };
  beforeAll(async () => {
    handle.api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db`, env });
    const server = handle.api.app.getHttpServer() as import('node:http').Server;
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    handle.port = (server.address() as import('node:net').AddressInfo).port;
  });
  afterAll(async () => {
    await handle.api?.close();
    dir.remove();
  });
  return handle;
}

describe('a client that stops reading its answers', () => {
  // A short CONNECTION_IDLE_TIMEOUT_MS, so that the test waits a second and a half, not two minutes.
  // No projector runs (PROJECTIONS=external): a read asking for a position written since waits its
  // READ_YOUR_WRITES_TIMEOUT_MS, without a byte, then answers 503.
  const models = temporaryDirectory();
  afterAll(() => models.remove());
  const listening = listeningApi({ CONNECTION_IDLE_TIMEOUT_MS: '1500', READ_YOUR_WRITES_TIMEOUT_MS: '4000', PROJECTIONS: 'external', READ_MODELS_PATH: join(models.path, 'read-models.db') });

  /**
   * Sends the requests at once and reads `reading` bytes at most, then nothing more; resolves when
   * the server closes its side (the client, paused, would not see it), with what it still held.
   */
  const neverReading = (requests: string, reading: number) =>
    new Promise<{ ms: number }>((resolve) => {
      const server = listening.api.app.getHttpServer() as import('node:http').Server;
      const started = Date.now();
      server.once('connection', (accepted: import('node:net').Socket) => accepted.on('close', () => resolve({ ms: Date.now() - started })));
      let received = 0;
      const socket = connect({ port: listening.port, host: '127.0.0.1' }, () => socket.write(requests));
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= reading) socket.pause(); // stops reading: the kernel's buffers fill, the server's writes wait
      });
      socket.on('error', () => undefined);
    });
  const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${listening.port}\r\nAuthorization: Bearer ${listening.api.keys[TEST_SERVICE]}\r\n\r\n`;

  it('is let go once nothing has moved for CONNECTION_IDLE_TIMEOUT_MS, its unsent answers with it', async () => {
    // Three hundred answers of the OpenAPI document asked at once (more than the kernel's buffers
    // hold), of which the client reads 64 kB: without the limit the server held them (and their
    // connection) for as long as the client stayed.
    const { ms } = await neverReading(get('/docs/openapi.json').repeat(300), 64 * 1024);
    expect(ms).toBeGreaterThanOrEqual(1_000);
    expect(ms).toBeLessThan(20_000);
  }, 60_000);

  it('keeps a connection whose request is still being worked on, however long nothing moves on it', async () => {
    const { position } = (await listening.api.http.post('/opportunities').send({ title: 'Waited for', processId: 'standard' }).expect(201)).body as { position: number };
    const started = Date.now();
    const waited = await listening.api.http.get(`/pipeline?minPosition=${position}`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    expect([waited.status, waited.body.code]).toEqual([503, 'PROJECTIONS.BEHIND']);
  }, 30_000);
});

describe('a request that arrives while the instance shuts down', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  // Checked once, on the embedded store (its file is read at the end): the hook is the HTTP layer's, the same on either store.
  itIf(E2E_STORE === 'sqlite', 'the HTTP layer alike on either store; checked on the embedded one')('is answered 503 SERVICE.SHUTTING_DOWN as a problem, with Retry-After and the connection closed, and not run', async () => {
    // No projector (PROJECTIONS=external): a read waiting for a position keeps its connection busy
    // through the start of the shutdown, so a second request can come on it after closing began.
    // The wait (5 s) outlasts the start of the shutdown on a loaded machine: the second request must come while the first is still out.
    const api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db`, env: { PROJECTIONS: 'external', READ_MODELS_PATH: join(dir.path, 'read-models.db'), READ_YOUR_WRITES_TIMEOUT_MS: '5000' } });
    const server = api.app.getHttpServer() as import('node:http').Server;
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as import('node:net').AddressInfo;
    const { position } = (await api.http.post('/opportunities').send({ title: 'Before', processId: 'standard' }).expect(201)).body as { position: number };
    const auth = `Authorization: Bearer ${api.keys[TEST_SERVICE]}`;
    const received: Buffer[] = [];
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET /pipeline?minPosition=${position} HTTP/1.1\r\nHost: x\r\n${auth}\r\n\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const closed = api.close();
    while (server.listening) await new Promise((resolve) => setTimeout(resolve, 10));
    const during = '{"title":"During","processId":"standard"}';
    socket.write(`POST /opportunities HTTP/1.1\r\nHost: x\r\n${auth}\r\nContent-Type: application/json\r\nContent-Length: ${during.length}\r\n\r\n${during}`);
    await ended;
    await closed;
    const text = Buffer.concat(received).toString('utf8');
    const answers = text.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(2);
    const [head, body] = answers[1]!.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head).toMatch(/\r\ncontent-type: application\/problem\+json/i);
    expect(head).toMatch(/\r\nretry-after: 1/i);
    expect(head).toMatch(/\r\nconnection: close/i);
    expect(JSON.parse(body!)).toMatchObject({ status: 503, code: 'SERVICE.SHUTTING_DOWN' });
    // Not run: the store holds the first opportunity only.
    const store = getSQLiteEventStore({ path: `${dir.path}/events.db` });
    try {
      expect((await store.readAll()).filter((event) => event.type === 'OpportunityOpened')).toHaveLength(1);
    } finally {
      await store.close();
    }
  }, 30_000);
});

describe('a keep-alive request still being answered when the shutdown begins', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  itIf(E2E_STORE === 'sqlite', 'the HTTP layer alike on either store; checked on the embedded one')('has its connection let go after its answer, so the shutdown does not wait REQUEST_TIMEOUT_MS', async () => {
    const api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db`, env: { PROJECTIONS: 'external', READ_MODELS_PATH: join(dir.path, 'read-models.db'), READ_YOUR_WRITES_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '20000' } });
    const server = api.app.getHttpServer() as import('node:http').Server;
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as import('node:net').AddressInfo;
    const { position } = (await api.http.post('/opportunities').send({ title: 'Before', processId: 'standard' }).expect(201)).body as { position: number };
    const received: Buffer[] = [];
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET /pipeline?minPosition=${position} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${api.keys[TEST_SERVICE]}\r\n\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    try {
      await api.close();
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(Buffer.concat(received).toString('utf8')).toMatch(/^HTTP\/1\.1 503 /);
    } finally {
      socket.destroy();
    }
  }, 40_000);
});

describe('a client that stops sending, or asks for a tunnel', () => {
  // A short REQUEST_TIMEOUT_MS, so that the test waits a second, not the default 30.
  const listening = listeningApi({ REQUEST_TIMEOUT_MS: '1000' });
  /** Writes raw bytes on a new connection; resolves with each answer read until the server closes it. */
  const answersTo = (bytes: string) =>
    new Promise<string[]>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect(listening.port, '127.0.0.1', () => socket.write(bytes));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8').split(/(?=HTTP\/1\.1 \d{3} )/).filter((answer) => answer.length > 0)));
      socket.on('error', reject);
    });

  /** Writes the bytes and never more; resolves with what came back before the server closed, and how long that took. */
  const sendAndWait = (bytes: string) =>
    new Promise<{ status: number; code: unknown; ms: number; allow?: string }>((resolve, reject) => {
      const started = Date.now();
      const chunks: Buffer[] = [];
      const socket = connect(listening.port, '127.0.0.1', () => socket.write(bytes));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('close', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const body = text.slice(text.indexOf('\r\n\r\n') + 4);
        const allow = /\r\nallow: ([^\r]*)/i.exec(text.slice(0, text.indexOf('\r\n\r\n')))?.[1];
        resolve({ status: Number(text.split(' ')[1]), code: body === '' ? undefined : (JSON.parse(body) as { code?: unknown }).code, ms: Date.now() - started, ...(allow === undefined ? {} : { allow }) });
      });
      socket.on('error', reject);
    });
  const head = (lines: string[]) => [`POST /opportunities HTTP/1.1`, `Host: 127.0.0.1:${listening.port}`, `Authorization: Bearer ${listening.api.keys[TEST_SERVICE]}`, 'Content-Type: application/json', ...lines, '', ''].join('\r\n');

  it.each([
    ['a body shorter than its Content-Length', () => head(['Content-Length: 100']) + '{}'],
    ['a chunked body whose last chunk never comes', () => head(['Transfer-Encoding: chunked']) + '2\r\n{}\r\n'],
    ['headers that never end', () => `POST /opportunities HTTP/1.1\r\nHost: 127.0.0.1:${listening.port}\r\nContent-Type: application/json\r\n`],
  ])('%s: answered 408 REQUEST.TIMEOUT and let go, not held for ever', async (_name, bytes) => {
    const answer = await sendAndWait(bytes());
    expect([answer.status, answer.code]).toEqual([408, 'REQUEST.TIMEOUT']);
  }, 20_000);

  it('a transfer coding other than chunked (gzip, chunked): 415, the body never read as it came', async () => {
    const body = '{"title":"T","processId":"standard"}';
    const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const refused = await sendAndWait(head(['Transfer-Encoding: gzip, chunked', 'Connection: close']) + chunked);
    expect([refused.status, refused.code]).toEqual([415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE']);
    const taken = await sendAndWait(head(['Transfer-Encoding: chunked', 'Connection: close']) + chunked);
    expect(taken.status).toBe(201);
  });

  it('a transfer coding that does not end in chunked: one 400 and the connection closed, never a second answer to one request', async () => {
    // RFC 9112, section 6.1: the body's length cannot be told, so nothing after the headers can be
    // trusted to be (or not be) another request. Each request gets exactly one answer.
    const body = '{"title":"T","processId":"standard"}';
    for (const [method, coding, typed] of [['POST', 'gzip', true], ['POST', 'identity', true], ['HEAD', 'identity', true], ['GET', 'chunked, gzip', true], ['POST', 'gzip', false], ['HEAD', 'identity', false]] as const) {
      // Without a Content-Type too: what else the request gets wrong does not keep the connection open.
      const request = (typed ? head([`Transfer-Encoding: ${coding}`]) : head([`Transfer-Encoding: ${coding}`]).replace('Content-Type: application/json\r\n', '')).replace('POST /opportunities', `${method} ${method === 'POST' ? '/opportunities' : '/pipeline'}`) + (method === 'POST' ? body : '');
      const answers = await answersTo(request);
      const context = `${method} with Transfer-Encoding: ${coding}${typed ? '' : ', no Content-Type'}`;
      expect({ context, statuses: answers.map((answer) => Number(answer.split(' ')[1])) }).toEqual({ context, statuses: [400] });
      expect({ context, closes: /\r\nconnection: close\r\n/i.test(answers[0]!) }).toEqual({ context, closes: true });
      if (method !== 'HEAD') expect(JSON.parse(answers[0]!.slice(answers[0]!.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'REQUEST.MALFORMED_HTTP', detail: expect.stringContaining('chunked') });
    }
    // Whatever else the request gets wrong (a header sent twice, no Host, a query that does not decode).
    for (const [method, extra, target] of [['HEAD', 'Accept: a\r\nAccept: b', '/pipeline'], ['POST', 'Accept: a\r\nAccept: b', '/opportunities'], ['HEAD', '', '/pipeline?teamId=%ZZ'], ['POST', '', '/opportunities?x=%ZZ']] as const) {
      const request = head(['Transfer-Encoding: identity', ...(extra ? [extra] : [])]).replace('POST /opportunities', `${method} ${target}`) + (method === 'POST' ? body : '');
      const answers = await answersTo(request);
      const context = `${method} ${target} with Transfer-Encoding: identity${extra ? ' and a header twice' : ''}`;
      expect({ context, statuses: answers.map((answer) => Number(answer.split(' ')[1])) }).toEqual({ context, statuses: [400] });
      expect({ context, closes: /\r\nconnection: close\r\n/i.test(answers[0]!) }).toEqual({ context, closes: true });
      if (method === 'POST') expect(JSON.parse(answers[0]!.slice(answers[0]!.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'REQUEST.MALFORMED_HTTP' });
    }
    // Pipelined behind a request still being answered: that request keeps its own answer, and this
    // one's 400 comes after it (no body after a HEAD's), then the connection closes.
    const before = `GET /pipeline HTTP/1.1\r\nHost: 127.0.0.1:${listening.port}\r\nAuthorization: Bearer ${listening.api.keys[TEST_SERVICE]}\r\n\r\n`;
    for (const [method, coding] of [['POST', 'gzip'], ['HEAD', 'identity']] as const) {
      const request = head([`Transfer-Encoding: ${coding}`]).replace('POST /opportunities', `${method} ${method === 'POST' ? '/opportunities' : '/pipeline'}`) + (method === 'POST' ? body : '');
      const answers = await answersTo(before + request);
      const context = `GET, then ${method} with Transfer-Encoding: ${coding}, pipelined`;
      expect({ context, statuses: answers.map((answer) => Number(answer.split(' ')[1])) }).toEqual({ context, statuses: [200, 400] });
      expect({ context, closes: /\r\nconnection: close\r\n/i.test(answers[1]!) }).toEqual({ context, closes: true });
      const after = answers[1]!.slice(answers[1]!.indexOf('\r\n\r\n') + 4);
      if (method === 'HEAD') expect({ context, after }).toEqual({ context, after: '' });
      else expect(JSON.parse(after)).toMatchObject({ code: 'REQUEST.MALFORMED_HTTP', detail: expect.stringContaining('chunked') });
    }
  });

  // RFC 9110, 9.3.2: an answer to HEAD has no content, though it may say the Content-Length and
  // Content-Type a GET would get. A refusal written on the raw socket (the parser's) sent its
  // problem+json after a HEAD's headers all the same: bytes a client reads as the next answer.
  it('a HEAD refused, by the parser or by the routes: the status and the headers a GET would get, no content after them', async () => {
    const key = `Authorization: Bearer ${listening.api.keys[TEST_SERVICE]}`;
    const refusals: [string, string, number][] = [
      ['a folded header', `HEAD /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n`, 400],
      ['a target that is no path', `HEAD %2Fhealth HTTP/1.1\r\nHost: x\r\n\r\n`, 400],
      ['headers too large', `HEAD /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17_000)}\r\n\r\n`, 431],
      ['a query the route refuses', `HEAD /pipeline?include=opportunities&cardsPerColumn=ten HTTP/1.1\r\nHost: x\r\n${key}\r\nConnection: close\r\n\r\n`, 400],
      ['no credentials', `HEAD /pipeline HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 401],
      ['no such route', `HEAD /no-such-route HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 404],
      ['an Expect it cannot meet', `HEAD /pipeline HTTP/1.1\r\nHost: x\r\n${key}\r\nExpect: later\r\n\r\n`, 417],
    ];
    for (const [what, bytes, status] of refusals) {
      // Alone, and pipelined behind a GET in one packet (the refused request is the second).
      for (const [before, statuses] of [['', [status]], [`GET /health HTTP/1.1\r\nHost: x\r\n\r\n`, [200, status]]] as const) {
        const context = `HEAD with ${what}${before ? ', behind a GET' : ''}`;
        const answers = await answersTo(before + bytes);
        expect({ context, statuses: answers.map((answer) => Number(answer.split(' ')[1])) }).toEqual({ context, statuses });
        const refusal = answers[answers.length - 1]!;
        const end = refusal.indexOf('\r\n\r\n');
        expect({ context, typed: /\r\ncontent-type: application\/problem\+json/i.test(refusal.slice(0, end)), content: refusal.slice(end + 4) }).toEqual({ context, typed: true, content: '' });
      }
    }
  });

  // The parser's refusal of bytes pipelined behind a command was written at once, while the command
  // was still being decided: the client read `400 REQUEST.MALFORMED_HTTP` as its command's answer
  // (a refusal: "nothing recorded"), the command's own 201 was lost with the connection, and the
  // deal was opened all the same — a retry without a key opened a twin.
  it('malformed bytes pipelined behind a command: the command keeps its own answer, then the 400, then the connection closes', async () => {
    const malformed: [string, string, number, string][] = [
      ['a folded header', `GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n`, 400, 'REQUEST.MALFORMED_HTTP'],
      ['a target that is no path', `GET %2Fhealth HTTP/1.1\r\nHost: x\r\n\r\n`, 400, 'REQUEST.MALFORMED_HTTP'],
      ['a method the parser does not know', `FOO /pipeline HTTP/1.1\r\nHost: x\r\n\r\n`, 405, 'ROUTE.METHOD_NOT_ALLOWED'],
      ['headers too large', `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17_000)}\r\n\r\n`, 431, 'REQUEST.HEADERS_TOO_LARGE'],
      ['headers that never end', `GET /health HTTP/1.1\r\nHost: x\r\n`, 408, 'REQUEST.TIMEOUT'],
      ['a CONNECT', `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`, 405, 'ROUTE.METHOD_NOT_ALLOWED'],
    ];
    for (const [what, after, status, code] of malformed) {
      const title = `Pipelined before ${what}`;
      const body = JSON.stringify({ title, processId: 'standard' });
      const command = head([`Content-Length: ${Buffer.byteLength(body)}`]) + body;
      const answers = await answersTo(command + after);
      const context = `a command, then ${what}`;
      expect({ context, statuses: answers.map((answer) => Number(answer.split(' ')[1])) }).toEqual({ context, statuses: [201, status] });
      const opened = JSON.parse(answers[0]!.slice(answers[0]!.indexOf('\r\n\r\n') + 4)) as { id: string };
      expect((await listening.api.http.get(`/opportunities/${opened.id}`).expect(200)).body).toMatchObject({ title });
      expect({ context, closes: /\r\nconnection: close\r\n/i.test(answers[1]!) }).toEqual({ context, closes: true });
      expect({ context, code: (JSON.parse(answers[1]!.slice(answers[1]!.indexOf('\r\n\r\n') + 4)) as { code: string }).code }).toEqual({ context, code });
    }
  });

  // Node's parser knows a fixed list of methods and refuses any other before the router sees it:
  // a method no route takes is answered as PUT /pipeline is, whether the parser knows it or not.
  it('a method the HTTP parser does not know: 405 with Allow on a known path, 404 elsewhere, not "not valid HTTP"', async () => {
    for (const method of ['FOO', 'QUERYX', 'get']) {
      const known = await sendAndWait(`${method} /pipeline?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect({ method, status: known.status, code: known.code, allow: known.allow }).toEqual({ method, status: 405, code: 'ROUTE.METHOD_NOT_ALLOWED', allow: 'GET, HEAD' });
      const unknown = await sendAndWait(`${method} /no-such-route HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect({ method, status: unknown.status, code: unknown.code }).toEqual({ method, status: 404, code: 'ROUTE.NOT_FOUND' });
    }
    // Behind another request in one packet: told of its own path, not of the first request's.
    const pipelined = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = connect(listening.port, '127.0.0.1', () => socket.write(`GET /no-such-route HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nFOO /pipeline HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
    });
    expect(pipelined).toMatch(/HTTP\/1\.1 405 [^\r]*\r\n(?:[^\r]+\r\n)*allow: GET, HEAD\r\n/i);
    // What is not a request line at all is still malformed HTTP.
    const garbage = await sendAndWait('\u0001\u0002 nonsense\r\n\r\n');
    expect([garbage.status, garbage.code]).toEqual([400, 'REQUEST.MALFORMED_HTTP']);
  });

  it('CONNECT: 405 ROUTE.METHOD_NOT_ALLOWED as a problem, not a closed socket without a word', async () => {
    const answer = await sendAndWait(`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`);
    expect([answer.status, answer.code]).toEqual([405, 'ROUTE.METHOD_NOT_ALLOWED']);
  });
});

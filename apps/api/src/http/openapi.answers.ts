import type { OpenAPIObject, OperationObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { PROBLEM_CODES } from './problem.catalogue';

// What the routes answer, added to the document Nest builds from the controllers: every refusal
// is application/problem+json with a code of the catalogue (so a client's generated types name
// them all), and the figure routes answer CSV beside JSON. Nest's @ApiProduces does not reach an
// OpenAPI 3 answer's content, and an error answer per route would restate the catalogue thirty
// times; one `default` answer says it once.

const PROBLEM: SchemaObject = {
  type: 'object',
  description: 'RFC 9457 problem details; extension members beside these depend on the code (README, "Every problem code")',
  required: ['type', 'title', 'status', 'code', 'detail'],
  // RFC 9457's extension members: each code adds its own (the revision a conflict found, the rule a move broke…).
  additionalProperties: true,
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    code: { type: 'string', enum: [...PROBLEM_CODES] },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      description: 'REQUEST.VALIDATION_FAILED: one entry per field',
      items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
    hiddenBy: {
      type: 'array',
      description: "EVENT_STORE.STREAM_HIDDEN: the event store's settings that hide every event of the opportunity from readers (its log still holds them); `hidden` says what each hides, as /verify reports it",
      items: { type: 'string', enum: ['tombstone', 'soft-delete', 'truncate-before', 'max-count', 'max-age'] },
    },
    hidden: {
      type: 'array',
      description: 'EVENT_STORE.STREAM_HIDDEN and EVENT_STORE.STREAM_UNREADABLE: what a setting hides, each as /verify reports it (stream, mechanism, setting, detail)',
      items: { type: 'object', additionalProperties: true },
    },
    unchecked: {
      type: 'array',
      description: "EVENT_STORE.STREAM_UNREADABLE: the store refused the service's user the stream's metadata, so whether a setting hides the events before `firstReadableRevision` or they were cut could not be told (check, stream, user, permission, firstReadRevision, detail), as /verify reports it",
      items: { type: 'object', additionalProperties: true },
    },
  },
};

// Every 503, and each 429 and 507, says how long to wait (problem.ts, problemHeaders; /health's
// 503 too): a client generated from the document should find the header it is told to honour.
const RETRY_AFTER = {
  'Retry-After': {
    description: 'On 429, 503 and 507: the seconds to wait before retrying (README, "Every problem code")',
    schema: { type: 'integer', minimum: 0 },
  },
};
/** The statuses that always say how long to wait. */
const WAIT_STATUSES = ['429', '503', '507'];

const REFUSAL: ResponseObject = {
  description: 'A refusal (4xx) or a failure (5xx): application/problem+json with a stable code',
  headers: RETRY_AFTER,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};

/** A route that answers CSV too: its `format` parameter offers csv (Accept: text/csv chooses it as well). */
function answersCsv(operation: OperationObject): boolean {
  return (operation.parameters ?? []).some((parameter) => 'name' in parameter && parameter.name === 'format' && ((parameter.schema as SchemaObject | undefined)?.enum ?? []).includes('csv'));
}

export function withDocumentedAnswers(document: OpenAPIObject): OpenAPIObject {
  document.components = { ...document.components, schemas: { ...document.components?.schemas, Problem: PROBLEM } };
  for (const methods of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = methods[method];
      if (operation === undefined) continue;
      operation.responses.default = REFUSAL;
      // A route that lists one of them on its own (/health's 503, its body not a problem) declares the header there too.
      for (const status of WAIT_STATUSES) {
        const answer = operation.responses[status] as ResponseObject | undefined;
        if (answer !== undefined) answer.headers = { ...answer.headers, ...RETRY_AFTER };
      }
      const ok = operation.responses['200'] as ResponseObject | undefined;
      if (ok !== undefined && answersCsv(operation)) {
        ok.content = { 'application/json': ok.content?.['application/json'] ?? { schema: { type: 'object' } }, 'text/csv': { schema: { type: 'string', description: 'RFC 4180, a header line first' } } };
      }
    }
  }
  return document;
}

import { Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { EventStoreAccessDeniedError, EventStoreOutcomeUnknownError, EventStoreUnavailableError } from '@stagecraft/event-store';
import { ReadModelUnavailableError } from '@stagecraft/projections';
import { ApiProblem } from './problem';
import { PROBLEM_STATUS, type ProblemCode } from './problem.catalogue';
import { sendProblem } from './problem.filter';

/** The headers and status sendProblem wrote, as a client would read them. */
function answer(error: unknown): { status: number; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  let status = 0;
  const reply = {
    hasHeader: (name: string) => name.toLowerCase() in headers,
    header(name: string, value: string) {
      headers[name.toLowerCase()] = value;
      return reply;
    },
    status(code: number) {
      status = code;
      return reply;
    },
    send: () => reply,
  };
  const request = { method: 'GET', url: '/pipeline', correlationId: 'c-1' } as unknown as FastifyRequest;
  sendProblem(error, request, reply as unknown as FastifyReply, { warn: () => undefined, error: () => undefined } as unknown as Logger);
  return { status, headers };
}

const SECONDS = /^[1-9]\d*$/;
const UNAVAILABLE_CODES = (Object.keys(PROBLEM_STATUS) as ProblemCode[]).filter((code) => PROBLEM_STATUS[code] === 503);

describe('sendProblem: every 503 says when to come back (Retry-After)', () => {
  it('the catalogue has 503 codes to check', () => {
    expect(UNAVAILABLE_CODES).toEqual(expect.arrayContaining(['PROJECTIONS.FAILED', 'AUTH.KEYS_UNAVAILABLE', 'EVENT_STORE.ACCESS_DENIED']));
  });

  it.each(UNAVAILABLE_CODES)('%s, thrown without a Retry-After of its own, is answered with one in whole seconds', (code) => {
    const { status, headers } = answer(new ApiProblem(code, 'Unavailable.'));
    expect([status, headers['retry-after']]).toEqual([503, expect.stringMatching(SECONDS)]);
  });

  it.each([
    ['the read models stopped', new ReadModelUnavailableError('PROJECTIONS.FAILED', 'stopped', 'pipeline')],
    ['the read side cannot be reached', new ReadModelUnavailableError('PROJECTIONS.UNAVAILABLE', 'down')],
    ['the event store refusing our credentials', new EventStoreAccessDeniedError('kurrentdb://db:2113', 'append to "opportunity-1"')],
    ['the event store down', new EventStoreUnavailableError('kurrentdb://db:2113', 'down')],
  ])('%s: 503 with Retry-After', (_what, error) => {
    const { status, headers } = answer(error);
    expect([status, headers['retry-after']]).toEqual([503, expect.stringMatching(SECONDS)]);
  });

  it('an operator matter (credentials refused, read models stopped) asks for longer than a passing outage', () => {
    expect(Number(answer(new EventStoreAccessDeniedError('kurrentdb://db:2113', 'read')).headers['retry-after'])).toBeGreaterThan(Number(answer(new EventStoreUnavailableError('kurrentdb://db:2113', 'down')).headers['retry-after']));
    expect(Number(answer(new ReadModelUnavailableError('PROJECTIONS.FAILED', 'stopped')).headers['retry-after'])).toBeGreaterThan(Number(answer(new ReadModelUnavailableError('PROJECTIONS.UNAVAILABLE', 'down')).headers['retry-after']));
  });

  it('keeps a Retry-After the problem already names', () => {
    expect(answer(new ApiProblem('API_KEY.FILE_UNUSABLE', 'Look at the file.', {}, { 'retry-after': '30' })).headers['retry-after']).toBe('30');
    expect(answer(new EventStoreOutcomeUnknownError('kurrentdb://db:2113', 'opportunity-1', 'timeout')).headers['retry-after']).toBe('1');
  });

  it('adds none to an answer that is not a 503', () => {
    expect(answer(new ApiProblem('ROUTE.NOT_FOUND', 'No such route.')).headers['retry-after']).toBeUndefined();
    expect(answer(new Error('a bug')).headers['retry-after']).toBeUndefined();
  });
});

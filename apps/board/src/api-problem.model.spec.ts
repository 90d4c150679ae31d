import { inSentence, problemOf } from './api-problem.model';

describe('what the board says when the API answers an error', () => {
  it('passes the API\'s own problem through as it is', () => {
    const problem = { status: 422, code: 'OPPORTUNITY.SKIP_NOT_ALLOWED', detail: 'This process does not allow skipping stages.' };
    expect(problemOf(422, problem)).toBe(problem);
  });

  it('words an answer that is not the API\'s (a proxy or load balancer in front of it), also without a reason phrase (HTTP/2 has none)', () => {
    const problem = problemOf(502, undefined);
    expect([problem.status, problem.code]).toEqual([502, 'HTTP.502']);
    expect(problem.detail).toBe('The server is unavailable for a moment (HTTP 502); try again shortly.');
    expect(problemOf(503, '<html>…</html>').detail).toBe('The server is unavailable for a moment (HTTP 503); try again shortly.');
    expect(problemOf(500, undefined).detail).toBe('The server failed to answer (HTTP 500); try again shortly.');
    expect(problemOf(429, undefined).detail).toBe('Too many requests were sent (HTTP 429); wait a moment and try again.');
    expect(problemOf(413, undefined).detail).toBe('The server refused the request (HTTP 413): too large.');
    expect(problemOf(404, undefined).detail).toBe('The server refused the request (HTTP 404): not found.');
    expect(problemOf(418, undefined).detail).toBe('The server refused the request (HTTP 418).');
    // Never an empty message: the status line would say nothing at all.
    for (const status of [400, 401, 403, 404, 405, 408, 409, 413, 415, 429, 500, 501, 502, 503, 504, 599]) expect(problemOf(status, undefined).detail).toMatch(/HTTP \d{3}/);
  });

  it('isolates the API\'s words set in a board sentence (U+2068 … U+2069), not the board\'s own wording of a failure', () => {
    const refused = { status: 400, code: 'OPPORTUNITY.UNKNOWN_TEAM', detail: 'This caller is limited to the teams direct, not "שותפים".' };
    expect(inSentence(refused, refused.detail)).toBe('\u2068This caller is limited to the teams direct, not "שותפים".\u2069');
    for (const worded of [problemOf(502, undefined), { status: 0, code: 'NETWORK.TIMEOUT' }, { status: 400, code: 'BOARD.PERIOD_OUT_OF_ORDER' }]) expect(inSentence(worded, 'The server did not answer.')).toBe('The server did not answer.');
  });
});

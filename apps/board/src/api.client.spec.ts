import { ApiError, resending } from './api.client';

describe('an action sent again (resending)', () => {
  const noAnswer = new ApiError({ status: 0, code: 'NETWORK.UNREACHABLE' });
  const refused = new ApiError({ status: 409, code: 'OPPORTUNITY.REVISION_CONFLICT' });
  /** Sends `request` failing with `error` (or answered), and gives the key it went under. */
  const sendWith = (send: ReturnType<typeof resending>) => async (request: unknown, error?: ApiError) => {
    let used = '';
    await send(request, async (key) => {
      used = key;
      if (error) throw error;
    }).catch(() => undefined);
    return used;
  };

  it('goes under the same key after no answer, and under a new one after an answer, a refusal or another request', async () => {
    const send = sendWith(resending());
    const first = await send({ met: true }, noAnswer);
    expect(await send({ met: true })).toBe(first); // the same request after no answer
    const answered = await send({ met: true });
    expect(answered).not.toBe(first); // answered: a new action
    const refusedKey = await send({ met: true }, refused);
    expect(await send({ met: true })).not.toBe(refusedKey); // a refusal is an answer
    const unanswered = await send({ met: true }, new ApiError({ status: 502, code: 'HTTP.502' }));
    expect(await send({ met: false })).not.toBe(unanswered); // another request
  });

  it('keeps the key of an unknown outcome through a retry turned away before it was looked at (a key refused, a role, too many requests)', async () => {
    for (const status of [401, 403, 429]) {
      const send = sendWith(resending());
      const first = await send({ met: true }, noAnswer);
      expect([status, await send({ met: true }, new ApiError({ status, code: 'TURNED.AWAY' }))]).toEqual([status, first]);
      expect([status, await send({ met: true })]).toEqual([status, first]); // signed in again: still the same key
    }
    // Turned away on a first try, nothing was recorded under its key: the next try is a new action.
    const send = sendWith(resending());
    const turnedAway = await send({ met: true }, new ApiError({ status: 401, code: 'AUTH.UNAUTHENTICATED' }));
    expect(await send({ met: true })).not.toBe(turnedAway);
  });

  it('is pending while its last try\'s outcome is unknown, through a retry turned away, and no longer once answered', async () => {
    const resend = resending();
    const send = sendWith(resend);
    expect(resend.pending).toBe(false);
    await send({ stage: 'won' }, noAnswer);
    expect(resend.pending).toBe(true);
    await send({ stage: 'won' }, new ApiError({ status: 429, code: 'RATE_LIMITED' }));
    expect(resend.pending).toBe(true);
    await send({ stage: 'won' }, refused);
    expect(resend.pending).toBe(false);
  });
});

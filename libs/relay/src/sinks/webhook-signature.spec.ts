import { signWebhook, verifyWebhookSignature } from './webhook-signature';

const SECRET = 'whsec-0123456789abcdef0123456789abcdef';
const body = Buffer.from('{"specversion":"1.0","id":"x"}');

describe('webhook signatures', () => {
  it('verify what was signed, within the tolerance', () => {
    expect(verifyWebhookSignature(SECRET, signWebhook(SECRET, 1_800_000_000, body), body, 1_800_000_100)).toBe(true);
  });

  it.each([
    ['another body', signWebhook(SECRET, 1_800_000_000, body), Buffer.from('{"specversion":"1.0","id":"y"}'), 1_800_000_000],
    ['another secret', signWebhook('another-secret-0123456789abcdef0123', 1_800_000_000, body), body, 1_800_000_000],
    ['a timestamp too old (a replayed request)', signWebhook(SECRET, 1_800_000_000, body), body, 1_800_000_301],
    ['a changed timestamp', signWebhook(SECRET, 1_800_000_000, body).replace('t=1800000000', 't=1800000001'), body, 1_800_000_000],
    ['no header', undefined, body, 1_800_000_000],
    ['a malformed header', 'sha256=abc', body, 1_800_000_000],
  ])('refuse %s', (_case, header, received, now) => {
    expect(verifyWebhookSignature(SECRET, header, received, now)).toBe(false);
  });

  // Rotation: every active secret signs, one v1 each, so a subscriber holding either verifies.
  it('sign with each of several secrets, one v1 each in the same header, and keep the one-secret header as it was', () => {
    const next = 'whsec-next-0123456789abcdef0123456789ab';
    const header = signWebhook([next, SECRET], 1_800_000_000, body);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(header).toBe(`${signWebhook(next, 1_800_000_000, body)},v1=${signWebhook(SECRET, 1_800_000_000, body).split('v1=')[1]}`);
    expect([verifyWebhookSignature(SECRET, header, body, 1_800_000_000), verifyWebhookSignature(next, header, body, 1_800_000_000)]).toEqual([true, true]);
    expect(verifyWebhookSignature('another-secret-0123456789abcdef0123', header, body, 1_800_000_000)).toBe(false);
    expect(signWebhook([SECRET], 1_800_000_000, body)).toBe(signWebhook(SECRET, 1_800_000_000, body));
  });
});

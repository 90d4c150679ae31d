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
});

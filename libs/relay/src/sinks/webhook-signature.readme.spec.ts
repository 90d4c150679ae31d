import { createHmac } from 'node:crypto';
import { readmeVerify } from '../../../../test/support/readme-verify';
import { signWebhook, verifyWebhookSignature } from './webhook-signature';

// The README's verify() is what subscribers paste: it must refuse what ours refuses.

const SECRET = 'whsec-0123456789abcdef0123456789abcdef';
const body = Buffer.from('{"specversion":"1.0","id":"x"}');
const NOW = 1_800_000_000;
const verify = readmeVerify();
const mac = (signed: string) => createHmac('sha256', SECRET).update(signed).digest('hex');

describe("the README's verify()", () => {
  it('takes what the relay signs, within 5 minutes', () => {
    expect(verify(SECRET, signWebhook(SECRET, NOW, body), body, NOW + 300)).toBe(true);
  });

  it.each([
    // Without t, its time check passed (NaN is not more than 300) and a MAC over "undefined." was
    // taken for ever: one signature, once leaked, replayed at any time.
    ['no t', `v1=${mac(`undefined.${body}`)}`],
    ['an empty t', `t=,v1=${mac(`.${body}`)}`],
    ['a t that is not whole seconds', `t=${NOW}.5,v1=${mac(`${NOW}.5.${body}`)}`],
    ['a t too old', signWebhook(SECRET, NOW - 301, body)],
    ['no v1', `t=${NOW}`],
    ['another secret', signWebhook('another-secret-0123456789abcdef0123', NOW, body)],
    ['no header at all', undefined],
  ])('refuses %s, as the relay\'s own check does', (_case, header) => {
    expect({ readme: verify(SECRET, header, body, NOW), ours: verifyWebhookSignature(SECRET, header, body, NOW) }).toEqual({ readme: false, ours: false });
  });

  it('takes a header signed with several secrets (a rotation) with either of them', () => {
    const next = 'whsec-next-0123456789abcdef0123456789ab';
    const header = signWebhook([next, SECRET], NOW, body);
    expect([verify(SECRET, header, body, NOW), verify(next, header, body, NOW), verify('another-secret-0123456789abcdef0123', header, body, NOW)]).toEqual([true, true, false]);
  });
});

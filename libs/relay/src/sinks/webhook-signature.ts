import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The header a webhook request is signed in: `t=<unix seconds>,v1=<hex HMAC-SHA256>`, with one
 * `v1=` per secret the webhook has (several while a secret is rotated), as Stripe's does.
 */
export const WEBHOOK_SIGNATURE_HEADER = 'stagecraft-signature';

/**
 * The signature of one request: HMAC-SHA256, keyed with each secret's UTF-8 bytes, over
 * `<timestamp>.<raw body>`, in lower-case hex, in the order the secrets are given. One secret
 * gives the header one `v1=` exactly as before. The README gives the same recipe for subscribers.
 */
export function signWebhook(secrets: string | readonly string[], timestampSeconds: number, body: Buffer | string): string {
  const macs = (typeof secrets === 'string' ? [secrets] : secrets).map((secret) => `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest('hex')}`);
  return [`t=${timestampSeconds}`, ...macs].join(',');
}

/**
 * Checks a received signature header (as a subscriber would): a MAC over the raw body among its
 * `v1=`, and one timestamp within `toleranceSeconds` of `nowSeconds`, so an old request cannot be
 * replayed.
 */
export function verifyWebhookSignature(secret: string, header: string | undefined, body: Buffer | string, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (header === undefined) return false;
  const fields = header.split(',').map((part) => [part.slice(0, Math.max(0, part.indexOf('='))), part.slice(part.indexOf('=') + 1)] as const);
  const times = fields.filter(([name]) => name === 't').map(([, value]) => value);
  const received = fields.filter(([name, value]) => name === 'v1' && /^[0-9a-f]{64}$/.test(value)).map(([, value]) => Buffer.from(value, 'hex'));
  // Two t= would leave the subscriber to pick one, and the MAC to cover the other.
  if (times.length !== 1 || !/^\d{1,12}$/.test(times[0]!) || received.length === 0) return false;
  const timestamp = Number(times[0]);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
  return received.some((mac) => timingSafeEqual(expected, mac));
}

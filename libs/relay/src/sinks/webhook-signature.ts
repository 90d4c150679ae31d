import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header a webhook request is signed in: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const WEBHOOK_SIGNATURE_HEADER = 'stagecraft-signature';

/**
 * The signature of one request: HMAC-SHA256, keyed with the secret's UTF-8 bytes, over
 * `<timestamp>.<raw body>`, in lower-case hex. The README gives the same recipe for subscribers.
 */
export function signWebhook(secret: string, timestampSeconds: number, body: Buffer | string): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.`).update(body).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

/**
 * Checks a received signature header (as a subscriber would): the MAC over the raw body, and a
 * timestamp within `toleranceSeconds` of `nowSeconds`, so an old request cannot be replayed.
 */
export function verifyWebhookSignature(secret: string, header: string | undefined, body: Buffer | string, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (header === undefined) return false;
  const parts = new Map(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  const timestamp = Number(parts.get('t'));
  const received = parts.get('v1');
  if (!Number.isInteger(timestamp) || received === undefined || !/^[0-9a-f]{64}$/.test(received)) return false;
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(received, 'hex'));
}

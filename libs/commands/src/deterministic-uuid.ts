import { hash } from 'node:crypto';

/** A UUID-shaped (version 5 layout) SHA-256 of the parts: the same parts always give the same id. */
export function deterministicUuid(...parts: readonly (string | number)[]): string {
  const hex = hash('sha256', parts.join('\u0000'), 'hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

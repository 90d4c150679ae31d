import { isIP } from 'node:net';

/**
 * Whose X-Forwarded-For to believe: `false` (the TCP peer is the client), a hop count, or the
 * addresses and CIDR ranges of the proxies in front. Fastify takes each form as its trustProxy.
 */
export type TrustProxy = false | number | readonly string[];

// Names proxy-addr (Fastify's resolver) understands for the usual private ranges.
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/** Parses TRUST_PROXY; returns the setting, or the reason it is unusable. */
export function parseTrustProxy(text: string | undefined): TrustProxy | { problem: string } {
  const value = text?.trim() ?? '';
  if (value === '' || value === 'false' || value === 'none' || value === '0') return false;
  if (value === 'true' || value === '*') {
    return { problem: 'would believe X-Forwarded-For from anyone, so any client could pick its own address; name the proxies (addresses or CIDRs, e.g. "10.0.0.5, 10.1.0.0/16") or give the number of proxies in front (e.g. "1")' };
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return hops <= 10 ? hops : { problem: `a hop count must be from 0 to 10 (got ${value})` };
  }
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (NAMED_RANGES.includes(entry)) continue;
    const [address, prefix, ...rest] = entry.split('/');
    const family = isIP(address ?? '');
    if (family === 0 || rest.length > 0) {
      return { problem: `"${entry}" is not an IP address, a CIDR range (address/prefix) or one of ${NAMED_RANGES.join(', ')}` };
    }
    if (prefix !== undefined) {
      const bits = Number(prefix);
      const max = family === 4 ? 32 : 128;
      // A /8 at the widest (fd00::/8 is a private IPv6 network): proxies sit in a network of their
      // own, and a wider range is much of the internet (0.0.0.0/1 with 128.0.0.0/1 is everyone, as "true" is).
      // An IPv4-mapped IPv6 range (::ffff:a.b.c.d/n) holds IPv4 addresses: its first 96 bits are the prefix.
      const min = family === 6 && /^::ffff:/i.test(address!) ? 96 + 8 : 8;
      if (!/^\d+$/.test(prefix) || bits < min || bits > max) return { problem: `"${entry}": the prefix length must be from ${min} to ${max} (a wider range is not a set of proxies: it would believe X-Forwarded-For from much of the internet)` };
    }
  }
  return entries;
}

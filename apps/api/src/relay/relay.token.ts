/** DI token of the in-process Relay, or null when none runs (no RELAY_SINKS, or RELAY=external). */
export const RELAY = Symbol('RELAY');

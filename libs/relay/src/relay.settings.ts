import type { SinkConfig } from './relay-sink-url';

/** How the relay runs; libs/config reads it from the environment (RELAY_*). */
export interface RelaySettings {
  /** RELAY_SINKS, parsed; empty: no relay runs. */
  readonly sinks: readonly SinkConfig[];
  /** 'in-process' (default): the API runs the relay; 'external': apps/relay does. */
  readonly mode: 'in-process' | 'external';
  /** SQLite file of the sinks' checkpoints and the dead-letter list. */
  readonly statePath: string;
  /** Where a sink seen for the first time starts: the log's current end (default) or its beginning. */
  readonly newSinkFrom: 'end' | 'beginning';
  /** Webhook signing secrets per webhook sink key: one, or several while one is rotated (each signs). */
  readonly webhookSecrets: Readonly<Record<string, readonly string[]>>;
  readonly webhookMaxAttempts: number;
  readonly webhookTimeoutMs: number;
  /** Backoff between attempts: base · 2^(n-1), at most max (brokers are retried without end). */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

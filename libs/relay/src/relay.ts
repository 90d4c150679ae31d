import type { EventStore } from '@stagecraft/event-store';
import type { RelaySettings } from './relay.settings';
import type { SinkConfig } from './relay-sink-url';
import { getSQLiteRelayStateStore, type RelayStateStore } from './relay-state.store';
import { SinkRunner, type SinkRunnerOptions, type SinkStatus } from './sink.runner';
import { getAmqpSink } from './sinks/amqp.sink';
import { getNatsSink } from './sinks/nats.sink';
import type { RelaySink } from './sinks/relay-sink.port';
import { getWebhookSink } from './sinks/webhook.sink';

export interface RelaySinkStatus extends SinkStatus {
  /** How far the sink's checkpoint is behind the log's head, in log positions. */
  readonly lag: number | null;
  readonly deadLetters: number;
}

export type RelayLog = SinkRunnerOptions['log'];

/** The relay: one runner per configured sink, each on its own checkpoint. */
export class Relay {
  private readonly runners: SinkRunner[];
  /** The dead letters last counted: what status() says once stop() has closed the state file (a /health asked while the API shuts down). */
  private deadLetters = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly store: EventStore,
    readonly state: RelayStateStore,
    sinks: readonly RelaySink[],
    options: Omit<SinkRunnerOptions, 'maxBatch'> & { readonly maxBatch?: number },
  ) {
    this.runners = sinks.map(
      (sink) => new SinkRunner(store, state, sink, { ...options, maxBatch: sink.config.kind === 'webhook' ? 1 : (options.maxBatch ?? 512) }),
    );
  }

  /** Refused (SQLiteFileError) while another relay publishes from the same state file. */
  start(): void {
    this.state.claimPublishing();
    for (const runner of this.runners) runner.start();
  }

  /** Stops every runner (a publish in flight finishes or fails first), then closes the state file. */
  async stop(): Promise<void> {
    await Promise.all(this.runners.map((runner) => runner.stop()));
    if (!this.stopped) this.deadLetters = this.state.deadLetterCounts();
    this.stopped = true;
    this.state.close();
  }

  /**
   * Each sink's status; its lag from `head`, the log's head position as the caller read it: null
   * when the caller could not (a store that does not answer: asked again here, the call would wait
   * as long as the client gives the connection, holding /health past its own bound), undefined to
   * read it here.
   */
  async status(head?: number | null): Promise<RelaySinkStatus[]> {
    const top = head === null ? undefined : (head ?? (await this.store.headPosition().catch(() => undefined)));
    if (!this.stopped) this.deadLetters = this.state.deadLetterCounts();
    const deadLetters = this.deadLetters;
    return this.runners.map((runner) => {
      const status = runner.status();
      return { ...status, lag: top === undefined ? null : Math.max(0, top - status.checkpoint), deadLetters: deadLetters.get(status.sink) ?? 0 };
    });
  }
}

/**
 * Where a replay from `fromPosition` (inclusive; an event's position, e.g. a dead letter's) must
 * resume: the position of the last event before it, or 0. A subscription resumes after a position the log holds (KurrentDB positions are
 * byte offsets with gaps, so `fromPosition - 1` is not one).
 */
export async function positionBefore(store: EventStore, fromPosition: number): Promise<number> {
  if (fromPosition <= 1) return 0;
  // From the event itself (on KurrentDB, a read must start where a record starts), backwards.
  const events = await store.readAll({ fromPosition, direction: 'backwards', maxCount: 2 });
  return events.find((event) => event.position < fromPosition)?.position ?? 0;
}

/** A sink for a configured URL. */
export function createSink(config: SinkConfig, settings: RelaySettings): RelaySink {
  switch (config.kind) {
    case 'nats':
      return getNatsSink(config);
    case 'amqp':
      return getAmqpSink(config);
    case 'webhook': {
      const secrets = settings.webhookSecrets[config.key];
      if (secrets === undefined || secrets.length === 0) throw new Error(`No signing secret for the webhook ${config.key}`);
      return getWebhookSink(config, {
        secret: secrets,
        maxAttempts: settings.webhookMaxAttempts,
        timeoutMs: settings.webhookTimeoutMs,
        retryBaseMs: settings.retryBaseMs,
        retryMaxMs: settings.retryMaxMs,
      });
    }
    default: {
      const exhaustive: never = config;
      throw new Error(`Unknown sink ${(exhaustive as SinkConfig).kind}`);
    }
  }
}

/** The relay RELAY_SINKS asks for, on this store, with its state file; not started yet. */
export function openRelay(store: EventStore, settings: RelaySettings, log: RelayLog, overrides: Partial<Pick<SinkRunnerOptions, 'readAhead' | 'replayCheckMs' | 'maxBatch'>> = {}): Relay {
  const sinks = settings.sinks.map((config) => createSink(config, settings));
  return new Relay(store, getSQLiteRelayStateStore(settings.statePath), sinks, {
    newSinkFrom: settings.newSinkFrom,
    retryBaseMs: settings.retryBaseMs,
    retryMaxMs: settings.retryMaxMs,
    readAhead: overrides.readAhead ?? 4_096,
    replayCheckMs: overrides.replayCheckMs ?? 1_000,
    log,
    ...(overrides.maxBatch !== undefined ? { maxBatch: overrides.maxBatch } : {}),
  });
}

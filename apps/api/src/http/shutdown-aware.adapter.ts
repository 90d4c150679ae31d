import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { RawServerDefault } from 'fastify';

// The options of Fastify on Node's HTTP server, the one server this API runs on.
type FastifyAdapterOptions = ConstructorParameters<typeof FastifyAdapter<RawServerDefault>>[0];

/**
 * Fastify, telling `onShutdownStart` the moment Nest starts to shut down. Nest asks the adapter
 * (`beforeClose`) before it runs any shutdown hook, and closes the server (Fastify's `preClose`)
 * only once onModuleDestroy and beforeApplicationShutdown have run: a request arriving in between
 * was run on services being torn down (the relay stopping, the keys file no longer watched).
 */
export class ShutdownAwareFastifyAdapter extends FastifyAdapter {
  constructor(
    options: FastifyAdapterOptions,
    private readonly onShutdownStart: () => void,
  ) {
    super(options);
  }

  override beforeClose(): void {
    this.onShutdownStart();
    super.beforeClose();
  }
}

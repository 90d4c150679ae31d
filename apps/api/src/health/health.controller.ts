import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { EVENT_STORE, type EventStore } from '@stagecraft/event-store';
import type { ReadModels } from '@stagecraft/projections';
import { READ_MODELS } from '../analytics/projections.token';
import { Public } from '../auth/roles';
import { ProcessRegistry } from '@stagecraft/commands';
import type { Relay } from '@stagecraft/relay';
import { RELAY } from '../relay/relay.token';

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly processes: ProcessRegistry,
    @Inject(READ_MODELS) private readonly projections: ReadModels,
    @Inject(RELAY) private readonly relay: Relay | null,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Ready to serve: the store (its kind: sqlite or kurrentdb) answers and can write, and process definitions are loaded (503 otherwise, naming the cause: store.cannotWrite while its disk is full)' })
  async health(@Res({ passthrough: true }) reply: FastifyReply) {
    const store = await this.store.health().catch((error: Error) => ({ kind: 'unknown', reachable: false, detail: error.message }));
    const processes = this.processes.list().map((process) => ({ id: process.definition.id, version: process.version }));
    const projections = this.projections.status();
    const cannotWrite = 'cannotWrite' in store ? store.cannotWrite : undefined;
    const ok = store.reachable && cannotWrite === undefined && processes.length > 0 && projections.every((projection) => projection.failed === undefined);
    const headPosition = store.reachable ? await this.store.headPosition().catch(() => null) : null;
    void reply.status(ok ? 200 : 503);
    return {
      status: ok ? 'ok' : 'unavailable',
      store: { kind: store.kind, reachable: store.reachable, headPosition, ...(cannotWrite !== undefined ? { cannotWrite } : {}) },
      processes,
      projections,
      // A sink that is down does not make the API unready: commands go on, its lag shows here.
      ...(this.relay ? { relay: await this.relay.status(headPosition ?? undefined) } : {}),
    };
  }
}

import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags, type SchemaObject } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { EVENT_STORE, type EventStore } from '@stagecraft/event-store';
import type { ReadModels } from '@stagecraft/projections';
import { READ_MODELS } from '../analytics/projections.token';
import { Public } from '../auth/roles';
import { ProcessRegistry } from '@stagecraft/commands';
import type { Relay } from '@stagecraft/relay';
import { RELAY } from '../relay/relay.token';
import { PROJECTION_STATUS, RELAY_SINK_STATUS } from './health.answer-schemas';

/** The same JSON answers ready (200) and not ready (503, with the cause): a probe reads the status, an operator the body. */
const HEALTH_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['status', 'store', 'processes', 'projections'],
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    store: {
      type: 'object',
      required: ['kind', 'reachable', 'headPosition'],
      properties: {
        kind: { type: 'string' },
        reachable: { type: 'boolean' },
        headPosition: { type: 'integer', nullable: true },
        cannotWrite: { type: 'string', description: 'Why the store refuses writes now (a full disk, a SQLite file another process keeps locked): the API is not ready' },
      },
    },
    processes: { type: 'array', items: { type: 'object', required: ['id', 'version'], properties: { id: { type: 'string' }, version: { type: 'string' } } } },
    projections: { type: 'array', items: PROJECTION_STATUS },
    readModels: {
      type: 'object',
      description: 'Only while the read models kept by this process cannot be saved (a full disk under READ_MODELS_PATH): the API is not ready, as a restart would replay the log from the last save',
      required: ['cannotSave'],
      properties: { cannotSave: { type: 'string', description: 'Why, since when, and what it means' } },
    },
    relay: { type: 'array', description: 'With an in-process relay: one entry per sink', items: RELAY_SINK_STATUS },
  },
};

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
  @ApiOkResponse({ description: 'Ready', schema: HEALTH_SCHEMA })
  @ApiServiceUnavailableResponse({ description: 'Not ready: the body says why', schema: HEALTH_SCHEMA })
  @ApiOperation({ summary: 'Ready to serve: the store (its kind: sqlite or kurrentdb) answers and can write, and process definitions are loaded (503 otherwise, naming the cause: store.cannotWrite while its disk is full or another process keeps its SQLite file locked, readModels.cannotSave while the read models cannot be saved, projections[].stalled while the PostgreSQL projector waits past its bound)' })
  async health(@Res({ passthrough: true }) reply: FastifyReply) {
    const store = await this.store.health().catch((error: Error) => ({ kind: 'unknown', reachable: false, detail: error.message }));
    const processes = this.processes.list().map((process) => ({ id: process.definition.id, version: process.version }));
    const projections = this.projections.status();
    const cannotWrite = 'cannotWrite' in store ? store.cannotWrite : undefined;
    const cannotSave = this.projections.cannotSave?.();
    // What an operator must set right (a full disk, a stopped read model, no process loaded), as against a store away for a moment.
    // A stalled read side (its batch waiting behind someone's lock) serves figures that no longer move: as a stop, until it moves.
    const operatorMatter = cannotWrite !== undefined || cannotSave !== undefined || processes.length === 0 || projections.some((projection) => projection.failed !== undefined || projection.stalled !== undefined);
    const ok = store.reachable && !operatorMatter;
    const headPosition = store.reachable ? await this.store.headPosition().catch(() => null) : null;
    void reply.status(ok ? 200 : 503);
    // As every 503 of this API, one that says when to ask again: an operator's matter takes longer.
    if (!ok) void reply.header('retry-after', operatorMatter ? '30' : '1');
    return {
      status: ok ? 'ok' : 'unavailable',
      store: { kind: store.kind, reachable: store.reachable, headPosition, ...(cannotWrite !== undefined ? { cannotWrite } : {}) },
      processes,
      projections,
      ...(cannotSave !== undefined ? { readModels: { cannotSave } } : {}),
      // A sink that is down does not make the API unready: commands go on, its lag shows here.
      // The head as read above, or unknown: never asked again of a store that did not answer in time.
      ...(this.relay ? { relay: await this.relay.status(headPosition) } : {}),
    };
  }
}

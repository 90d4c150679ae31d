import { Controller, Get, HttpCode, Inject, Logger, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, type SchemaObject } from '@nestjs/swagger';
import { PostgresProjector, rebuildInstruction, type ReadModels } from '@stagecraft/projections';
import { quotedValue } from '@stagecraft/sales-process';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { assertUnlimited, callerInLog, type Principal } from '../auth/principal';
import { Allow } from '../auth/roles';
import { ApiProblem } from '../http/problem';
import { READ_MODELS } from './projections.token';
import { AUDIT_CONTEXT } from '../start-up.logger';
import { PROJECTION_STATUS } from '../health/health.answer-schemas';

/** A projection's status, with the progress of its last rebuild since this process started (null: none). */
const ADMIN_PROJECTION_STATUS: SchemaObject = {
  ...PROJECTION_STATUS,
  required: [...(PROJECTION_STATUS.required ?? []), 'lastRebuild'],
  properties: {
    ...PROJECTION_STATUS.properties,
    lastRebuild: {
      type: 'object',
      nullable: true,
      required: ['position', 'head', 'startedAt'],
      properties: {
        position: { type: 'integer', minimum: 0 },
        head: { type: 'integer', minimum: 0 },
        startedAt: { type: 'string', format: 'date-time' },
        finishedAt: { type: 'string', format: 'date-time' },
        error: { type: 'string' },
      },
    },
  },
};

@ApiTags('operations')
@ApiBearerAuth()
@Allow('admin')
@Controller('admin/projections')
export class ProjectionsAdminController {
  private readonly logger = new Logger('Projections');
  private readonly progress = new Map<string, { position: number; head: number; startedAt: string; finishedAt?: string; error?: string }>();

  constructor(@Inject(READ_MODELS) private readonly runner: ReadModels) {}

  @Get()
  @ApiOkResponse({ description: 'The projections', schema: { type: 'object', required: ['projections'], properties: { projections: { type: 'array', items: ADMIN_PROJECTION_STATUS } } } })
  @ApiOperation({ summary: 'Each projection: checkpoint, lag, and the progress of its last rebuild' })
  list() {
    return { projections: this.runner.status().map((status) => ({ ...status, lastRebuild: this.progress.get(status.name) ?? null })) };
  }

  @Post(':name/rebuild')
  @HttpCode(202)
  @ApiAcceptedResponse({
    description: 'The rebuild started: GET /admin/projections shows its progress',
    schema: { type: 'object', required: ['name', 'status', 'progress'], properties: { name: { type: 'string' }, status: { type: 'string', enum: ['rebuilding'] }, progress: { type: 'string' } } },
  })
  @ApiOperation({ summary: 'Rebuild a projection from position 0; the current model serves until the new one has caught up' })
  rebuild(@CurrentPrincipal() caller: Principal, @Param('name') name: string) {
    // A rebuild replays every team's events and holds the projector for its length: not one team's call.
    assertUnlimited(caller, 'Rebuilding a read model (it replays every team\'s events)');
    const status = this.runner.status().find((entry) => entry.name === name);
    if (!status) throw new ApiProblem('PROJECTION.NOT_FOUND', `There is no projection ${quotedValue(name)}; there are ${this.runner.names().join(', ')}.`);
    if (status.rebuilding) throw new ApiProblem('PROJECTION.ALREADY_REBUILDING', `Projection ${quotedValue(name)} is already being rebuilt.`);
    if (this.runner.projectedElsewhere) {
      throw new ApiProblem('PROJECTION.REBUILD_ELSEWHERE', `The projections run in another process: rebuild ${name}${rebuildInstruction([name], this.runner)}.`);
    }
    const entry: { position: number; head: number; startedAt: string; finishedAt?: string; error?: string } = { position: 0, head: status.checkpoint + status.lag, startedAt: new Date().toISOString() };
    new Logger(AUDIT_CONTEXT).log(`Rebuild of projection ${name} started by ${callerInLog(caller)}`);
    // The PostgreSQL read side is one schema, rebuilt whole whichever name is asked: each says so.
    for (const rebuilt of this.runner instanceof PostgresProjector ? this.runner.names() : [name]) this.progress.set(rebuilt, entry);
    this.runner
      .rebuild(name, ({ position, head }) => Object.assign(entry, { position, head }))
      .then(() => (entry.finishedAt = new Date().toISOString()))
      .catch((error: Error) => {
        entry.error = error.message;
        this.logger.error(`Rebuild of ${name} failed: ${error.stack}`);
      });
    return { name, status: 'rebuilding', progress: `/admin/projections` };
  }
}

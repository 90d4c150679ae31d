import { Body, Controller, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, type SchemaObject } from '@nestjs/swagger';
import { arrayOf, objectSchema, STRING, STRINGS } from '../http/answer-schema';
import { EVENT_STORE, readAllPages, type EventStore } from '@stagecraft/event-store';
import { fromOpportunityStreamId, rejections, stageMappingRejection, type ProcessVersionLookup } from '@stagecraft/opportunity';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Allow } from '../auth/roles';
import { deterministicUuid, OpportunityRejectedError, ProcessRegistry } from '@stagecraft/commands';
import { CompiledBody } from '../http/compiled-body';
import { HonoursHeaders } from '../http/known-input.guard';
import { retryAfterSecondsOf, type ApiProblem } from '../http/problem';
import { toProblem } from '../http/problem.mapping';
import { CLOCK, type Clock } from '../settings/api-settings.token';
import { commandEnvelopeFrom } from './command-envelope.factory';
import { MigrateOpportunityCommand } from './opportunity.commands';
import { MigrateProcessDto } from './opportunity.dto';

const PAGE = 5_000;
/** Migrations in flight at once: enough for the store to commit them in groups. */
const CONCURRENCY = 16;

export interface BulkMigrationReport {
  readonly processId: string;
  readonly fromVersion: string;
  readonly toVersion: string;
  readonly migrated: readonly string[];
  /**
   * Opportunities found open on fromVersion that were not migrated, with the status and code of
   * why: a 4xx the process refused; a 5xx the store failed for that one (an unreadable stream, or
   * the store unreachable, after which no further one is attempted). Re-running the bulk migration
   * picks them up: the migrated ones are no longer on fromVersion. A refusal the service's state
   * caused (a 503, a 507) says how long to wait before that re-run (retryAfterSeconds), as the
   * Retry-After header of the same refusal to a single command does.
   */
  readonly refused: readonly { readonly opportunityId: string; readonly status: number; readonly code: string; readonly detail: string; readonly retryAfterSeconds?: number }[];
}

const BULK_MIGRATION_SCHEMA: SchemaObject = objectSchema<BulkMigrationReport>({
  processId: STRING,
  fromVersion: STRING,
  toVersion: STRING,
  migrated: STRINGS,
  refused: arrayOf({ type: 'object', required: ['opportunityId', 'status', 'code', 'detail'], properties: { opportunityId: STRING, status: { type: 'integer' }, code: STRING, detail: STRING, retryAfterSeconds: { type: 'integer', minimum: 0, description: 'On a refusal the service caused (503, 507): the seconds to wait before migrating again, as Retry-After says on a single command' } } }),
});

/**
 * Migrates every open opportunity of a process version, each through the one command path (so
 * each is decided, chained and recorded as its own ProcessMigrated). Finding them scans the log
 * rather than a read model, so nothing a lagging projection has not seen is missed.
 */
@ApiTags('operations')
@ApiBearerAuth()
@Allow('admin')
@Controller('processes')
export class ProcessMigrationController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly commands: CommandBus,
    private readonly processes: ProcessRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post(':id/migrate')
  @HttpCode(200)
  // Checked by its compiled schema as well: a well-formed body then reaches the handler as sent,
  // where class-transformer would drop a mapping entry named like an inherited property (constructor).
  @CompiledBody(MigrateProcessDto)
  // Each opportunity has its own revision: an If-Match cannot apply to all of them, and is refused.
  @HonoursHeaders('idempotency-key', 'x-actor')
  @ApiOkResponse({ description: 'What was migrated, and what was not with the status and code of why', schema: BULK_MIGRATION_SCHEMA })
  @ApiOperation({ summary: 'Migrate every open opportunity on fromVersion to toVersion (a newer version of the same process)' })
  async migrateAll(@Param('id') processId: string, @Body() dto: MigrateProcessDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<BulkMigrationReport> {
    // Refused before anything is scanned: 404 for an unknown process (the path), and for the
    // versions (the body) the single-deal route's answers, so one mistake gets one answer.
    await this.processes.ensureVersion(processId, dto.fromVersion);
    await this.processes.ensureVersion(processId, dto.toVersion);
    refuseUnlessNewer(processId, this.processes.versionLookup(processId), dto);
    // (If-Match was refused above; the envelope's revision is never set here.)
    const { expectedRevision: _notForBulk, ...envelope } = commandEnvelopeFrom(request, { occurredAt: dto.occurredAt, commandId: dto.commandId }, this.clock());
    // One command per opportunity; a client-chosen key makes each of them idempotent too.
    const commandIdOf = (opportunityId: string) => (envelope.clientSuppliedId ? deterministicUuid('bulk-migration', envelope.commandId, opportunityId) : `${envelope.commandId}:${opportunityId}`);
    // A caller limited to teams migrates, and hears of, only its teams' opportunities. A retry under
    // the same key also finds those the key already migrated from fromVersion: each replays, so the
    // retry reports what the first request did (its answer may have been lost) instead of nothing.
    const candidates = await this.openOn(processId, dto.fromVersion, envelope.teams, envelope.clientSuppliedId ? commandIdOf : undefined);
    const migrated: string[] = [];
    let replayed = 0;
    const refused: BulkMigrationReport['refused'][number][] = [];
    let next = 0;
    let storeDown: ApiProblem | undefined;
    const worker = async () => {
      while (next < candidates.length && storeDown === undefined) {
        const opportunityId = candidates[next++]!;
        const commandId = commandIdOf(opportunityId);
        try {
          const outcome = await this.commands.execute(
            new MigrateOpportunityCommand(
              { type: 'MigrateOpportunity', opportunityId, toVersion: dto.toVersion, stageMapping: dto.stageMapping, note: dto.note, occurredAt: dto.occurredAt },
              { ...envelope, commandId },
            ),
          );
          migrated.push(opportunityId);
          if (outcome.replayed) replayed += 1;
        } catch (error) {
          // Every outcome is reported, 5xx included: a thrown error would lose the report of
          // what the other workers already migrated.
          const problem = toProblem(error);
          if (problem.status === 503) storeDown ??= problem;
          refused.push(refusalOf(opportunityId, problem));
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    for (const opportunityId of candidates.slice(next)) {
      refused.push({ ...refusalOf(opportunityId, storeDown!), detail: `Not attempted: ${storeDown!.detail}` });
    }
    // A retry that changed nothing (every deal it reports migrated was migrated by its first request) says so, as a single command's replay does.
    if (replayed > 0 && replayed === migrated.length) void reply.header('idempotent-replayed', 'true');
    return { processId, fromVersion: dto.fromVersion, toVersion: dto.toVersion, migrated: migrated.sort(), refused: refused.sort((a, b) => a.opportunityId.localeCompare(b.opportunityId)) };
  }

  /**
   * Ids of the opportunities open on a process version, from the log; only those of `teams` when
   * given. With `keyedCommandIdOf` (a client's key), also those a migration under that key took
   * from this version, whatever they are now.
   */
  private async openOn(processId: string, version: string, teams: readonly string[] | undefined, keyedCommandIdOf?: (opportunityId: string) => string): Promise<string[]> {
    const opportunities = new Map<string, { processId: string; version: string; open: boolean; teamId: string | undefined; migratedByKey?: boolean }>();
    for await (const page of readAllPages(this.store, { pageSize: PAGE })) {
      for (const event of page) {
        const id = fromOpportunityStreamId(event.stream);
        if (id === undefined) continue;
        const known = opportunities.get(id);
        if (event.type === 'OpportunityOpened') {
          const teamId = typeof event.data.teamId === 'string' ? event.data.teamId : undefined;
          opportunities.set(id, { processId: String(event.data.processId), version: String(event.data.processVersion), open: true, teamId });
        } else if (!known) continue;
        else if (event.type === 'ProcessMigrated') {
          if (keyedCommandIdOf && event.data.fromVersion === version && event.metadata.commandId === keyedCommandIdOf(id)) known.migratedByKey = true;
          known.version = String(event.data.toVersion);
        }
        else if (event.type === 'OpportunityWon' || event.type === 'OpportunityLost') known.open = false;
        else if (event.type === 'OpportunityReopened') known.open = true;
        else if (event.type === 'OpportunityDetailsChanged' && typeof event.data.teamId === 'string') known.teamId = event.data.teamId;
      }
    }
    const visible = (teamId: string | undefined) => teams === undefined || (teamId !== undefined && teams.includes(teamId));
    const candidate = (o: { processId: string; version: string; open: boolean; migratedByKey?: boolean }) => o.processId === processId && ((o.open && o.version === version) || o.migratedByKey === true);
    return [...opportunities.entries()].filter(([, o]) => candidate(o) && visible(o.teamId)).map(([id]) => id);
  }
}

/** One opportunity's refusal in the report: with the wait its Retry-After would say, where it says one (in a body, no header reaches it). */
function refusalOf(opportunityId: string, problem: ApiProblem): BulkMigrationReport['refused'][number] {
  const wait = retryAfterSecondsOf(problem);
  return { opportunityId, status: problem.status, code: problem.code, detail: problem.detail, ...(wait === undefined ? {} : { retryAfterSeconds: wait }) };
}

/**
 * A bulk migration names both versions: each must be recorded, toVersion recorded after
 * fromVersion, and the stage mapping one that can take a deal from one to the other, as the
 * single-deal route decides for one deal. Refused once for all (422), rather than a 200 that
 * migrated nothing or reports the same refusal once per deal.
 */
function refuseUnlessNewer(processId: string, versions: ProcessVersionLookup, { fromVersion, toVersion, stageMapping }: MigrateProcessDto): void {
  const from = versions(fromVersion);
  if (!from) throw new OpportunityRejectedError(rejections.unknownProcessVersion(processId, fromVersion, 'fromVersion'));
  const to = versions(toVersion);
  if (!to) throw new OpportunityRejectedError(rejections.unknownProcessVersion(processId, toVersion, 'toVersion'));
  if (to.recordedOrder <= from.recordedOrder) throw new OpportunityRejectedError(rejections.notANewerVersion(fromVersion, toVersion, 'the fromVersion of this bulk migration'));
  // A mapping is judged on the two versions alone: refused once, not once per deal (nor not at all when none is open).
  const invalidMapping = stageMapping === undefined ? undefined : stageMappingRejection(stageMapping, from.process, to.process);
  if (invalidMapping) throw new OpportunityRejectedError(invalidMapping);
}

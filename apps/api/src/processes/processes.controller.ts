import type { ProcessDetail, ProcessList, ProcessSummary } from '@stagecraft/contracts';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { MACHINE_SCHEMA, PROCESS_DETAIL_SCHEMA, PROCESS_LIST_SCHEMA } from './process.answer-schemas';
import { Allow } from '../auth/roles';
import { validationProblem } from '../http/problem';
import { stageMovesOf, type CompiledProcess } from '@stagecraft/sales-process';
import { ProcessRegistry } from '@stagecraft/commands';

@ApiTags('processes')
@ApiBearerAuth()
@Allow('writer', 'analyst', 'auditor')
@Controller('processes')
export class ProcessesController {
  constructor(private readonly registry: ProcessRegistry) {}

  @Get()
  @ApiOkResponse({ description: 'The processes', schema: PROCESS_LIST_SCHEMA })
  @ApiOperation({ summary: 'The processes this service runs, each at its current version' })
  list(): ProcessList {
    return { processes: this.registry.list().map((process) => summaryOf(process, this.registry.defaultProcessId())) };
  }

  @Get(':id')
  @ApiOkResponse({ description: 'The process at the version asked for', schema: PROCESS_DETAIL_SCHEMA })
  @ApiOperation({ summary: 'A process definition (the current version, or the one asked for), every recorded version, and the moves its rules allow from each stage' })
  @ApiQuery({ name: 'version', required: false, description: "A recorded version: its definition and moves (an opportunity's moves are its own version's); the current one when absent" })
  async get(@Param('id') id: string, @Query('version') version?: unknown): Promise<ProcessDetail> {
    const process = await this.versionAsked(id, version);
    // Every recorded version: those another instance recorded since this one started included.
    await this.registry.catchUp(id);
    // The version as recorded, when asked for: one whose definition was rewritten hashes to another.
    const recorded = typeof version === 'string' ? { version } : {};
    return { ...summaryOf(process, this.registry.defaultProcessId()), ...recorded, definition: process.definition, versions: this.registry.versions(id), moves: stageMovesOf(process.definition) };
  }

  @Get(':id/machine')
  @ApiOkResponse({ description: 'The machine', schema: MACHINE_SCHEMA })
  @ApiOperation({ summary: "The XState machine config as JSON, for Stately's visualizer" })
  @ApiQuery({ name: 'version', required: false, description: 'A recorded version; the current one when absent' })
  async machine(@Param('id') id: string, @Query('version') version?: unknown) {
    return (await this.versionAsked(id, version)).machineJson;
  }

  /** `?version=`: a recorded version (404 PROCESS.VERSION_NOT_FOUND otherwise); absent, the current one. */
  private async versionAsked(id: string, version: unknown): Promise<CompiledProcess> {
    // Given, it names one version: an empty one is not "the current one", a repeated one not "a,b".
    if (version !== undefined && (typeof version !== 'string' || version === '')) {
      throw validationProblem([{ field: 'version', message: 'version must be one recorded version, given once (GET /processes/{id} lists them); leave it out for the current one' }]);
    }
    if (typeof version !== 'string') return this.registry.current(id);
    // Another instance may have recorded it since this one started (a rolling deploy opens deals on
    // the new version while a board still asks an older instance for that version's moves): read
    // from the process stream, as a command or a read of such a deal does. Known versions cost nothing.
    await this.registry.ensureVersion(id, version);
    // A read, so a version whose recorded definition was rewritten is shown as stored (the board
    // asks it for the moves of a deal on it, which GET /opportunities/:id shows so): only commands
    // refuse it (CHAIN_BROKEN), and verify says what was rewritten.
    return this.registry.versionAsStored(id, version);
  }
}

function summaryOf(process: CompiledProcess, defaultId: string | undefined): ProcessSummary {
  const { id, name, stages, teams } = process.definition;
  return {
    id,
    name,
    version: process.version,
    stages: stages.map(({ id: stageId, name: stageName, probability }) => ({ id: stageId, name: stageName, probability })),
    teams,
    default: id === defaultId,
  };
}

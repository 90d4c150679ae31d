import type { ProcessDetail, ProcessList, ProcessSummary } from '@stagecraft/contracts';
import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
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
  @ApiOperation({ summary: 'The processes this service runs, each at its current version' })
  list(): ProcessList {
    return { processes: this.registry.list().map((process) => summaryOf(process, this.registry.defaultProcessId())) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A process definition (current version), every recorded version, and the moves its rules allow from each stage' })
  get(@Param('id') id: string): ProcessDetail {
    const current = this.registry.current(id);
    return { ...summaryOf(current, this.registry.defaultProcessId()), definition: current.definition, versions: this.registry.versions(id), moves: stageMovesOf(current.definition) };
  }

  @Get(':id/machine')
  @ApiOperation({ summary: "The XState machine config as JSON, for Stately's visualizer" })
  @ApiQuery({ name: 'version', required: false, description: 'A recorded version; the current one when absent' })
  machine(@Param('id') id: string, @Query('version') version?: unknown) {
    // Given, it names one version: an empty one is not "the current one", a repeated one not "a,b".
    if (version !== undefined && (typeof version !== 'string' || version === '')) {
      throw validationProblem([{ field: 'version', message: 'version must be one recorded version, given once (GET /processes/{id} lists them); leave it out for the current one' }]);
    }
    const process = version ? this.registry.version(id, version) : this.registry.current(id);
    return process.machineJson;
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

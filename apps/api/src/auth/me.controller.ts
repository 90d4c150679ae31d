import type { CallerAnswer } from '@stagecraft/contracts';
import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from './current-principal.decorator';
import type { Principal } from './principal';
import { CALLER_SCHEMA } from './caller.answer-schemas';
import { Allow } from './roles';

/** Who the caller is: lets a client (the board) offer only what these credentials may do. */
@ApiTags('operations')
@ApiBearerAuth()
@Allow('writer', 'analyst', 'auditor')
@Controller('me')
export class MeController {
  @Get()
  @ApiOkResponse({ description: 'The caller', schema: CALLER_SCHEMA })
  @ApiOperation({ summary: 'The authenticated caller: name, roles and the teams it is limited to (null: every team)' })
  me(@CurrentPrincipal() caller: Principal): CallerAnswer {
    return { name: caller.name, roles: caller.roles, teams: caller.teams ?? null };
  }
}

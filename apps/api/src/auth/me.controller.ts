import type { CallerAnswer } from '@stagecraft/contracts';
import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from './current-principal.decorator';
import type { Principal } from './principal';
import { Allow, ROLES } from './roles';

/** Who the caller is: lets a client (the board) offer only what these credentials may do. */
@ApiTags('operations')
@ApiBearerAuth()
@Allow('writer', 'analyst', 'auditor')
@Controller('me')
export class MeController {
  @Get()
  @ApiOkResponse({
    description: 'The caller',
    schema: {
      type: 'object',
      required: ['name', 'roles', 'teams'],
      properties: {
        name: { type: 'string' },
        roles: { type: 'array', items: { type: 'string', enum: [...ROLES] } },
        teams: { type: 'array', items: { type: 'string' }, nullable: true, description: 'null: every team' },
      },
    },
  })
  @ApiOperation({ summary: 'The authenticated caller: name, roles and the teams it is limited to (null: every team)' })
  me(@CurrentPrincipal() caller: Principal): CallerAnswer {
    return { name: caller.name, roles: caller.roles, teams: caller.teams ?? null };
  }
}

import { Module } from '@nestjs/common';
import { OpportunitiesController } from './opportunities.controller';
import { ProcessMigrationController } from './process-migration.controller';
import { OPPORTUNITY_COMMAND_HANDLERS } from './opportunity.commands';
import { OPPORTUNITY_QUERY_HANDLERS } from './opportunity.queries';
import { OPPORTUNITY_AUDIT_QUERY_HANDLERS } from './opportunity-audit.queries';

@Module({
  controllers: [OpportunitiesController, ProcessMigrationController],
  providers: [...OPPORTUNITY_COMMAND_HANDLERS, ...OPPORTUNITY_QUERY_HANDLERS, ...OPPORTUNITY_AUDIT_QUERY_HANDLERS],
})
export class OpportunitiesModule {}

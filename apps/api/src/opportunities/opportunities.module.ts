import { Module } from '@nestjs/common';
import { ProcessesModule } from '../processes/processes.module';
import { OpportunitiesController } from './opportunities.controller';
import { ProcessMigrationController } from './process-migration.controller';
import { OpportunityCommandExecutor } from './opportunity-command.executor';
import { OPPORTUNITY_COMMAND_HANDLERS } from './opportunity.commands';
import { OPPORTUNITY_QUERY_HANDLERS } from './opportunity.queries';
import { OPPORTUNITY_AUDIT_QUERY_HANDLERS } from './opportunity-audit.queries';
import { OpportunityStreams } from './opportunity-streams.service';

@Module({
  imports: [ProcessesModule],
  controllers: [OpportunitiesController, ProcessMigrationController],
  providers: [OpportunityStreams, OpportunityCommandExecutor, ...OPPORTUNITY_COMMAND_HANDLERS, ...OPPORTUNITY_QUERY_HANDLERS, ...OPPORTUNITY_AUDIT_QUERY_HANDLERS],
})
export class OpportunitiesModule {}

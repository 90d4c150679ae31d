import { Injectable } from '@nestjs/common';
import { Command, CommandHandler } from '@nestjs/cqrs';
import { OpportunityCommandExecutor, type CommandEnvelope, type CommandOutcome, type OpportunityCommandBody } from '@stagecraft/commands';

type BodyOf<T extends OpportunityCommandBody['type']> = Extract<OpportunityCommandBody, { type: T }>;

/** A command on the CommandBus: the domain command's fields plus its envelope. */
abstract class OpportunityBusCommand<T extends OpportunityCommandBody['type']> extends Command<CommandOutcome> {
  constructor(
    readonly body: BodyOf<T>,
    readonly envelope: CommandEnvelope,
  ) {
    super();
  }
}

export class OpenOpportunityCommand extends OpportunityBusCommand<'OpenOpportunity'> {}
export class MeetExitCriterionCommand extends OpportunityBusCommand<'MeetExitCriterion'> {}
export class RevokeExitCriterionCommand extends OpportunityBusCommand<'RevokeExitCriterion'> {}
export class MoveOpportunityToStageCommand extends OpportunityBusCommand<'MoveOpportunityToStage'> {}
export class WinOpportunityCommand extends OpportunityBusCommand<'WinOpportunity'> {}
export class LoseOpportunityCommand extends OpportunityBusCommand<'LoseOpportunity'> {}
export class ReopenOpportunityCommand extends OpportunityBusCommand<'ReopenOpportunity'> {}
export class ChangeOpportunityDetailsCommand extends OpportunityBusCommand<'ChangeOpportunityDetails'> {}
export class MigrateOpportunityCommand extends OpportunityBusCommand<'MigrateOpportunity'> {}

/** Every opportunity command runs the same path: read → fold → decide → append. */
@Injectable()
abstract class OpportunityCommandHandler<C extends { readonly body: OpportunityCommandBody; readonly envelope: CommandEnvelope }> {
  constructor(private readonly executor: OpportunityCommandExecutor) {}

  execute(command: C): Promise<CommandOutcome> {
    return this.executor.execute(command.body, command.envelope);
  }
}

@CommandHandler(OpenOpportunityCommand)
export class OpenOpportunityHandler extends OpportunityCommandHandler<OpenOpportunityCommand> {}
@CommandHandler(MeetExitCriterionCommand)
export class MeetExitCriterionHandler extends OpportunityCommandHandler<MeetExitCriterionCommand> {}
@CommandHandler(RevokeExitCriterionCommand)
export class RevokeExitCriterionHandler extends OpportunityCommandHandler<RevokeExitCriterionCommand> {}
@CommandHandler(MoveOpportunityToStageCommand)
export class MoveOpportunityToStageHandler extends OpportunityCommandHandler<MoveOpportunityToStageCommand> {}
@CommandHandler(WinOpportunityCommand)
export class WinOpportunityHandler extends OpportunityCommandHandler<WinOpportunityCommand> {}
@CommandHandler(LoseOpportunityCommand)
export class LoseOpportunityHandler extends OpportunityCommandHandler<LoseOpportunityCommand> {}
@CommandHandler(ReopenOpportunityCommand)
export class ReopenOpportunityHandler extends OpportunityCommandHandler<ReopenOpportunityCommand> {}
@CommandHandler(ChangeOpportunityDetailsCommand)
export class ChangeOpportunityDetailsHandler extends OpportunityCommandHandler<ChangeOpportunityDetailsCommand> {}

@CommandHandler(MigrateOpportunityCommand)
export class MigrateOpportunityHandler extends OpportunityCommandHandler<MigrateOpportunityCommand> {}

export const OPPORTUNITY_COMMAND_HANDLERS = [
  MigrateOpportunityHandler,
  OpenOpportunityHandler,
  MeetExitCriterionHandler,
  RevokeExitCriterionHandler,
  MoveOpportunityToStageHandler,
  WinOpportunityHandler,
  LoseOpportunityHandler,
  ReopenOpportunityHandler,
  ChangeOpportunityDetailsHandler,
];

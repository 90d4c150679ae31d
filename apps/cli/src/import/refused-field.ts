/**
 * The command field a refusal is about, by its code and the command refused: an import names the
 * column (a backfill's) or the data field (an export line's) of every line it rejects, those the
 * process's rules refuse included, not only those whose cell breaks a field rule. Undefined where
 * no one field is at fault (a win from a stage not in winFrom is about the row as a whole).
 */
export function refusedField(code: string, commandType: string): string | undefined {
  switch (code) {
    case 'OPPORTUNITY.OCCURRED_AT_BEFORE_LAST_EVENT':
    case 'OPPORTUNITY.OCCURRED_AT_IN_FUTURE':
    case 'OPPORTUNITY.INVALID_OCCURRED_AT':
      return 'occurredAt';
    case 'OPPORTUNITY.UNKNOWN_STAGE':
    case 'OPPORTUNITY.SKIP_NOT_ALLOWED':
    case 'OPPORTUNITY.BACKWARD_NOT_ALLOWED':
    case 'OPPORTUNITY.ALREADY_IN_STAGE':
      return 'stage';
    case 'OPPORTUNITY.EXIT_CRITERIA_UNMET':
      // Leaving the stage forward (a move, or a reopening one move on) needs them: the target is at fault.
      return commandType === 'MoveOpportunityToStage' || commandType === 'ReopenOpportunity' ? 'stage' : undefined;
    case 'OPPORTUNITY.INVALID_LOST_REASON':
    case 'OPPORTUNITY.INVALID_WON_REASON':
    case 'OPPORTUNITY.WON_REASON_REQUIRED':
      return 'reason';
    case 'OPPORTUNITY.UNKNOWN_TEAM':
      // A migration's team refusal is the deal's team against the version migrated to.
      return commandType === 'MigrateOpportunity' ? 'toVersion' : 'teamId';
    case 'OPPORTUNITY.INVALID_AMOUNT':
      return 'amount';
    case 'OPPORTUNITY.INVALID_EXPECTED_CLOSE_DATE':
      return 'expectedCloseDate';
    case 'OPPORTUNITY.UNKNOWN_CRITERION':
      return 'criterionId';
    case 'OPPORTUNITY.UNKNOWN_PROCESS_VERSION':
    case 'OPPORTUNITY.NOT_A_NEWER_VERSION':
      return 'toVersion';
    case 'OPPORTUNITY.UNMAPPED_STAGE':
    case 'OPPORTUNITY.INVALID_STAGE_MAPPING':
      return 'stageMapping';
    case 'PROCESS.NOT_FOUND':
      return 'processId';
    default:
      return undefined;
  }
}

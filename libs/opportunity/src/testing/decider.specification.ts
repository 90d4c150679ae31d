import type { CompiledProcess } from '@stagecraft/sales-process';
import type { OpportunityCommand } from '../opportunity.commands';
import { decide, type Decision, type ProcessVersionLookup } from '../opportunity.decide';
import type { OpportunityErrorCode } from '../opportunity.errors';
import type { OpportunityEvent } from '../opportunity.events';
import { foldOpportunity } from '../opportunity.evolve';

/**
 * Specifications read as `given(past events).when(command).then(new events)` or
 * `.thenRejects(code)`; the state is always rebuilt from the given events, as in production.
 */
export function deciderSpecification(process: CompiledProcess, versions?: ProcessVersionLookup) {
  return {
    given(events: readonly OpportunityEvent[]) {
      return {
        when(command: OpportunityCommand) {
          const decision: Decision = decide(command, foldOpportunity(events), process, versions);
          return {
            then(expected: readonly OpportunityEvent[]): void {
              expect(decision).toEqual({ ok: true, events: expected });
            },
            thenNothingHappens(): void {
              expect(decision).toEqual({ ok: true, events: [] });
            },
            thenRejects(code: OpportunityErrorCode, details?: Record<string, unknown>): void {
              expect(decision.ok).toBe(false);
              if (decision.ok) return;
              expect(decision.error.code).toBe(code);
              expect(decision.error.message.length).toBeGreaterThan(20);
              if (details) expect(decision.error.details).toMatchObject(details);
            },
          };
        },
      };
    },
  };
}

import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { decide, type OpportunityCommand, type OpportunityState } from '@stagecraft/opportunity';
import { compileProcess, type CompiledProcess, type ProcessDefinition } from '@stagecraft/sales-process';
import { definitionArbitrary } from '@stagecraft/sales-process/testing';
import { toPublicEvent } from './public-event.mapping';
import { PUBLIC_EVENT_SCHEMAS } from './public-event.schemas';
import { PUBLIC_EVENT_TYPES, type PublicEvent } from './public-event.types';

// Every payload the mapping publishes is valid against the schema of its type: not only the
// example life, but any life the domain decides, on random processes, with the values at the edges
// that a request may carry (text in any script, emoji, the largest amount, four decimals, hand-overs
// between teams and owners, dates set and cleared, reopenings, a migration to a renamed version).

const ajv = addFormats(new Ajv({ strict: true, allErrors: true }));
const validators = Object.fromEntries(PUBLIC_EVENT_TYPES.map((type) => [type, ajv.compile(PUBLIC_EVENT_SCHEMAS[type])]));
const errorsOf = (event: PublicEvent): string[] => {
  const check = validators[event.type]!;
  return check(event) ? [] : check.errors!.map((error) => `${error.instancePath} ${error.message}`);
};

const textArbitrary = fc.oneof(
  fc.constantFrom('ACME renewal', 'Müller & Söhne — Verlängerung', '東京 リニューアル', 'عقد التجديد', '🚀 deal 👩🏽‍💼', 'a', 'x'.repeat(500)),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((text) => /\S/u.test(text)),
);
const amountArbitrary = fc.oneof(fc.constantFrom(0, 1e15, 999_999_999_999.9999, 0.0001, 48_000), fc.integer({ min: 0, max: 1_000_000_000 }).map((minor) => minor / 10_000));
const idArbitrary = fc.constantFrom('t1', 't2', 'ana', 'ben@example.com', 'team:emea-1');
const dateArbitrary = fc.constantFrom('2026-04-30', '2027-02-28', '9999-12-31');

type CommandBody = OpportunityCommand extends infer C ? (C extends OpportunityCommand ? Omit<C, 'opportunityId' | 'now'> : never) : never;
const stageArbitrary = fc.constantFrom('s0', 's1', 's2', 's3', 's4');
const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
const commandArbitrary: fc.Arbitrary<CommandBody> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('MeetExitCriterion' as const), criterionId: fc.constantFrom('c0', 'c1', 'c2'), note: optional(textArbitrary) }) },
  fc.record({ type: fc.constant('RevokeExitCriterion' as const), criterionId: fc.constantFrom('c0', 'c1', 'c2'), note: optional(textArbitrary) }),
  { weight: 4, arbitrary: fc.record({ type: fc.constant('MoveOpportunityToStage' as const), stage: stageArbitrary, note: optional(textArbitrary) }) },
  fc.record({ type: fc.constant('WinOpportunity' as const), note: optional(textArbitrary), nextSteps: optional(textArbitrary) }),
  fc.record({ type: fc.constant('LoseOpportunity' as const), reason: fc.constantFrom('price', 'timing', 'other'), note: optional(textArbitrary), nextSteps: optional(textArbitrary) }),
  fc.record({ type: fc.constant('ReopenOpportunity' as const), stage: optional(stageArbitrary), note: optional(textArbitrary) }),
  { weight: 3, arbitrary: fc.record({
    type: fc.constant('ChangeOpportunityDetails' as const),
    title: optional(textArbitrary),
    amount: optional(amountArbitrary),
    currency: optional(fc.constantFrom('EUR', 'JPY', 'USD')),
    ownerId: optional(idArbitrary),
    teamId: optional(fc.constantFrom('t1', 't2')),
    expectedCloseDate: optional(fc.oneof(dateArbitrary, fc.constant(null))),
  }) },
  fc.record({ type: fc.constant('MigrateOpportunity' as const), toVersion: fc.constant('renamed'), note: optional(textArbitrary) }),
);
const openArbitrary = fc.record({
  type: fc.constant('OpenOpportunity' as const),
  processId: fc.constant('generated'),
  title: textArbitrary,
  teamId: optional(fc.constantFrom('t1', 't2')),
  ownerId: optional(idArbitrary),
  amount: optional(amountArbitrary),
  currency: optional(fc.constantFrom('EUR', 'JPY')),
  expectedCloseDate: optional(dateArbitrary),
});
const metadataArbitrary = fc.record(
  { actor: fc.oneof(fc.constantFrom('crm', 'jwt|ünï', 'cli:root'), textArbitrary), onBehalfOf: textArbitrary, correlationId: fc.constantFrom('req-1', 'ünï-🚀') },
  { requiredKeys: ['actor'] },
);

/** The same process, its stages renamed in another script, one later version that a migration may target. */
function renamed(definition: ProcessDefinition): ProcessDefinition {
  return { ...definition, stages: definition.stages.map((stage) => ({ ...stage, name: `Étape ${stage.id} 段階 🚦` })) };
}

describe('every public event the mapping publishes', () => {
  it('is valid against the JSON Schema of its type, whatever the domain decided', () => {
    const seen = new Set<string>();
    assertProperty(
      fc.property(definitionArbitrary, openArbitrary, fc.array(fc.tuple(commandArbitrary, metadataArbitrary), { minLength: 1, maxLength: 40 }), (definition, open, steps) => {
        const current = compileProcess(definition);
        const later = compileProcess(renamed(definition));
        const byVersion = new Map<string, CompiledProcess>([
          [current.version, current],
          [later.version, later],
        ]);
        const definitions = (processId: string, version: string) => (processId === 'generated' ? byVersion.get(version)?.definition : undefined);
        const versions = (version: string) => (version === later.version ? { process: later, recordedOrder: 2 } : version === current.version ? { process: current, recordedOrder: 1 } : undefined);
        let state: OpportunityState = { status: 'none' };
        let revision = 0;
        const all: [CommandBody, Record<string, unknown>][] = [[open, { actor: 'crm' }], ...steps];
        all.forEach(([body, metadata], index) => {
          // The generated migration names the later version by its hash, known only once the process is.
          const command = { ...body, ...(body.type === 'MigrateOpportunity' ? { toVersion: later.version } : {}), opportunityId: '0b9a4c52-7f8e-4d1a-9c3b-2e6f5a8d7c10', now: new Date(Date.UTC(2026, 0, 1, 0, index)).toISOString() } as OpportunityCommand;
          const process = state.status === 'none' ? current : (byVersion.get(state.processVersion) ?? current);
          const decision = decide(command, state, process, versions);
          if (!decision.ok) return;
          for (const event of decision.events) {
            const stored = { id: `7c1d${String(revision).padStart(4, '0')}-3a2b-4c5d-8e9f-0a1b2c3d4e5f`, revision, position: 1 + revision * 3, metadata };
            const mapped = toPublicEvent(stored, event, state, definitions);
            state = mapped.state;
            revision += 1;
            if (mapped.publicEvent === undefined) continue;
            seen.add(mapped.publicEvent.type);
            expect({ event: mapped.publicEvent, errors: errorsOf(mapped.publicEvent) }).toEqual({ event: mapped.publicEvent, errors: [] });
          }
        });
      }),
      { numRuns: 300 },
    );
    // The runs reached every public type, so each schema was tried on decided payloads.
    expect([...seen].sort()).toEqual([...PUBLIC_EVENT_TYPES].sort());
  });
});

import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { CloudEvent } from 'cloudevents';
import type { OpportunityEvent, OpportunityState } from '@stagecraft/opportunity';
import { EXAMPLE_DEFINITIONS, EXAMPLE_PRIVATE_EVENTS, examplePublicEvents } from './public-event.examples';
import { toPublicEvent } from './public-event.mapping';
import { PUBLIC_EVENT_SCHEMAS } from './public-event.schemas';
import { PUBLIC_EVENT_TYPES, type PublicEvent } from './public-event.types';

const ajv = addFormats(new Ajv({ strict: true, allErrors: true }));
const validators = Object.fromEntries(PUBLIC_EVENT_TYPES.map((type) => [type, ajv.compile(PUBLIC_EVENT_SCHEMAS[type])]));
const validate = (event: PublicEvent) => {
  const check = validators[event.type]!;
  return check(event) ? [] : check.errors!.map((error) => `${error.instancePath} ${error.message}`);
};

function mapAll(events: readonly OpportunityEvent[], metadata: Record<string, unknown> = { actor: 'crm' }): PublicEvent[] {
  let state: OpportunityState = { status: 'none' };
  return events.flatMap((event, revision) => {
    const mapped = toPublicEvent({ id: `00000000-0000-4000-8000-${String(revision).padStart(12, '0')}`, revision, position: revision + 1, metadata }, event, state, EXAMPLE_DEFINITIONS);
    state = mapped.state;
    return mapped.publicEvent ?? [];
  });
}

describe('the public events (.v1)', () => {
  const examples = examplePublicEvents();

  it('cover every public type, and each is valid against its JSON Schema', () => {
    expect(new Set(examples.map((event) => event.type))).toEqual(new Set(PUBLIC_EVENT_TYPES));
    for (const event of examples) expect({ type: event.type, errors: validate(event) }).toEqual({ type: event.type, errors: [] });
  });

  it('are CloudEvents 1.0 the CloudEvents SDK accepts as they are', () => {
    for (const event of examples) {
      const parsed = new CloudEvent(JSON.parse(JSON.stringify(event)) as Record<string, unknown>, true);
      expect(parsed.validate()).toBe(true);
      expect(parsed.id).toBe(event.id);
      expect(parsed.stagecraftposition).toBe(event.stagecraftposition);
    }
  });

  it('say what the documented fields say: a move forward, named from the process version', () => {
    expect(examples[1]).toEqual({
      specversion: '1.0',
      id: '7c1d0001-3a2b-4c5d-8e9f-0a1b2c3d4e5f',
      source: '/stagecraft/opportunities',
      type: 'stagecraft.opportunity.stage-changed.v1',
      subject: '0b9a4c52-7f8e-4d1a-9c3b-2e6f5a8d7c10',
      time: '2026-03-03T09:00:00.000Z',
      datacontenttype: 'application/json',
      stagecraftposition: '1007',
      stagecraftrevision: 1,
      correlationid: 'req-1',
      data: {
        opportunityId: '0b9a4c52-7f8e-4d1a-9c3b-2e6f5a8d7c10',
        title: 'ACME renewal',
        processId: 'standard',
        processVersion: 'v1-1f2e3d4c',
        teamId: 'direct',
        ownerId: 'ana',
        amount: 48000,
        currency: 'EUR',
        occurredAt: '2026-03-03T09:00:00.000Z',
        actor: { name: 'crm', onBehalfOf: 'ana' },
        from: { id: 'new', name: 'New' },
        to: { id: 'qualification', name: 'Qualification' },
        direction: 'forward',
        note: 'discovery call done',
      },
    });
  });

  it('name stages from the version the opportunity runs on, before and after a migration', () => {
    const migrated = examples.find((event) => event.type === 'stagecraft.opportunity.process-migrated.v1')!;
    expect(migrated.data).toMatchObject({ fromStage: { id: 'qualification', name: 'Qualification' }, toStage: { id: 'qualification', name: 'Qualifying' }, processVersion: 'v2-5a6b7c8d' });
    const won = examples.find((event) => event.type === 'stagecraft.opportunity.won.v1')!;
    expect(won.data).toMatchObject({ outcome: 'won', stage: { id: 'proposal', name: 'Proposal' }, wonReason: 'renewal', amount: 52000, ownerId: 'ben' });
    const lost = examples.find((event) => event.type === 'stagecraft.opportunity.lost.v1')!;
    expect(lost.data).toMatchObject({ outcome: 'lost', lostReason: 'timing', stage: { id: 'qualification', name: 'Qualifying' } });
    const reopened = examples.find((event) => event.type === 'stagecraft.opportunity.reopened.v1')!;
    expect(reopened.data).toMatchObject({ previousOutcome: 'lost', stage: { id: 'qualification', name: 'Qualifying' } });
    const met = examples.find((event) => event.type === 'stagecraft.opportunity.exit-criterion-met.v1')!;
    expect(met.data).toMatchObject({ criterion: { id: 'budget-confirmed', description: 'There is a budget' } });
    const changed = examples.find((event) => event.type === 'stagecraft.opportunity.details-changed.v1')!;
    expect(changed.data).toMatchObject({ changes: { amount: 52000, ownerId: 'ben' }, amount: 52000, ownerId: 'ben' });
  });

  it('never carry the hash chain, fingerprints or internal ids of the metadata', () => {
    const secretMetadata = { actor: 'crm', commandId: 'cmd-SECRET', causationId: 'cmd-SECRET', authenticatedBy: 'api-key:SECRET', prevHash: 'SECRET', hash: 'SECRET', commandFingerprint: 'SECRET', recordedAt: '2026-03-01T00:00:00.000Z' };
    const text = JSON.stringify(mapAll(EXAMPLE_PRIVATE_EVENTS, secretMetadata));
    expect(text).not.toContain('SECRET');
    expect(text).not.toContain('recordedAt');
  });

  it('do not change when a private event gains fields (the mapping picks each public field by name)', () => {
    const widened = EXAMPLE_PRIVATE_EVENTS.map((event) => ({ ...event, data: { ...event.data, internalScore: 0.7, shardKey: 'eu-1', hash: 'x' } }) as unknown as OpportunityEvent);
    expect(mapAll(widened)).toEqual(mapAll(EXAMPLE_PRIVATE_EVENTS));
  });

  it('are refused by their schema when data gains an undocumented field or loses a required one', () => {
    const event = examples[0]!;
    expect(validate({ ...event, data: { ...event.data, hash: 'abc' } } as unknown as PublicEvent)).toEqual(['/data must NOT have additional properties']);
    const { stage: _stage, ...withoutStage } = event.data as unknown as Record<string, unknown>;
    expect(validate({ ...event, data: withoutStage } as unknown as PublicEvent)).toEqual(["/data must have required property 'stage'"]);
    expect(validate({ ...event, type: 'stagecraft.opportunity.won.v1' } as PublicEvent).length).toBeGreaterThan(0);
  });

  it('name a stage by its id when its process version is unknown, rather than hold the event back', () => {
    const [event] = mapAll([{ ...EXAMPLE_PRIVATE_EVENTS[0]!, data: { ...(EXAMPLE_PRIVATE_EVENTS[0]!.data as object), processVersion: 'never-recorded' } } as OpportunityEvent]);
    expect(event!.data).toMatchObject({ stage: { id: 'new', name: 'new' } });
    expect(validate(event!)).toEqual([]);
  });
});

import { processVersionOf, type ProcessDefinition } from '@stagecraft/sales-process';
import { chainNewEvents, GENESIS_HASH, verifyLog, verifyStreamChain } from './hash-chain';
import { processStreamOf, verifyOpportunity } from './opportunity-verification';
import type { StoredEventLike } from './stored-event-like';

const ID = 'o1';
const at = (minute: number) => new Date(Date.UTC(2026, 2, 31, 9, minute)).toISOString();
const meta = (minute: number) => ({ actor: 'ana', commandId: `c${minute}`, recordedAt: at(minute) }) as Record<string, unknown>;

function stream(name: string, events: { type: string; data: Record<string, unknown> }[]): StoredEventLike[] {
  const { events: chained } = chainNewEvents(
    name,
    0,
    GENESIS_HASH,
    events.map((event, minute) => ({ ...event, metadata: meta(minute) })),
  );
  return chained.map((event, revision) => ({ ...event, stream: name, revision }));
}

// A version is the hash of its definition, as the process registry records it.
const V1_DEFINITION = { id: 'standard', name: 'Standard' } as unknown as ProcessDefinition;
const V2_DEFINITION = { id: 'standard', name: 'Standard, stricter' } as unknown as ProcessDefinition;
const [V1, V2] = [processVersionOf(V1_DEFINITION), processVersionOf(V2_DEFINITION)];
const processEvents = () =>
  stream('sales-process-standard', [
    { type: 'ProcessVersionRecorded', data: { processId: 'standard', version: V1, definition: V1_DEFINITION, source: 'standard.yaml' } },
    { type: 'ProcessVersionRecorded', data: { processId: 'standard', version: V2, definition: V2_DEFINITION, source: 'standard.yaml' } },
  ]);
const opportunityEvents = () =>
  stream(`opportunity-${ID}`, [
    { type: 'OpportunityOpened', data: { opportunityId: ID, occurredAt: at(0), processId: 'standard', processVersion: V1, stage: 'new', title: 'ACME' } },
    { type: 'StageChanged', data: { opportunityId: ID, occurredAt: at(1), from: 'new', to: 'qualification', direction: 'forward' } },
    { type: 'ProcessMigrated', data: { opportunityId: ID, occurredAt: at(2), processId: 'standard', fromVersion: V1, toVersion: V2, stageMapping: {} } },
  ]);
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const stripped = (events: StoredEventLike[]) => events.map(({ metadata: { hash: _hash, prevHash: _prevHash, ...metadata }, ...event }) => ({ ...event, metadata }));

describe("an opportunity's verification (the API's /verify and the CLI's verify <id>)", () => {
  it('verifies the opportunity and the process it was judged by', () => {
    const opportunity = opportunityEvents();
    expect(processStreamOf(opportunity)).toBe('sales-process-standard');
    expect(verifyOpportunity(ID, opportunity, processEvents())).toMatchObject({
      opportunityId: ID,
      ok: true,
      opportunity: { ok: true, stream: `opportunity-${ID}`, events: 3 },
      process: { ok: true, stream: 'sales-process-standard', events: 2 },
    });
  });

  it('does not call a stream whose hashes were stripped verified, though its chain "holds"', () => {
    const opportunity = stripped(opportunityEvents());
    expect(verifyStreamChain(opportunity).ok).toBe(true); // what the CLI used to print as "Intact"
    expect(verifyOpportunity(ID, opportunity, processEvents())).toMatchObject({ ok: false, opportunity: { ok: true, unchained: 3, unchainedCovered: false } });
    expect(verifyOpportunity(ID, opportunityEvents(), stripped(processEvents()))).toMatchObject({ ok: false, process: { ok: true, unchainedCovered: false } });
  });

  it('finds an altered payload in the opportunity', () => {
    const opportunity = clone(opportunityEvents());
    (opportunity[1]!.data as Record<string, unknown>).to = 'negotiation';
    expect(verifyOpportunity(ID, opportunity, processEvents())).toMatchObject({ ok: false, opportunity: { ok: false, revision: 1, reason: 'hash-mismatch' }, process: { ok: true } });
  });

  it('finds a tampered process stream: an edited definition, a deleted stream, a cut end', () => {
    const edited = clone(processEvents());
    (edited[0]!.data.definition as Record<string, unknown>).name = 'Relaxed rules';
    expect(verifyOpportunity(ID, opportunityEvents(), edited)).toMatchObject({ ok: false, opportunity: { ok: true }, process: { ok: false, revision: 0, reason: 'hash-mismatch' } });

    expect(verifyOpportunity(ID, opportunityEvents(), [])).toMatchObject({ ok: false, process: { ok: false, stream: 'sales-process-standard', revision: 0, reason: 'stream-missing' } });
    expect(verifyOpportunity(ID, opportunityEvents(), null)).toMatchObject({ ok: false, process: { reason: 'stream-missing' } });

    // v2, which the opportunity migrated to, cut from the end: the process chain alone still holds.
    const cut = processEvents().slice(0, 1);
    expect(verifyStreamChain(cut).ok).toBe(true);
    expect(verifyOpportunity(ID, opportunityEvents(), cut)).toMatchObject({
      ok: false,
      process: { ok: false, revision: 1, reason: 'version-missing', detail: expect.stringContaining(`version ${V2}`) },
    });
    // Opened on v1 and never migrated: a process stream holding v1 is enough.
    expect(verifyOpportunity(ID, opportunityEvents().slice(0, 2), cut).ok).toBe(true);
  });

  it('finds a process definition rewritten with every hash of its stream recomputed: it no longer hashes to the version it is recorded as', () => {
    const definition = { ...V1_DEFINITION, name: 'Relaxed rules' };
    const forged = stream('sales-process-standard', [
      { type: 'ProcessVersionRecorded', data: { processId: 'standard', version: V1, definition, source: 'standard.yaml' } },
      { type: 'ProcessVersionRecorded', data: { processId: 'standard', version: V2, definition: V2_DEFINITION, source: 'standard.yaml' } },
    ]);
    const detail = `the definition recorded as version ${V1} hashes to ${processVersionOf(definition)}: it was rewritten after it was recorded (its hash recomputed), so the opportunities that ran on ${V1} would be judged by rules they never ran on`;
    expect(verifyOpportunity(ID, opportunityEvents(), forged)).toMatchObject({ ok: false, opportunity: { ok: true }, process: { ok: false, stream: 'sales-process-standard', revision: 0, reason: 'definition-mismatch', detail } });
    // The CLI's verify <process stream> and verify --all judge it the same.
    expect(verifyStreamChain(forged)).toMatchObject({ ok: false, revision: 0, reason: 'definition-mismatch' });
    expect(verifyLog([...forged, ...opportunityEvents()]).broken).toEqual([expect.objectContaining({ stream: 'sales-process-standard', revision: 0, reason: 'definition-mismatch' })]);
    // Written before tamper evidence (no hashes): the definition still vouches for its version.
    expect(verifyStreamChain(stripped(forged))).toMatchObject({ ok: false, revision: 0, reason: 'definition-mismatch' });
    expect(verifyStreamChain(stripped(processEvents()))).toMatchObject({ ok: true, unchained: 2 });
  });

  it('finds a recorded version rewritten under another process id, its hashes recomputed: verify <id> and verify --all both say so', () => {
    const forged = stream('sales-process-standard', [
      { type: 'ProcessVersionRecorded', data: { processId: 'other', version: V1, definition: V1_DEFINITION, source: 'standard.yaml' } },
      { type: 'ProcessVersionRecorded', data: { processId: 'standard', version: V2, definition: V2_DEFINITION, source: 'standard.yaml' } },
    ]);
    const detail = 'the event in sales-process-standard records process "other", while its definition is process "standard": it was rewritten after it was recorded (its hash recomputed)';
    expect(verifyOpportunity(ID, opportunityEvents(), forged)).toMatchObject({ ok: false, opportunity: { ok: true }, process: { ok: false, stream: 'sales-process-standard', revision: 0, reason: 'definition-mismatch', detail } });
    expect(verifyLog([...forged, ...opportunityEvents()]).broken).toEqual([expect.objectContaining({ stream: 'sales-process-standard', revision: 0, reason: 'definition-mismatch' })]);
    // Moved to another process's stream, its chain recomputed there, with or without the process id beside it rewritten.
    for (const [processId, said] of [
      ['other', 'records process "other", while its definition is process "standard"'],
      ['standard', 'records a version of process "standard", whose stream is sales-process-standard: it was moved there'],
    ]) {
      const moved = stream('sales-process-other', [{ type: 'ProcessVersionRecorded', data: { processId, version: V1, definition: V1_DEFINITION, source: 'standard.yaml' } }]);
      expect(verifyStreamChain(moved)).toMatchObject({ ok: false, revision: 0, reason: 'definition-mismatch', detail: expect.stringContaining(`the event in sales-process-other ${said}`) });
    }
  });

  it('has no process to verify when the events name none', () => {
    const opportunity = clone(opportunityEvents());
    delete (opportunity[0]!.data as Record<string, unknown>).processId;
    expect(verifyOpportunity(ID, opportunity, null)).toMatchObject({ ok: false, opportunity: { ok: false, reason: 'hash-mismatch' }, process: null });
  });
});

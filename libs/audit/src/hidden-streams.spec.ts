import { processVersionOf, type ProcessDefinition } from '@stagecraft/sales-process';
import { chainNewEvents, GENESIS_HASH } from './hash-chain';
import { describeHiddenStream, HiddenStreamsFinder, hiddenEventsOf, hiddenFromStreamRead, uncheckedHiding, verifyOpportunityAsRead, type StreamHidingLike } from './hidden-streams';
import type { StoredEventLike } from './stored-event-like';

const stream = 'opportunity-a';
const nothing: StreamHidingLike = { stream, softDeleted: false, tombstoned: false };
const revisions = (hidden: ReturnType<typeof hiddenEventsOf>) => hidden.map(({ mechanism, setting, throughRevision, hiddenEvents }) => ({ mechanism, setting, throughRevision, hiddenEvents }));

describe('which setting hides which events of a stream', () => {
  it('a tombstone and a soft delete hide every event the log shows', () => {
    expect(revisions(hiddenEventsOf({ ...nothing, tombstoned: true }, 4))).toEqual([{ mechanism: 'tombstone', setting: undefined, throughRevision: 4, hiddenEvents: 5 }]);
    expect(revisions(hiddenEventsOf({ ...nothing, softDeleted: true, truncateBefore: Number.MAX_SAFE_INTEGER }, 2))).toEqual([{ mechanism: 'soft-delete', setting: undefined, throughRevision: 2, hiddenEvents: 3 }]);
    // The log no longer shows the stream (scavenged): still deleted, how many events unknown.
    const [scavenged] = hiddenEventsOf({ ...nothing, tombstoned: true }, undefined);
    expect(scavenged).toMatchObject({ mechanism: 'tombstone', hiddenEvents: undefined });
    expect(describeHiddenStream(scavenged!)).toBe(`ALTERED: ${stream}: tombstone — deleted for good (a tombstone): its events can no longer be read through the stream (the log still holds them until a scavenge)`);
  });

  it('$tb hides the revisions before it, never more than the stream holds', () => {
    expect(revisions(hiddenEventsOf({ ...nothing, truncateBefore: 3 }, 5))).toEqual([{ mechanism: 'truncate-before', setting: 3, throughRevision: 2, hiddenEvents: 3 }]);
    expect(revisions(hiddenEventsOf({ ...nothing, truncateBefore: 10 }, 5))).toEqual([{ mechanism: 'truncate-before', setting: 10, throughRevision: 5, hiddenEvents: 6 }]);
    expect(hiddenEventsOf({ ...nothing, truncateBefore: 0 }, 5)).toEqual([]);
    expect(describeHiddenStream(hiddenEventsOf({ ...nothing, truncateBefore: 3 }, 5)[0]!)).toBe(`ALTERED: ${stream}: truncate-before — stream metadata $tb 3 hides revisions 0–2 (3 event(s)) from readers`);
  });

  it('$maxCount hides all but the last ones, and nothing while the stream is shorter', () => {
    expect(revisions(hiddenEventsOf({ ...nothing, maxCount: 2 }, 5))).toEqual([{ mechanism: 'max-count', setting: 2, throughRevision: 3, hiddenEvents: 4 }]);
    expect(hiddenEventsOf({ ...nothing, maxCount: 6 }, 5)).toEqual([]);
  });

  it('$maxAge is what readers no longer see beyond what $tb and $maxCount hide (the store’s clock decides)', () => {
    expect(revisions(hiddenEventsOf({ ...nothing, maxAgeSeconds: 60, firstReadableRevision: 2 }, 5))).toEqual([{ mechanism: 'max-age', setting: 60, throughRevision: 1, hiddenEvents: 2 }]);
    expect(revisions(hiddenEventsOf({ ...nothing, maxAgeSeconds: 60 }, 5))).toEqual([{ mechanism: 'max-age', setting: 60, throughRevision: 5, hiddenEvents: 6 }]);
    // Every event still young enough: nothing hidden.
    expect(hiddenEventsOf({ ...nothing, maxAgeSeconds: 60, firstReadableRevision: 0 }, 5)).toEqual([]);
    // $tb explains the start readers do not see: not $maxAge's.
    expect(revisions(hiddenEventsOf({ ...nothing, truncateBefore: 2, maxAgeSeconds: 60, firstReadableRevision: 2 }, 5))).toEqual([{ mechanism: 'truncate-before', setting: 2, throughRevision: 1, hiddenEvents: 2 }]);
  });

  it('settings on a stream the log does not show hide nothing', () => {
    expect(hiddenEventsOf({ ...nothing, truncateBefore: 3, maxCount: 1, maxAgeSeconds: 1 }, undefined)).toEqual([]);
  });
});

describe('what hides the events of a stream read on its own (verify <id>)', () => {
  it('from the revisions the read showed, as in the whole log', () => {
    expect(revisions(hiddenFromStreamRead({ ...nothing, truncateBefore: 2, firstReadableRevision: 2 }, 5))).toEqual([{ mechanism: 'truncate-before', setting: 2, throughRevision: 1, hiddenEvents: 2 }]);
  });

  it('a read that showed nothing: every setting the stream carries hides every event, how many unknown', () => {
    const [aged] = hiddenFromStreamRead({ ...nothing, maxAgeSeconds: 1 }, undefined);
    expect(aged).toMatchObject({ mechanism: 'max-age', setting: 1 });
    expect(aged!.hiddenEvents).toBeUndefined();
    expect(describeHiddenStream(aged!)).toBe(`ALTERED: ${stream}: max-age — stream metadata $maxAge (seconds) 1 hides every event of the stream from readers (verify --all counts them)`);
    expect(hiddenFromStreamRead({ ...nothing, softDeleted: true }, undefined).map(({ mechanism }) => mechanism)).toEqual(['soft-delete']);
    expect(hiddenFromStreamRead(nothing, undefined)).toEqual([]);
  });
});

describe('HiddenStreamsFinder, fed the whole log', () => {
  it('takes each stream’s last revision from the log and reports every stream its settings hide events of', () => {
    const finder = new HiddenStreamsFinder([
      { ...nothing, stream: 'opportunity-a', truncateBefore: 2 },
      { ...nothing, stream: 'opportunity-b', tombstoned: true },
      { ...nothing, stream: 'opportunity-c', maxCount: 10 },
    ]);
    for (let revision = 0; revision < 4; revision += 1) for (const name of ['opportunity-a', 'opportunity-b', 'opportunity-c', 'opportunity-d']) finder.add({ stream: name, revision });
    expect(finder.report().map(({ stream: name, mechanism, hiddenEvents }) => [name, mechanism, hiddenEvents])).toEqual([
      ['opportunity-a', 'truncate-before', 2],
      ['opportunity-b', 'tombstone', 4],
    ]);
  });
});

describe("one opportunity as its streams read, with what the store hides of them (verify <id>, the API's /verify)", () => {
  const definition = { id: 'standard', name: 'Standard' } as unknown as ProcessDefinition;
  const version = processVersionOf(definition);
  const chained = (name: string, events: { type: string; data: Record<string, unknown> }[]): StoredEventLike[] =>
    chainNewEvents(name, 0, GENESIS_HASH, events.map((event, minute) => ({ ...event, metadata: { actor: 'ana', recordedAt: new Date(Date.UTC(2026, 0, 1, 9, minute)).toISOString() } }))).events.map((event, revision) => ({
      ...event,
      stream: name,
      revision,
    }));
  const opportunity = chained('opportunity-o1', [
    { type: 'OpportunityOpened', data: { opportunityId: 'o1', processId: 'standard', processVersion: version, stage: 'new', title: 'ACME' } },
    { type: 'StageChanged', data: { opportunityId: 'o1', from: 'new', to: 'qualification', direction: 'forward' } },
    { type: 'StageChanged', data: { opportunityId: 'o1', from: 'qualification', to: 'proposal', direction: 'forward' } },
  ]);
  const processEvents = chained('sales-process-standard', [{ type: 'ProcessVersionRecorded', data: { processId: 'standard', version, definition, source: 'standard.yaml' } }]);
  const none = (name: string): StreamHidingLike => ({ stream: name, softDeleted: false, tombstoned: false });

  it('a tombstoned or soft-deleted stream, hidden whole: ALTERED by what hides it, as verify --all says, not a chain break', () => {
    for (const [hiding, mechanism] of [[{ ...none('opportunity-o1'), tombstoned: true }, 'tombstone'], [{ ...none('opportunity-o1'), softDeleted: true }, 'soft-delete']] as const) {
      const report = verifyOpportunityAsRead('o1', [], null, {}, undefined, { opportunity: hiding });
      expect(report).toMatchObject({ ok: false, opportunity: { ok: true, stream: 'opportunity-o1', events: 0 }, process: null, hidden: [{ stream: 'opportunity-o1', mechanism }] });
    }
  });

  it('$tb or $maxCount hiding the first revisions: the chain of what is left is checked from there, and only the setting is reported', () => {
    const left = opportunity.slice(2);
    const tb = verifyOpportunityAsRead('o1', left, processEvents, {}, undefined, { opportunity: { ...none('opportunity-o1'), truncateBefore: 2, firstReadableRevision: 2 } });
    expect(tb).toMatchObject({ ok: false, opportunity: { ok: true, firstRevision: 2, events: 1, lastRevision: 2 }, hidden: [{ mechanism: 'truncate-before', setting: 2, throughRevision: 1 }] });
    const counted = verifyOpportunityAsRead('o1', left, processEvents, {}, undefined, { opportunity: { ...none('opportunity-o1'), maxCount: 1, firstReadableRevision: 2 } });
    expect(counted).toMatchObject({ ok: false, opportunity: { ok: true, firstRevision: 2 }, hidden: [{ mechanism: 'max-count', setting: 1, throughRevision: 1 }] });
    // What is left still has to chain: an event edited after the hidden ones is a break.
    const edited = left.map((event) => ({ ...event, data: { ...event.data, to: 'won' } }));
    expect(verifyOpportunityAsRead('o1', edited, processEvents, {}, undefined, { opportunity: { ...none('opportunity-o1'), truncateBefore: 2, firstReadableRevision: 2 } }).opportunity).toMatchObject({ ok: false, revision: 2, reason: 'hash-mismatch' });
    // A revision missing beyond what the setting hides is still a gap.
    expect(verifyOpportunityAsRead('o1', left, processEvents, {}, undefined, { opportunity: { ...none('opportunity-o1'), truncateBefore: 1, firstReadableRevision: 1 } }).opportunity).toMatchObject({ ok: false, reason: 'revision-gap' });
  });

  it('a stream whose settings could not be read and whose read starts past revision 0: UNCHECKED from there (hidden or cut, not told apart), not a revision gap', () => {
    const unchecked = [uncheckedHiding('opportunity-o1', 'auditor'), uncheckedHiding('sales-process-standard', 'auditor')];
    const report = verifyOpportunityAsRead('o1', opportunity.slice(2), processEvents, {}, undefined, { unchecked });
    expect(report).toMatchObject({ ok: false, opportunity: { ok: true, firstRevision: 2 }, hidden: [], unchecked: [{ stream: 'opportunity-o1', firstReadRevision: 2, detail: expect.stringContaining('its read starts at revision 2: ') }, { stream: 'sales-process-standard' }] });
    // What is left still has to chain, and a gap past the first revision read is no setting's: BROKEN.
    expect(verifyOpportunityAsRead('o1', [opportunity[0]!, opportunity[2]!], processEvents, {}, undefined, { unchecked }).opportunity).toMatchObject({ ok: false, reason: 'revision-gap' });
    // Read from revision 0: nothing is cut, the check not made is said as it is.
    expect(verifyOpportunityAsRead('o1', opportunity, processEvents, {}, undefined, { unchecked }).unchecked).toEqual(unchecked);
  });

  it('a process stream no event of which reads, its settings refused: UNCHECKED (deleted or hidden whole, not told apart), its versions named, not stream-missing', () => {
    const report = verifyOpportunityAsRead('o1', opportunity, [], {}, undefined, { unchecked: [uncheckedHiding('opportunity-o1', 'auditor'), uncheckedHiding('sales-process-standard', 'auditor')] });
    expect(report).toMatchObject({
      ok: false,
      opportunity: { ok: true },
      process: { ok: true, events: 0, versionsNotShown: [version] },
      hidden: [],
      unchecked: [{ stream: 'opportunity-o1' }, { stream: 'sales-process-standard', detail: expect.stringContaining('no event of it can be read: ') }],
    });
    expect(report.unchecked![0]!.detail).not.toContain('no event of it can be read');
  });

  it('a process stream a setting hides: its versions and events named ALTERED, not missing', () => {
    const aged = verifyOpportunityAsRead('o1', opportunity, [], {}, undefined, { process: { ...none('sales-process-standard'), maxAgeSeconds: 1 } });
    expect(aged).toMatchObject({ ok: false, opportunity: { ok: true }, process: { ok: true, events: 0 }, hidden: [{ stream: 'sales-process-standard', mechanism: 'max-age' }] });
    // The version the deal ran on is among what is hidden: named, not passed over (the version-missing check cannot be made).
    expect(aged.process).toMatchObject({ versionsNotShown: [version], versionsDetail: expect.stringContaining(`the opportunity ran on version ${version}, which sales-process-standard no longer shows its readers`) });
    // Its settings refused, the process stream's read starting past revision 0: the same, UNCHECKED.
    const laterDefinition = { id: 'standard', name: 'Standard, later' } as unknown as ProcessDefinition;
    const later = chained('sales-process-standard', [
      { type: 'ProcessVersionRecorded', data: { processId: 'standard', version, definition, source: 'standard.yaml' } },
      { type: 'ProcessVersionRecorded', data: { processId: 'standard', version: processVersionOf(laterDefinition), definition: laterDefinition, source: 'standard.yaml' } },
    ]).slice(1);
    const refused = verifyOpportunityAsRead('o1', opportunity, later, {}, undefined, { unchecked: [uncheckedHiding('sales-process-standard', 'auditor')] });
    expect(refused).toMatchObject({ ok: false, process: { ok: true, firstRevision: 1, versionsNotShown: [version] }, unchecked: [{ stream: 'sales-process-standard', firstReadRevision: 1 }] });
    // A version the readers see is not named.
    expect(verifyOpportunityAsRead('o1', opportunity, processEvents, {}, undefined, { process: { ...none('sales-process-standard'), maxCount: 5 } }).process).not.toHaveProperty('versionsNotShown');
    const gone = verifyOpportunityAsRead('o1', opportunity, [], {}, undefined, { process: { ...none('sales-process-standard'), tombstoned: true } });
    expect(gone).toMatchObject({ ok: false, process: { ok: true }, hidden: [{ stream: 'sales-process-standard', mechanism: 'tombstone' }] });
    // Without a setting that hides it, an empty process stream is still missing.
    expect(verifyOpportunityAsRead('o1', opportunity, [], {}, undefined, {})).toMatchObject({ ok: false, process: { ok: false, reason: 'stream-missing' }, hidden: [] });
  });
});

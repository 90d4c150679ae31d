import { describeHiddenStream, HiddenStreamsFinder, hiddenEventsOf, hiddenFromStreamRead, type StreamHidingLike } from './hidden-streams';

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

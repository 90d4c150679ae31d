import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { evolve, fromOpportunityStreamId, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
import { EPOCH, historyArbitrary, SPAN_MS } from '../../projections/src/testing/history.arbitrary';
import { foldAsOf, openingOf, UnreadableInstantError } from './as-of';
import type { StoredEventLike } from './stored-event-like';

/** The generated log's opportunity streams, with revisions and a recording time per event. */
function streamsOf(log: readonly { position: number; stream: string; type: string; data: Readonly<Record<string, unknown>> }[]): StoredEventLike[][] {
  const streams = new Map<string, StoredEventLike[]>();
  for (const event of log) {
    if (fromOpportunityStreamId(event.stream) === undefined) continue;
    const events = streams.get(event.stream) ?? [];
    // System time: the log is recorded in position order, one minute apart, from a day before EPOCH.
    const recordedAt = new Date(EPOCH - 86_400_000 + event.position * 60_000).toISOString();
    events.push({ stream: event.stream, revision: events.length, type: event.type, data: event.data, metadata: { recordedAt } });
    streams.set(event.stream, events);
  }
  return [...streams.values()];
}

/**
 * Brute force: the state after every prefix of the stream, then the longest prefix whose every
 * event lies at or before the instant on the axis.
 */
function bruteForceAsOf(events: readonly StoredEventLike[], instant: number, axis: 'occurredAt' | 'recordedAt'): OpportunityState {
  const states: OpportunityState[] = [{ status: 'none' }];
  for (const event of events) states.push(evolve(states[states.length - 1]!, { type: event.type, data: event.data } as OpportunityEvent));
  let prefix = 0;
  while (prefix < events.length) {
    const event = events[prefix]!;
    const time = new Date(axis === 'occurredAt' ? String(event.data.occurredAt) : String(event.metadata.recordedAt)).getTime();
    if (time > instant) break;
    prefix += 1;
  }
  return states[prefix]!;
}

describe('foldAsOf', () => {
  it('equals a brute-force fold at random instants, on both time axes', () => {
    assertProperty(
      fc.property(
        historyArbitrary({ maxSteps: 120 }),
        fc.array(fc.integer({ min: EPOCH - 2 * 86_400_000, max: EPOCH + SPAN_MS * 2 }), { minLength: 1, maxLength: 8 }),
        ({ clean }, instants) => {
          for (const events of streamsOf(clean)) {
            for (const axis of ['occurredAt', 'recordedAt'] as const) {
              // On each axis, instants exactly on an event's time and 1 ms either side (the boundary
              // is inclusive): the first events, the middle one and the last.
              const picked = [...events.slice(0, 3), events[events.length >> 1]!, events[events.length - 1]!];
              const onEvents = picked.flatMap((event) => {
                const ms = Date.parse(String(axis === 'occurredAt' ? event.data.occurredAt : event.metadata.recordedAt));
                return [ms - 1, ms, ms + 1];
              });
              for (const instant of [...instants, ...onEvents]) {
                const result = foldAsOf(events, instant, axis);
                expect(result.state).toEqual(bruteForceAsOf(events, instant, axis));
                expect(result.revision).toBe(result.eventsFolded === 0 ? null : result.eventsFolded - 1);
              }
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is always a prefix: a later event recorded by a lagging clock does not count before the events it follows', () => {
    const stream = 'opportunity-00000000-0000-4000-8000-000000000001';
    const opened = { stream, revision: 0, type: 'OpportunityOpened', metadata: { recordedAt: '2026-03-01T10:00:00Z' },
      data: { opportunityId: '00000000-0000-4000-8000-000000000001', title: 'ACME', processId: 'standard', processVersion: 'v1', stage: 'new', teamId: 'direct', occurredAt: '2026-03-01T10:00:00Z' } };
    const detailsChanged = { stream, revision: 1, type: 'OpportunityDetailsChanged', metadata: { recordedAt: '2026-03-05T10:00:00Z' },
      data: { opportunityId: '00000000-0000-4000-8000-000000000001', title: 'ACME (renamed)', occurredAt: '2026-03-05T10:00:00Z' } };
    // Another writer's clock was a week behind when it recorded revision 2.
    const lagging = { stream, revision: 2, type: 'OpportunityDetailsChanged', metadata: { recordedAt: '2026-03-02T10:00:00Z' },
      data: { opportunityId: '00000000-0000-4000-8000-000000000001', title: 'ACME (lagging)', occurredAt: '2026-03-06T10:00:00Z' } };

    const result = foldAsOf([opened, detailsChanged, lagging], '2026-03-03T00:00:00Z', 'recordedAt');

    expect(result).toMatchObject({ revision: 0, eventsFolded: 1, state: { status: 'open', title: 'ACME' } });
  });

  it('takes ISO text and refuses what is not an instant', () => {
    const events: StoredEventLike[] = [
      {
        stream: 'opportunity-o1',
        revision: 0,
        type: 'OpportunityOpened',
        data: { opportunityId: 'o1', occurredAt: '2026-03-31T10:00:00.000Z', processId: 'p', processVersion: 'v', stage: 'new', title: 'T' },
        metadata: { recordedAt: '2026-04-02T08:00:00.000Z' },
      },
    ];
    expect(foldAsOf(events, '2026-03-31T09:59:59.999Z', 'occurredAt')).toEqual({ state: { status: 'none' }, revision: null, eventsFolded: 0 });
    expect(foldAsOf(events, '2026-03-31T12:00:00+02:00', 'occurredAt').state.status).toBe('open');
    // Backfilled: it happened on 31 March, but the system only knew on 2 April.
    expect(foldAsOf(events, '2026-04-01T00:00:00Z', 'recordedAt').state.status).toBe('none');
    expect(() => foldAsOf(events, 'yesterday', 'occurredAt')).toThrow(RangeError);
  });

  describe('an event whose instant cannot be read (a log edited outside the service)', () => {
    const stream = 'opportunity-00000000-0000-4000-8000-000000000002';
    const opportunityId = '00000000-0000-4000-8000-000000000002';
    const opened: StoredEventLike = { stream, revision: 0, position: 10, type: 'OpportunityOpened', metadata: { recordedAt: '2026-03-01T10:00:00Z' },
      data: { opportunityId, title: 'ACME', processId: 'standard', processVersion: 'v1', stage: 'new', teamId: 'direct', occurredAt: '2026-03-01T10:00:00Z' } };
    const renamed = (occurredAt: unknown, recordedAt: unknown): StoredEventLike => ({ stream, revision: 1, position: 12, type: 'OpportunityDetailsChanged',
      metadata: recordedAt === undefined ? {} : { recordedAt }, data: { opportunityId, title: 'ACME (renamed)', ...(occurredAt === undefined ? {} : { occurredAt }) } });
    const won: StoredEventLike = { stream, revision: 2, position: 15, type: 'OpportunityWon', metadata: { recordedAt: '2026-03-09T10:00:00Z' },
      data: { opportunityId, stage: 'new', occurredAt: '2026-03-09T10:00:00Z' } };

    it.each([
      ['occurredAt', undefined, '2026-03-05T10:00:00Z', 'missing'],
      ['occurredAt', 'garbage', '2026-03-05T10:00:00Z', '"garbage" is not an instant'],
      ['occurredAt', 17, '2026-03-05T10:00:00Z', '17 is not an instant'],
      ['recordedAt', '2026-03-05T10:00:00Z', 'garbage', '"garbage" is not an instant'],
      // What Date.parse would still read as some instant: a number, a date alone, a time without a
      // zone (the server's own), prose. None is a time a writer of the log puts there.
      ['occurredAt', 5, '2026-03-05T10:00:00Z', '5 is not an instant'],
      ['occurredAt', '2026-03-05', '2026-03-05T10:00:00Z', '"2026-03-05" is not an instant'],
      ['occurredAt', '2026-03-05T10:00:00', '2026-03-05T10:00:00Z', '"2026-03-05T10:00:00" is not an instant'],
      ['occurredAt', 'March 5, 2026', '2026-03-05T10:00:00Z', '"March 5, 2026" is not an instant'],
      ['recordedAt', '2026-03-05T10:00:00Z', 5, '5 is not an instant'],
      ['recordedAt', '2026-03-05T10:00:00Z', '2026-03-05 10:00', '"2026-03-05 10:00" is not an instant'],
    ] as const)('reached by the fold on %s (%s / %s): refused naming it, never an earlier state as the state then', (axis, occurredAt, recordedAt, found) => {
      const events = [opened, renamed(occurredAt, recordedAt), won];
      const refused = (() => {
        try {
          foldAsOf(events, '2026-03-31T00:00:00Z', axis);
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(refused).toBeInstanceOf(UnreadableInstantError);
      expect(refused).toMatchObject({ stream, revision: 1, position: 12, axis, found });
      expect((refused as Error).message).toContain(`revision 1 of ${stream} (position 12)`);
      // Not reached: the fold stopped at an event after the instant before it.
      expect(foldAsOf(events, '2026-03-01T09:00:00Z', axis)).toMatchObject({ revision: null, eventsFolded: 0 });
    });

    it('a long value is named by an excerpt', () => {
      const refused = (() => {
        try {
          foldAsOf([opened, renamed('x'.repeat(500), '2026-03-05T10:00:00Z'), won], '2026-03-31T00:00:00Z', 'occurredAt');
        } catch (error) {
          return error as UnreadableInstantError;
        }
        return undefined;
      })();
      expect(refused?.found.length).toBeLessThan(120);
    });
  });
});

describe('openingOf', () => {
  const opened = (data: Record<string, unknown>, metadata: Record<string, unknown>, recordedAt?: string): StoredEventLike => ({ stream: 'opportunity-x', revision: 0, type: 'OpportunityOpened', data, metadata, ...(recordedAt === undefined ? {} : { recordedAt }) });

  it('says when the deal was opened on both clocks, in the form an as-of read takes back', () => {
    const first = opened({ occurredAt: '2026-01-05T10:00:00+01:00' }, { recordedAt: '2026-01-10T12:00:00.000Z' });
    const later = { ...first, revision: 1, data: { occurredAt: '2026-02-01T00:00:00.000Z' }, metadata: { recordedAt: '2026-02-01T00:00:00.000Z' } };
    expect(openingOf([first, later])).toEqual({ revision: 0, occurredAt: '2026-01-05T09:00:00.000Z', recordedAt: '2026-01-10T12:00:00.000Z' });
    // An instant before it on either clock is exactly where the as-of fold folds nothing.
    expect(foldAsOf([first, later], Date.parse('2026-01-05T08:59:59.999Z'), 'occurredAt').revision).toBeNull();
    expect(foldAsOf([first, later], Date.parse('2026-01-05T09:00:00.000Z'), 'occurredAt').revision).toBe(0);
    expect(foldAsOf([first, later], Date.parse('2026-01-10T11:59:59.999Z'), 'recordedAt').revision).toBeNull();
  });

  it("takes the store's recording time where the writer put none, and says nothing of a time that cannot be read", () => {
    expect(openingOf([opened({ occurredAt: 'last tuesday' }, {}, '2026-01-10T12:00:00.000Z')])).toEqual({ revision: 0, occurredAt: undefined, recordedAt: '2026-01-10T12:00:00.000Z' });
    expect(openingOf([])).toBeUndefined();
  });
});

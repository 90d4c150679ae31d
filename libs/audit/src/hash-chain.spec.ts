import { createHash } from 'node:crypto';
import { assertProperty } from '@stagecraft/testing/fast-check';
import fc from 'fast-check';
import { canonicalJson } from '@stagecraft/sales-process';
import { chainHash, chainLinkBreak, chainNewEvents, ChainVerifier, GENESIS_HASH, verifyLog, verifyStreamChain, withChainMetadata } from './hash-chain';
import type { StoredEventLike } from './stored-event-like';

const STREAM = 'opportunity-o1';
const at = (minute: number) => new Date(Date.UTC(2026, 2, 31, 9, minute)).toISOString();
const raw = (minute: number, type: string, data: Record<string, unknown> = {}) => ({
  type,
  data: { opportunityId: 'o1', occurredAt: at(minute), ...data },
  metadata: { actor: 'ana', commandId: `c${minute}`, recordedAt: at(minute) } as Record<string, unknown>,
});
const RAW = [
  raw(0, 'OpportunityOpened', { processId: 'standard', processVersion: 'v1', stage: 'new', title: 'ACME' }),
  raw(1, 'StageChanged', { from: 'new', to: 'qualification', direction: 'forward' }),
  raw(2, 'ExitCriterionMet', { stage: 'qualification', criterionId: 'goals' }),
  raw(3, 'OpportunityLost', { stage: 'qualification', reason: 'price' }),
];

/** Appends in batches as the writer does: each batch chained after the stream's head. */
function chainedStream(stream = STREAM, events = RAW): StoredEventLike[] {
  const { events: chained } = chainNewEvents(stream, 0, GENESIS_HASH, events);
  return chained.map((event, revision) => ({ ...event, stream, revision }));
}
const clone = (events: StoredEventLike[]): StoredEventLike[] => JSON.parse(JSON.stringify(events));

describe('the hash chain', () => {
  it('verifies an untouched stream and reports its head hash', () => {
    const events = chainedStream();
    expect(verifyStreamChain(events)).toEqual({ ok: true, stream: STREAM, events: 4, unchained: 0, unchainedCovered: true, headHash: events[3]!.metadata.hash, lastRevision: 3 });
    expect(events[0]!.metadata.prevHash).toBe(GENESIS_HASH);
    expect(events[2]!.metadata.prevHash).toBe(events[1]!.metadata.hash);
  });

  it('chains batches appended one after the other like one batch', () => {
    const first = chainNewEvents(STREAM, 0, GENESIS_HASH, RAW.slice(0, 2));
    const second = chainNewEvents(STREAM, 2, first.headHash, RAW.slice(2));
    expect([...first.events, ...second.events].map((event) => event.metadata.hash)).toEqual(chainedStream().map((event) => event.metadata.hash));
  });

  // Stored hashes are checked again for ever: the text hashed may never change, however it is written.
  it('hashes what it always hashed (values computed by the first implementation)', () => {
    const event = {
      stream: 'opportunity-o1',
      revision: 3,
      type: 'ExitCriterionMet',
      data: { opportunityId: 'o1', occurredAt: '2026-03-31T09:02:00.000Z', stage: 'qualification', criterionId: 'goals', '10': 'x', '2': ['é', null, { z: 1, a: 'ü"\n' }] },
      metadata: { actor: 'ana', commandId: 'c2', recordedAt: '2026-03-31T09:02:00.000Z', prevHash: 'p', hash: 'h', skipped: undefined },
    };
    expect(chainHash(GENESIS_HASH, event)).toBe('37c11b029e4a194f66903ba4b62a6f7d22ee5434c4f3db8ac459abd0908b94d6');
    expect(chainHash('ab'.repeat(32), { stream: 's', revision: 0, type: 'T', data: {} })).toBe('7ec58f859bee1186b55be20d97b5b74614a1cc92f3ac55896ce83ccf92d7f0ad');
  });

  it(`is SHA-256 over the previous hash, a newline and the canonical JSON of the event as documented, for any event`, () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    const members = fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.nat({ max: 12 }).map(String), fc.constantFrom('prevHash', 'hash', 'occurredAt')), json, { maxKeys: 6 });
    assertProperty(
      fc.property(fc.string(), fc.nat(), fc.string(), members, fc.option(members, { nil: undefined }), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), (stream, revision, type, data, metadata, prevHash) => {
        const event = { stream, revision, type, data, metadata };
        const { prevHash: _p, hash: _h, ...hashedMetadata } = metadata ?? {};
        const occurredAt = typeof data.occurredAt === 'string' ? data.occurredAt : null;
        const text = canonicalJson({ stream, revision, type, occurredAt, data, metadata: hashedMetadata });
        expect(chainHash(prevHash, event)).toBe(createHash('sha256').update(`${prevHash}\n${text}`).digest('hex'));
      }),
      { numRuns: 1000 },
    );
  });

  // The metadata appended: the writer's own members in their order, then prevHash and hash (the
  // stored JSON keeps that order), hash being chainHash of the event carrying exactly that metadata.
  it('appends metadata as the writer gave it plus prevHash and the hash of the event with it, for any metadata', () => {
    const json = fc.jsonValue({ maxDepth: 2 });
    const members = fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.nat({ max: 12 }).map(String), fc.constantFrom('prevHash', 'hash', 'actor')), json, { maxKeys: 6 });
    assertProperty(
      fc.property(fc.string(), fc.nat(), fc.string(), members, members, fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), (stream, revision, type, data, metadata, prevHash) => {
        const chained = withChainMetadata(prevHash, { stream, revision, type, data, metadata });
        const expected: Record<string, unknown> = { ...metadata, prevHash };
        expected.hash = chainHash(prevHash, { stream, revision, type, data, metadata: expected });
        expect(JSON.stringify(chained)).toBe(JSON.stringify(expected));
        expect(metadata).not.toBe(chained);
      }),
      { numRuns: 500 },
    );
  });

  it('does not depend on key order, and depends on every hashed field', () => {
    const event = { stream: STREAM, revision: 1, type: 'T', data: { a: 1, b: { c: 2, d: 3 } }, metadata: { actor: 'ana' } };
    const reordered = { metadata: { actor: 'ana' }, data: { b: { d: 3, c: 2 }, a: 1 }, type: 'T', revision: 1, stream: STREAM };
    expect(chainHash(GENESIS_HASH, reordered)).toBe(chainHash(GENESIS_HASH, event));
    const variants = [
      { ...event, stream: 'opportunity-o2' },
      { ...event, revision: 2 },
      { ...event, type: 'U' },
      { ...event, data: { ...event.data, a: 2 } },
      { ...event, metadata: { actor: 'bob' } },
    ];
    for (const variant of variants) expect(chainHash(GENESIS_HASH, variant)).not.toBe(chainHash(GENESIS_HASH, event));
    expect(chainHash('f'.repeat(64), event)).not.toBe(chainHash(GENESIS_HASH, event));
  });

  it('detects an edited data field at the edited revision', () => {
    const events = clone(chainedStream());
    (events[2]!.data as Record<string, unknown>).criterionId = 'budget-confirmed';
    expect(verifyStreamChain(events)).toMatchObject({ ok: false, stream: STREAM, revision: 2, reason: 'hash-mismatch' });
  });

  it('detects a rewritten actor', () => {
    const events = clone(chainedStream());
    (events[1]!.metadata as Record<string, unknown>).actor = 'mallory';
    expect(verifyStreamChain(events)).toMatchObject({ ok: false, revision: 1, reason: 'hash-mismatch' });
  });

  it('detects an edit whose hash was recomputed, at the next event', () => {
    const events = clone(chainedStream());
    (events[1]!.data as Record<string, unknown>).to = 'proposition';
    (events[1]!.metadata as Record<string, unknown>).hash = chainHash(events[1]!.metadata.prevHash as string, events[1]!);
    expect(verifyStreamChain(events)).toMatchObject({ ok: false, revision: 2, reason: 'prev-hash-mismatch' });
  });

  it('detects a deleted event, first or in the middle', () => {
    const events = chainedStream();
    expect(verifyStreamChain(events.filter((e) => e.revision !== 1))).toMatchObject({ ok: false, revision: 2, reason: 'revision-gap' });
    expect(verifyStreamChain(events.slice(1))).toMatchObject({ ok: false, revision: 1, reason: 'revision-gap' });
  });

  it('detects a deletion hidden by renumbering the revisions after it', () => {
    const events = chainedStream()
      .filter((e) => e.revision !== 1)
      .map((event, revision) => ({ ...event, revision }));
    expect(verifyStreamChain(events)).toMatchObject({ ok: false, revision: 1, reason: 'prev-hash-mismatch' });
  });

  it('detects two events swapped (their revisions exchanged)', () => {
    const events = clone(chainedStream());
    const swapped = [events[0]!, { ...events[2]!, revision: 1 }, { ...events[1]!, revision: 2 }, events[3]!];
    expect(verifyStreamChain(swapped)).toMatchObject({ ok: false, revision: 1, reason: 'prev-hash-mismatch' });
  });

  it('read in revision order, detects two events whose positions in the log were swapped (the chain itself holds)', () => {
    const events = chainedStream().map((event, index) => ({ ...event, position: 10 + index }));
    const swapped = events.map((event) => (event.revision === 1 ? { ...event, position: 12 } : event.revision === 2 ? { ...event, position: 11 } : event));
    expect(verifyStreamChain(swapped)).toEqual({
      ok: false,
      stream: STREAM,
      revision: 2,
      reason: 'revision-order',
      detail: "revision 2 is at position 11, before revision 1 at position 12: the events' positions in the log were swapped or rewritten, so readers of the log take them out of order",
    });
    expect(verifyStreamChain(events).ok).toBe(true);
  });

  it('read in revision order, names an earlier event moved into a later revision for its broken link, though it also stands before its predecessor in the log', () => {
    const events = chainedStream().map((event, index) => ({ ...event, position: 10 + index }));
    // Revision 1 as stored, put at revision 3 and at the position revision 2 had; revision 2 after it.
    const movedIn = [events[0]!, events[1]!, { ...events[2]!, position: 13 }, { ...events[1]!, revision: 3, position: 12 }];
    expect(verifyStreamChain(movedIn)).toEqual({
      ok: false,
      stream: STREAM,
      revision: 3,
      reason: 'prev-hash-mismatch',
      detail: `prevHash ${events[1]!.metadata.prevHash as string} is not the previous event's hash ${events[2]!.metadata.hash as string}`,
    });
    // Where the chain holds, the same order is a move (the test above).
  });

  it('checks one link as the command side folds it: the revision, the previous hash, the hash', () => {
    const events = clone(chainedStream());
    expect(events.map((event, index) => chainLinkBreak(index === 0 ? GENESIS_HASH : (events[index - 1]!.metadata.hash as string), index, event))).toEqual([undefined, undefined, undefined, undefined]);
    expect(chainLinkBreak(events[0]!.metadata.hash as string, 1, events[2]!)).toMatchObject({ reason: 'revision-gap' });
    expect(chainLinkBreak(events[1]!.metadata.hash as string, 1, { ...events[1]!, revision: 1 })).toMatchObject({ reason: 'prev-hash-mismatch' });
    (events[1]!.data as Record<string, unknown>).to = 'proposition';
    expect(chainLinkBreak(events[0]!.metadata.hash as string, 1, events[1]!)).toMatchObject({ reason: 'hash-mismatch' });
    // Written before tamper evidence: not judged on one link.
    expect(chainLinkBreak(GENESIS_HASH, 0, RAW.map((event) => ({ ...event, stream: STREAM, revision: 0 }))[0]!)).toBeUndefined();
  });

  it('detects a stripped hash after hashed events', () => {
    const events = clone(chainedStream());
    delete (events[2]!.metadata as Record<string, unknown>).hash;
    delete (events[2]!.metadata as Record<string, unknown>).prevHash;
    expect(verifyStreamChain(events)).toMatchObject({ ok: false, revision: 2, reason: 'missing-hash' });
    delete (events[1]!.metadata as Record<string, unknown>).hash;
    expect(verifyStreamChain(events)).toMatchObject({ ok: false, revision: 1, reason: 'missing-hash' });
  });

  it('treats a hashless prefix as unchained, vouched for by the first hashed event after it', () => {
    const legacy = RAW.slice(0, 2).map((event, revision) => ({ ...event, stream: STREAM, revision }));
    const onlyLegacy = verifyStreamChain(legacy);
    expect(onlyLegacy).toMatchObject({ ok: true, events: 2, unchained: 2, unchainedCovered: false });
    // The writer continues the chain from the computed hash of the legacy prefix.
    const { events: next } = chainNewEvents(STREAM, 2, onlyLegacy.ok ? onlyLegacy.headHash : '', RAW.slice(2));
    const mixed = [...legacy, ...next.map((event, index) => ({ ...event, stream: STREAM, revision: 2 + index }))];
    expect(verifyStreamChain(mixed)).toMatchObject({ ok: true, events: 4, unchained: 2, unchainedCovered: true });
    // ... so an edit to a legacy event is now detected, where the chain first vouches for it.
    const edited = clone(mixed);
    (edited[0]!.data as Record<string, unknown>).title = 'Other';
    expect(verifyStreamChain(edited)).toMatchObject({ ok: false, revision: 2, reason: 'prev-hash-mismatch' });
  });

  it('fed the log in position order, calls a whole stream without hashes after the log was chained stripped, not "written before"', () => {
    const positioned = (events: StoredEventLike[], first: number) => events.map((event, index) => ({ ...event, position: first + index }));
    const stripped = (events: StoredEventLike[]) =>
      events.map(({ metadata: { hash: _hash, prevHash: _prevHash, ...metadata }, ...event }) => ({ ...event, metadata }));
    const older = positioned(stripped(chainedStream('opportunity-old')), 1); // written before tamper evidence
    const chained = positioned(chainedStream('opportunity-o2'), 5);
    const rewritten = positioned(stripped(chainedStream('opportunity-o3')), 9); // after it: hashes stripped

    const verdict = verifyLog([...older, ...chained, ...rewritten]);

    expect(verdict.broken).toEqual([expect.objectContaining({ stream: 'opportunity-o3', revision: 0, reason: 'missing-hash' })]);
    expect(verdict.unchained).toBe(4); // the older stream: reported, not called tampered
    // Without positions (one stream read alone) nothing tells the two apart: it is only "unchained".
    expect(verifyStreamChain(stripped(chainedStream('opportunity-o3')))).toMatchObject({ ok: true, unchained: 4, unchainedCovered: false });
  });

  it('says where a misfit event came from: a copy of the event before it, or moved from another stream (fed the log in position order)', () => {
    const [a, b, c] = ['opportunity-a', 'opportunity-b', 'opportunity-c'].map((stream) => chainedStream(stream));
    const log = a!.flatMap((event, index) => [event, b![index]!, c![index]!]);
    const copied = verifyLog([...log, { ...b![3]!, revision: 4 }]);
    expect(copied.broken).toEqual([expect.objectContaining({ stream: 'opportunity-b', revision: 4, reason: 'prev-hash-mismatch', detail: expect.stringMatching(/: the event carries the hash of revision 3, the event before it, so it is a copy of that event$/) })]);
    // c's last event rewritten into b, at the same place in the log: c itself still looks whole.
    const moved = verifyLog(log.map((event) => (event === c![3] ? { ...event, stream: 'opportunity-b', revision: 4 } : event)));
    expect(moved.broken).toEqual([
      expect.objectContaining({ stream: 'opportunity-b', revision: 4, reason: 'prev-hash-mismatch', detail: expect.stringMatching(/: it chains from opportunity-c revision 2, so it was moved or copied from opportunity-c \(its stream or revision rewritten\)$/) }),
    ]);
  });

  it('verifies an empty stream as intact', () => {
    expect(verifyStreamChain([], STREAM)).toEqual({ ok: true, stream: STREAM, events: 0, unchained: 0, unchainedCovered: true, headHash: GENESIS_HASH, lastRevision: null });
  });

  it('verifies interleaved streams of a log and lists every broken one, first seen first', () => {
    const a = chainedStream('opportunity-a');
    const b = clone(chainedStream('opportunity-b'));
    const c = clone(chainedStream('opportunity-c'));
    const interleaved = a.flatMap((event, index) => [event, b[index]!, c[index]!]);
    expect(verifyLog(interleaved)).toEqual({ ok: true, streams: 3, events: 12, unchained: 0, uncoveredStreams: 0, broken: [] });
    (c[1]!.data as Record<string, unknown>).to = 'x';
    (b[3]!.data as Record<string, unknown>).reason = 'x';
    const verdict = verifyLog(a.flatMap((event, index) => [event, b[index]!, c[index]!]));
    expect(verdict.ok).toBe(false);
    expect(verdict.broken.map(({ stream, revision }) => [stream, revision])).toEqual([
      ['opportunity-b', 3],
      ['opportunity-c', 1],
    ]);
    const verifier = new ChainVerifier();
    for (const event of a) verifier.add(event);
    expect(verifier.verdict('opportunity-a').ok).toBe(true);
    expect(verifier.verdict('opportunity-unknown')).toMatchObject({ ok: true, events: 0 });
  });
});

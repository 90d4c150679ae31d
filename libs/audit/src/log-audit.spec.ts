import { processVersionOf, type ProcessDefinition } from '@stagecraft/sales-process';
import { chainNewEvents, GENESIS_HASH, verifyLog, verifyStreamChain } from './hash-chain';
import { auditLog, EMPTY_LOG_HEAD, formatLogHead, LogAuditor, MAX_LOG_BREAKS, parseLogHead, withBreaksByRevision, type LogAuditOptions, type LogHead } from './log-audit';
import type { StoredEventLike } from './stored-event-like';

type Positioned = StoredEventLike & { position: number };

const at = (minute: number) => new Date(Date.UTC(2026, 2, 31, 9, minute)).toISOString();
const raw = (minute: number, type: string, data: Record<string, unknown> = {}) => ({
  type,
  data: { occurredAt: at(minute), ...data },
  metadata: { actor: 'ana', commandId: `c${minute}`, recordedAt: at(minute) } as Record<string, unknown>,
});

function chained(stream: string, count: number): StoredEventLike[] {
  const events = Array.from({ length: count }, (_, index) => raw(index, index === 0 ? 'OpportunityOpened' : 'StageChanged', { step: index }));
  return chainNewEvents(stream, 0, GENESIS_HASH, events).events.map((event, revision) => ({ ...event, stream, revision }));
}

/** Streams A, B, C of four events each, interleaved as concurrent writers would leave them. */
function streams(): StoredEventLike[] {
  const [a, b, c] = ['opportunity-a', 'opportunity-b', 'opportunity-c'].map((stream) => chained(stream, 4));
  return a!.flatMap((event, index) => [event, b![index]!, c![index]!]);
}

/** SQLite numbers events 1, 2, 3, … */
const dense = (events: readonly StoredEventLike[]): Positioned[] => events.map((event, index) => ({ ...event, position: index + 1 }));
/** KurrentDB's positions are byte offsets: increasing, with gaps of each record's size. */
const offsets = (events: readonly StoredEventLike[]): Positioned[] => {
  let position = 0;
  return events.map((event) => ({ ...event, position: (position += 120 + JSON.stringify(event.data).length) }));
};
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const without = (log: Positioned[], drop: (event: Positioned) => boolean) => log.filter((event) => !drop(event));
const stripped = (event: Positioned): Positioned => {
  const { hash: _hash, prevHash: _prevHash, ...metadata } = event.metadata;
  return { ...event, metadata };
};

const SQLITE: LogAuditOptions = { densePositions: true };
const KURRENTDB: LogAuditOptions = { densePositions: false };
const headOf = (log: Positioned[], options: LogAuditOptions): LogHead => auditLog(log, options).head;

describe('the log audit', () => {
  it('passes an untouched log, and gives the same head for the same log, another for any other', () => {
    const log = dense(streams());
    const audit = auditLog(log, SQLITE);
    expect(audit).toMatchObject({ ok: true, streams: 3, events: 12, eventsRead: 12, logBreaks: [], logBreakCount: 0, keptHead: null, head: { position: 12 } });
    expect(audit.head.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(auditLog(clone(log), SQLITE).head).toEqual(audit.head);
    expect(headOf(log.slice(0, 11), SQLITE)).not.toEqual(audit.head);
    expect(auditLog([], SQLITE)).toMatchObject({ ok: true, head: EMPTY_LOG_HEAD });
  });

  it('a head kept earlier is reproduced by the log grown since', () => {
    const log = dense(streams());
    const kept = headOf(log.slice(0, 7), SQLITE);
    expect(auditLog(log, { ...SQLITE, keptHead: kept })).toMatchObject({ ok: true, keptHead: { head: kept, reproduced: true }, head: { position: 12 } });
    expect(auditLog(log, { ...SQLITE, keptHead: EMPTY_LOG_HEAD })).toMatchObject({ ok: true, keptHead: { reproduced: true } });
    expect(auditLog(log, { ...KURRENTDB, keptHead: headOf(offsets(streams()).slice(0, 5), KURRENTDB) }).ok).toBe(false); // another numbering, another log
    const kurrent = offsets(streams());
    expect(auditLog(kurrent, { ...KURRENTDB, keptHead: headOf(kurrent.slice(0, 5), KURRENTDB) })).toMatchObject({ ok: true, keptHead: { reproduced: true } });
  });

  it('finds an event deleted in the middle of a stream: its chain, and the missing position', () => {
    const log = dense(streams());
    const audit = auditLog(without(log, (event) => event.position === 5), SQLITE);
    expect(audit.ok).toBe(false);
    expect(audit.broken).toEqual([expect.objectContaining({ stream: 'opportunity-b', revision: 2, reason: 'revision-gap' })]);
    expect(audit.logBreaks).toEqual([{ reason: 'position-gap', position: 5, detail: 'position 5 is missing: 1 event(s) deleted from the log' }]);
  });

  it("calls two events of one stream whose positions were swapped out of order, not deleted, on either store", () => {
    for (const [number, options] of [[dense, SQLITE], [offsets, KURRENTDB]] as const) {
      const log = number(streams());
      const [first, second] = [1, 2].map((revision) => log.find((event) => event.stream === 'opportunity-a' && event.revision === revision)!);
      const swapped = log
        .map((event) => (event === first ? { ...event, position: second!.position } : event === second ? { ...event, position: first!.position } : event))
        .sort((x, y) => x.position - y.position);
      const audit = auditLog(swapped, options);
      expect(audit).toMatchObject({ ok: false, logBreaks: [] }); // no position is missing
      expect(audit.broken).toEqual([
        {
          ok: false,
          stream: 'opportunity-a',
          revision: 2,
          reason: 'revision-order',
          detail: `revision 2 is at position ${first!.position}, before revision 1 at position ${second!.position}: the events' positions in the log were swapped or rewritten, so readers of the log take them out of order`,
        },
      ]);
    }
    // Their revisions swapped instead (each row keeps its position): the chain does not hold, and
    // the log read in position order says what the stream read in revision order (verify <id>) says.
    for (const [number, options] of [[dense, SQLITE], [offsets, KURRENTDB]] as const) {
      const log = number(streams());
      const renumbered = log.map((event) => (event.stream === 'opportunity-a' && (event.revision === 1 || event.revision === 2) ? { ...event, revision: 3 - event.revision } : event));
      const byRevision = renumbered.filter((event) => event.stream === 'opportunity-a').sort((x, y) => x.revision - y.revision);
      const alone = verifyStreamChain(byRevision);
      expect(alone).toMatchObject({ ok: false, revision: 1, reason: 'prev-hash-mismatch' });
      expect(auditLog(renumbered, options).broken).toEqual([alone]);
    }
    // A revision deleted, not moved, stays a gap.
    const deleted = auditLog(without(dense(streams()), (event) => event.stream === 'opportunity-a' && event.revision === 1), SQLITE);
    expect(deleted.broken).toEqual([expect.objectContaining({ stream: 'opportunity-a', revision: 2, reason: 'revision-gap', detail: 'expected revision 1, found 2 at position 7: revision 1 was deleted, or renumbered' })]);
  });

  it('finds a whole stream deleted from a dense log, though every remaining chain is intact', () => {
    const log = without(dense(streams()), (event) => event.stream === 'opportunity-b');
    expect(verifyLog(log).ok).toBe(true); // the chains alone cannot see it
    const audit = auditLog(log, SQLITE);
    expect(audit).toMatchObject({ ok: false, broken: [], streams: 2, logBreakCount: 4 });
    expect(audit.logBreaks.map((logBreak) => [logBreak.reason, logBreak.position])).toEqual([
      ['position-gap', 2],
      ['position-gap', 5],
      ['position-gap', 8],
      ['position-gap', 11],
    ]);
  });

  it('finds the first events of a dense log deleted (it starts at 1)', () => {
    const audit = auditLog(dense(streams()).slice(2), SQLITE);
    expect(audit.logBreaks).toEqual([{ reason: 'position-gap', position: 1, detail: 'positions 1–2 are missing: 2 event(s) deleted from the log' }]);
  });

  it('on a store without dense positions, sees a deleted stream only against a kept head', () => {
    const log = offsets(streams());
    const kept = headOf(log, KURRENTDB);
    const deleted = without(log, (event) => event.stream === 'opportunity-c');
    expect(auditLog(deleted, KURRENTDB).ok).toBe(true); // what such a store can and cannot prove: README, "For auditors"
    const audit = auditLog(deleted, { ...KURRENTDB, keptHead: kept });
    expect(audit).toMatchObject({ ok: false, broken: [], keptHead: { head: kept, reproduced: false } });
    expect(audit.logBreaks).toEqual([expect.objectContaining({ reason: 'head-beyond-end', position: kept.position })]); // c's last event was the log's last
    // A stream deleted before the kept head's last event: there is no event at its position any more.
    const middle = without(log, (event) => event.stream === 'opportunity-b');
    expect(auditLog(middle, { ...KURRENTDB, keptHead: kept }).logBreaks).toEqual([
      { reason: 'head-mismatch', position: kept.position, detail: `the log up to position ${kept.position} no longer gives the kept digest: an event up to there was deleted, altered, added or renumbered` },
    ]);
    const upToB = headOf(log.slice(0, 11), KURRENTDB); // ends on b's last event
    expect(auditLog(middle, { ...KURRENTDB, keptHead: upToB }).logBreaks).toEqual([
      { reason: 'head-mismatch', position: upToB.position, detail: `there is no event at the kept head's position ${upToB.position} any more: events up to it were deleted or renumbered` },
    ]);
    const upToC = headOf(log, KURRENTDB);
    expect(auditLog(without(log, (event) => event.stream === 'opportunity-a'), { ...KURRENTDB, keptHead: upToC }).logBreaks).toEqual([expect.objectContaining({ reason: 'head-mismatch', position: upToC.position })]);
  });

  it('finds events cut from the end only against a kept head', () => {
    const log = dense(streams());
    const kept = headOf(log, SQLITE);
    const cut = log.slice(0, 9);
    expect(auditLog(cut, SQLITE).ok).toBe(true);
    expect(auditLog(cut, { ...SQLITE, keptHead: kept })).toMatchObject({
      ok: false,
      logBreaks: [{ reason: 'head-beyond-end', position: 12, detail: "the log ends at position 9, before the kept head's position 12: its last events were cut" }],
    });
  });

  describe("against the store's own counter of positions (SQLite's AUTOINCREMENT, which deleting rows does not lower)", () => {
    const audited = (log: Positioned[], numbered: { before: number; after: number }) => {
      const auditor = new LogAuditor(SQLITE);
      for (const event of log) auditor.add(event);
      auditor.numbered(numbered);
      return auditor.report();
    };

    it('finds events cut from the end of the log without a kept head', () => {
      const cut = dense(streams()).slice(0, 9);
      expect(audited(cut, { before: 12, after: 12 })).toMatchObject({
        ok: false,
        logBreakCount: 1,
        logBreaks: [{ reason: 'position-gap', position: 10, detail: 'positions 10–12 are missing: 3 event(s) cut from the end of the log (the store has numbered events up to 12; the log now ends at 9)' }],
      });
    });

    it('finds an event renumbered past the last position the store gave', () => {
      const log = dense(streams());
      const moved = [...log.slice(0, 11), { ...log[11]!, position: 30 }];
      const audit = audited(moved, { before: 12, after: 12 });
      expect(audit.ok).toBe(false);
      expect(audit.logBreaks).toContainEqual({ reason: 'position-order', position: 30, detail: "the log ends at position 30, past the last position the store has numbered (12): positions, or the store's counter of them, were rewritten outside the service" });
    });

    it('takes events appended while it read for what they are: the counter before the read bounds the cut, the one after it the renumbering', () => {
      const log = dense(streams());
      // Read while a writer appended positions 13 and 14: the read saw 12 of them, the counter then says 14.
      expect(audited(log, { before: 12, after: 14 })).toMatchObject({ ok: true, logBreakCount: 0 });
      // A store that keeps no counter (undefined from the port) is not asked: the check is left out.
      expect(audited(log, { before: 0, after: 0 })).toMatchObject({ ok: true, logBreakCount: 0 });
    });
  });

  it('finds an altered payload whose hashes were all recomputed (chains intact) against a kept head', () => {
    const log = dense(streams());
    const kept = headOf(log, SQLITE);
    const b = log.filter((event) => event.stream === 'opportunity-b');
    const rewritten = chainNewEvents('opportunity-b', 0, GENESIS_HASH, b.map((event, index) => ({ ...event, data: index === 1 ? { ...event.data, step: 99 } : event.data })));
    const forged = log.map((event) => (event.stream === 'opportunity-b' ? { ...event, metadata: rewritten.events[event.revision]!.metadata, data: rewritten.events[event.revision]!.data } : event));
    const audit = auditLog(forged, { ...SQLITE, keptHead: kept });
    expect(audit.broken).toEqual([]);
    expect(audit).toMatchObject({ ok: false, logBreaks: [expect.objectContaining({ reason: 'head-mismatch', position: 12 })] });
    // Without the recomputation, the chain itself says where.
    const edited = clone(log);
    (edited[4]!.data as Record<string, unknown>).step = 99;
    expect(auditLog(edited, SQLITE).broken).toEqual([expect.objectContaining({ stream: 'opportunity-b', revision: 1, reason: 'hash-mismatch' })]);
  });

  it('finds a deletion hidden by renumbering the positions after it against a kept head, and positions out of order always', () => {
    const log = dense(streams());
    const kept = headOf(log.slice(0, 6), SQLITE);
    const renumbered = dense(without(log, (event) => event.stream === 'opportunity-c').map(({ position: _position, ...event }) => event));
    expect(auditLog(renumbered, SQLITE).ok).toBe(true);
    expect(auditLog(renumbered, { ...SQLITE, keptHead: kept }).logBreaks).toEqual([expect.objectContaining({ reason: 'head-mismatch', position: 6 })]);
    // The same events in the same order, one of them renumbered: the head names positions too.
    const kurrent = offsets(streams());
    const shifted = kurrent.map((event, index) => (index === 2 ? { ...event, position: event.position + 1 } : event));
    expect(auditLog(shifted, KURRENTDB).ok).toBe(true);
    expect(auditLog(shifted, { ...KURRENTDB, keptHead: headOf(kurrent, KURRENTDB) }).logBreaks).toEqual([expect.objectContaining({ reason: 'head-mismatch' })]);
    const swapped = [...log];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    expect(auditLog(swapped, KURRENTDB).logBreaks).toEqual([expect.objectContaining({ reason: 'position-order', position: 4 })]);
  });

  it('does not call a log with streams nothing vouches for verified, unless a kept head after them does', () => {
    // The log's first stream's hashes stripped: nothing before it is hashed, so it looks written before tamper evidence.
    const log = dense([...chained('opportunity-first', 3), ...streams()]);
    const kept = headOf(log, SQLITE);
    const first = log.map((event) => (event.stream === 'opportunity-first' ? stripped(event) : event));
    expect(verifyLog(first).ok).toBe(true); // the chains alone call it intact
    expect(auditLog(first, SQLITE)).toMatchObject({ ok: false, broken: [], uncoveredStreams: 1, unchained: 3, uncoveredVouchedByHead: false });
    // Stripping a hash changes no content: the head kept before still vouches for every event.
    expect(auditLog(first, { ...SQLITE, keptHead: kept })).toMatchObject({ ok: true, uncoveredStreams: 1, uncoveredVouchedByHead: true });
    // ... but not for events after it.
    expect(auditLog(first, { ...SQLITE, keptHead: headOf(log.slice(0, 2), SQLITE) })).toMatchObject({ ok: false, uncoveredVouchedByHead: false });
    // Stripped after the log was chained: missing-hash, head or not.
    const later = log.map((event) => (event.stream === 'opportunity-c' ? stripped(event) : event));
    expect(auditLog(later, { ...SQLITE, keptHead: kept }).broken).toEqual([expect.objectContaining({ stream: 'opportunity-c', revision: 0, reason: 'missing-hash' })]);
  });

  it('finds an opportunity on a process version the log does not record before it: the process stream deleted, or rewritten under another version', () => {
    const definition = { id: 'standard', name: 'Standard' } as unknown as ProcessDefinition;
    const version = processVersionOf(definition);
    const process = (recorded: ProcessDefinition) =>
      chainNewEvents('sales-process-standard', 0, GENESIS_HASH, [{ type: 'ProcessVersionRecorded', data: { processId: 'standard', version: processVersionOf(recorded), definition: recorded, source: 'standard.yaml' }, metadata: {} }]).events.map((event) => ({ ...event, stream: 'sales-process-standard', revision: 0 }));
    const deal = chainNewEvents('opportunity-d', 0, GENESIS_HASH, [raw(0, 'OpportunityOpened', { processId: 'standard', processVersion: version })]).events.map((event) => ({ ...event, stream: 'opportunity-d', revision: 0 }));
    for (const [number, options] of [[dense, SQLITE], [offsets, KURRENTDB]] as const) {
      expect(auditLog(number([...process(definition), ...deal, ...streams()]), options).ok).toBe(true);
      // Rewritten with a version that hashes right, its chain recomputed: every chain holds.
      const rewritten = number([...process({ ...definition, name: 'Relaxed' } as ProcessDefinition), ...deal, ...streams()]);
      expect(verifyLog(rewritten).ok).toBe(true);
      expect(auditLog(rewritten, options)).toMatchObject({
        ok: false,
        logBreaks: [{ reason: 'version-missing', position: rewritten[1]!.position, detail: `opportunity-d revision 0 runs on process standard version ${version}, which the log does not record before it: the process stream was deleted, cut or rewritten` }],
      });
    }
    // Deleted: on a store without dense positions, nothing else shows it without a kept head.
    expect(auditLog(offsets([...deal, ...streams()]), KURRENTDB).logBreaks).toEqual([expect.objectContaining({ reason: 'version-missing' })]);
  });

  it('takes an event that cannot be read, in its place, as its stream broken there: not as a deleted event, nor a missing process version', () => {
    const definition = { id: 'standard', name: 'Standard' } as unknown as ProcessDefinition;
    const process = chainNewEvents('sales-process-standard', 0, GENESIS_HASH, [{ type: 'ProcessVersionRecorded', data: { processId: 'standard', version: processVersionOf(definition), definition, source: 'standard.yaml' }, metadata: {} }]).events.map((event) => ({ ...event, stream: 'sales-process-standard', revision: 0 }));
    const deal = chainNewEvents('opportunity-d', 0, GENESIS_HASH, [raw(0, 'OpportunityOpened', { processId: 'standard', processVersion: processVersionOf(definition) })]).events.map((event) => ({ ...event, stream: 'opportunity-d', revision: 0 }));
    const log = dense([...process, ...deal, ...streams()]);
    const kept = headOf(log, SQLITE);
    /** The log as an auditor reads it when the event at `position` cannot be read (its data edited into something that is not JSON). */
    const unreadableAt = (position: number, keptHead?: LogHead) => {
      const auditor = new LogAuditor({ ...SQLITE, keptHead });
      for (const event of log) {
        if (event.position === position) auditor.addUnreadable({ stream: event.stream, revision: event.revision, position, reason: 'its data is not JSON' });
        else auditor.add(event);
      }
      return auditor.report();
    };
    // An opportunity's event in the middle of its stream (opportunity-b revision 1).
    const inStream = log.find((event) => event.stream === 'opportunity-b' && event.revision === 1)!.position;
    expect(unreadableAt(inStream)).toMatchObject({
      ok: false,
      streams: 5,
      eventsRead: log.length,
      logBreaks: [],
      broken: [{ stream: 'opportunity-b', revision: 1, reason: 'unreadable', detail: `the stored event at position ${inStream} cannot be read: its data is not JSON; it was edited outside the service` }],
    });
    // The process version an opportunity runs on: that stream's break, not a deletion nor a missing version.
    expect(unreadableAt(1)).toMatchObject({ ok: false, logBreaks: [], broken: [{ stream: 'sales-process-standard', revision: 0, reason: 'unreadable' }] });
    // Its revision is what cannot be read (SQLite keeps 2.5 in an INTEGER column): broken where it stands, not a revision "NaN".
    const auditor = new LogAuditor(SQLITE);
    for (const event of log) {
      if (event.position === inStream) auditor.addUnreadable({ stream: event.stream, revision: Number.NaN, position: inStream, reason: 'its revision is not a whole number (2.5)' });
      else auditor.add(event);
    }
    expect(auditor.report()).toMatchObject({ logBreaks: [], broken: [{ stream: 'opportunity-b', revision: 1, reason: 'unreadable', detail: `the stored event at position ${inStream} cannot be read: its revision is not a whole number (2.5); it was edited outside the service` }] });
    // A head kept over it is not reproduced: what the event held is unknown.
    expect(unreadableAt(inStream, kept)).toMatchObject({ ok: false, keptHead: { reproduced: false }, logBreaks: [{ reason: 'head-mismatch', position: kept.position }] });
  });

  it('lists at most MAX_LOG_BREAKS breaks and counts them all', () => {
    const log = dense(Array.from({ length: 3 * (MAX_LOG_BREAKS + 5) }, (_, index) => chained(`opportunity-${index}`, 1)[0]!));
    const audit = auditLog(log.filter((_, index) => index % 3 !== 1), SQLITE);
    expect(audit.logBreaks).toHaveLength(MAX_LOG_BREAKS);
    expect(audit.logBreakCount).toBe(MAX_LOG_BREAKS + 5);
  });

  it('names each broken stream by its break read by revision, where the log order met a moved event first', () => {
    // Stream A's revision 1 renumbered 3 in its place in the log, its revision 3 deleted: the log
    // meets "3" where 1 was expected, read by revision the gap is at revision 2.
    const log = dense(streams());
    const [one, three] = [1, 3].map((revision) => log.findIndex((event) => event.stream === 'opportunity-a' && event.revision === revision)) as [number, number];
    log[one] = { ...log[one]!, revision: 3 };
    log.splice(three, 1);
    const audit = auditLog(log, SQLITE);
    expect(audit.broken).toEqual([expect.objectContaining({ stream: 'opportunity-a', revision: 3, reason: 'revision-gap' })]);
    const byRevision = verifyStreamChain(log.filter((event) => event.stream === 'opportunity-a').sort((x, y) => x.revision - y.revision));
    expect(byRevision).toMatchObject({ ok: false, revision: 2, reason: 'revision-gap' });
    const rejudged = withBreaksByRevision(audit, new Map([['opportunity-a', byRevision]]));
    expect(rejudged.broken).toEqual([byRevision]);
    // Everything else the audit found stands: the deleted position, the head, the verdict.
    expect({ ...rejudged, broken: audit.broken }).toEqual(audit);
    // A stream read again intact (a break only the log order shows) keeps the log's finding.
    expect(withBreaksByRevision(audit, new Map([['opportunity-a', verifyStreamChain(chained('opportunity-a', 4))]])).broken).toEqual(audit.broken);
  });

  it('takes back the head it prints, and nothing else', () => {
    const head = headOf(dense(streams()), SQLITE);
    expect(parseLogHead(formatLogHead(head))).toEqual(head);
    expect(parseLogHead(` ${formatLogHead(head)}\n`)).toEqual(head);
    // The whole line verify --all prints and tells to store ("keep: …"), as kept in a file or a ticket.
    expect(parseLogHead(`keep: ${formatLogHead(head)}\n`)).toEqual(head);
    expect(parseLogHead(`keep:${formatLogHead(head)}`)).toEqual(head);
    for (const bad of ['', 'keep:', `keep: keep: ${formatLogHead(head)}`, `kept: ${formatLogHead(head)}`, head.digest, `${head.digest}@`, `${head.digest}@-1`, `${head.digest}@01`, `${head.digest}@1.5`, `${head.digest.slice(1)}@12`, `${head.digest.toUpperCase()}@12`, `${head.digest}@99999999999999999999`]) {
      expect(parseLogHead(bad)).toBeUndefined();
    }
    const auditor = new LogAuditor({ ...SQLITE, keptHead: { digest: 'f'.repeat(64), position: 0 } });
    expect(auditor.report()).toMatchObject({ ok: false, logBreaks: [expect.objectContaining({ reason: 'head-mismatch', position: 0 })] });
  });
});

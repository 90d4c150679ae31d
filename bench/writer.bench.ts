// npm run bench:writer — what the SQLite store's writer thread spends per event, alone: the batch
// committer (sqlite-append.transaction.ts) on its own connection in this thread, no HTTP, no load
// generator, so its CPU time is this process's (user and system apart: the system part is SQLite's
// writes and fsyncs of the WAL and the checkpoints). Batches of BENCH_BATCH (default 10) one-event
// appends with their expected revision, as the API's commands send them, on 2,000 streams, events
// the size of the API's; runs of BENCH_BATCHES batches (default 2,000), BENCH_ROUNDS rounds
// (default 5), medians printed. EVENT_STORE_DURABILITY as the API's (default full: an fsync per
// commit). Besides CPU it prints how long each commit took (p50, p99, the longest).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBatchCommitter } from '../libs/event-store/src/sqlite/sqlite-append.transaction';
import { configureWriterCache, openEventStoreDatabase, type SQLiteDurability } from '../libs/event-store/src/sqlite/sqlite-database';
import { flattenAppends } from '../libs/event-store/src/sqlite/sqlite-writer.protocol';

const STREAMS = 2_000;
const BATCH = Number(process.env.BENCH_BATCH ?? 10);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 2_000);
const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 5));
const DURABILITY = (process.env.EVENT_STORE_DURABILITY ?? 'full') as SQLiteDurability;

// In each round, the same kind of batches with SQLite's checkpoint on commit (every 1,000 pages,
// the writer's setting) and with none in the measured window (what a checkpointer thread of its
// own would take off the writer; each run's WAL is copied after its window), in a rotating order.
const VARIANTS = [
  { label: 'checkpoint on commit, every 1,000 pages', autocheckpoint: 1_000 },
  { label: 'no checkpoint on the commit path', autocheckpoint: 0 },
] as const;

interface Figure {
  /** µs of CPU per event: in all, user and system. */
  readonly cpu: number;
  readonly user: number;
  readonly system: number;
  /** µs of wall time per event. */
  readonly wall: number;
  /** ms per commit. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const line = (f: Figure) =>
  `${f.cpu.toFixed(1).padStart(6)} µs CPU per event (user ${f.user.toFixed(1)}, system ${f.system.toFixed(1)}), ${Math.round(1e6 / f.wall).toLocaleString('en').padStart(6)} events/s, commit p50 ${f.p50.toFixed(2)} / p99 ${f.p99.toFixed(2)} / max ${f.max.toFixed(1)} ms`;

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const hex = (n: number) => randomUUID().replace(/-/g, '').repeat(2).slice(0, n);

/** An event shaped like a criterion toggled through the API: small data, metadata with the chain and the command's envelope. */
function eventFor(stream: string) {
  const data = { opportunityId: stream, criterionId: 'budget-confirmed', met: true, occurredAt: new Date().toISOString() };
  const metadata = {
    commandId: randomUUID(),
    correlationId: randomUUID(),
    actor: 'api-key:bench',
    authenticatedBy: 'api-key',
    recordedAt: new Date().toISOString(),
    processVersions: { standard: 'sha256:' + hex(16) },
    prevHash: hex(64),
    hash: hex(64),
  };
  return { id: randomUUID(), type: 'ExitCriterionMet', data: JSON.stringify(data), metadata: JSON.stringify(metadata) };
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-writer-bench-'));
  try {
    const db = openEventStoreDatabase(join(dir, 'events.db'), DURABILITY);
    // As the writer thread configures its connection (sqlite-writer.worker.ts).
    configureWriterCache(db);
    const commit = createBatchCommitter(db);
    const streams = Array.from({ length: STREAMS }, () => randomUUID());
    const revisions = new Map<string, number>();
    let batchIds = 0;
    /** A batch's request, built outside any measured window; the expected revisions follow the batches before it. */
    const requestFor = (batch: readonly string[], fresh = false) => {
      const appends = batch.map((stream) => {
        const expectedRevision = fresh ? ('no_stream' as const) : revisions.get(stream)!;
        revisions.set(stream, (revisions.get(stream) ?? -1) + 1);
        return { stream, expectedRevision, events: [eventFor(stream)] };
      });
      return { id: ++batchIds, recordedAt: new Date().toISOString(), count: appends.length, appends: flattenAppends(appends) };
    };
    const commitRequest = (request: ReturnType<typeof requestFor>) => {
      const reply = commit(request);
      if (!reply.committed) throw new Error(`batch ${request.id} failed: ${JSON.stringify(reply.error)}`);
      if (reply.errors.length > 0) throw new Error(`batch ${request.id}: ${JSON.stringify(reply.errors[0])}`);
    };
    for (let i = 0; i < STREAMS; i += BATCH) commitRequest(requestFor(streams.slice(i, i + BATCH), true));

    console.log(`SQLite writer bench — durability ${DURABILITY}, batches of ${BATCH} one-event appends on ${STREAMS} streams, ${BATCHES} batches a run, ${ROUNDS} rounds; load ${loadavg().map((v) => v.toFixed(2)).join(' / ')}`);
    let n = 0;
    const figures = VARIANTS.map((): Figure[] => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < VARIANTS.length; k++) {
        const index = (k + round) % VARIANTS.length;
        const variant = VARIANTS[index]!;
        // The batches are built outside the measured window.
        const requests = Array.from({ length: BATCHES }, () => requestFor(Array.from({ length: BATCH }, () => streams[n++ % STREAMS]!)));
        db.pragma(`wal_autocheckpoint = ${variant.autocheckpoint}`);
        const commitMs: number[] = [];
        const cpu = process.cpuUsage();
        const t0 = performance.now();
        for (const request of requests) {
          const started = performance.now();
          commitRequest(request);
          commitMs.push(performance.now() - started);
        }
        const wall = performance.now() - t0;
        const used = process.cpuUsage(cpu);
        // Outside the window: what the run left in the WAL is copied, so every run starts alike.
        db.pragma('wal_checkpoint(TRUNCATE)');
        const events = BATCHES * BATCH;
        commitMs.sort((a, b) => a - b);
        const figure = { cpu: (used.user + used.system) / events, user: used.user / events, system: used.system / events, wall: (wall * 1000) / events, p50: commitMs[Math.floor(commitMs.length * 0.5)]!, p99: commitMs[Math.floor(commitMs.length * 0.99)]!, max: commitMs.at(-1)! };
        figures[index]!.push(figure);
        console.log(`  round ${round + 1}  ${variant.label.padEnd(44)} ${line(figure)}; load ${loadavg()[0]!.toFixed(2)}`);
      }
    }
    console.log(`medians of ${ROUNDS} rounds:`);
    for (const [index, variant] of VARIANTS.entries()) {
      const m = (pick: (f: Figure) => number) => median(figures[index]!.map(pick));
      console.log(`${variant.label.padEnd(44)} ${line({ cpu: m((f) => f.cpu), user: m((f) => f.user), system: m((f) => f.system), wall: m((f) => f.wall), p50: m((f) => f.p50), p99: m((f) => f.p99), max: m((f) => f.max) })}`);
    }
    const ratio = (pick: (f: Figure) => number) => median(figures[1]!.map((f, round) => pick(f) / pick(figures[0]![round]!))).toFixed(2);
    console.log(`${VARIANTS[1]!.label} against ${VARIANTS[0]!.label} (medians of within-round ratios): ${ratio((f) => f.cpu)}× the CPU per event, ${ratio((f) => f.p99)}× the p99 commit time, ${ratio((f) => f.max)}× the longest commit`);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();

// npm run bench:projections — 1,000,000 events (100,000 opportunities, made by the real decider)
// into a SQLite store; then, in the same run, each in a fresh process: the raw rate of reading and
// JSON-parsing them; a rebuild of every read model from position 0 (events/s and peak RSS) and the
// latency of each analytics query at that size.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSQLiteEventStore } from '@stagecraft/event-store';
import { ALL_PROJECTIONS, applyEvent, getSQLiteProjectionSnapshotStore, liveEstimatorOf, ProjectionRunner, winProbabilityProjection, type Projection, type ProjectionSnapshotStore } from '@stagecraft/projections';
import { runAnalyticsQueries } from './support/analytics-queries';
import { besideThis, nodeScript } from './support/bench-paths';
import { writeHistoryStore } from './support/history-store';

const OPPORTUNITIES = Number(process.env.BENCH_OPPORTUNITIES ?? 100_000);
const TARGET_EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
// Stops at whichever comes first; the generator averages about ten events an opportunity.
const PAGE = 5_000;

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const walSize = (db: string) => (existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0);

async function main(): Promise<void> {
  const reading = process.argv.indexOf('--raw');
  if (reading >= 0) return rawRead(process.argv[reading + 1]!);
  const measuring = process.argv.indexOf('--measure');
  if (measuring >= 0) return measure(process.argv[measuring + 1]!);
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-projections-bench-'));
  try {
    // 1. Generate: process versions first, then opportunities, ~10 events each.
    const { events, opportunities, seconds } = await writeHistoryStore(join(dir, 'events.db'), TARGET_EVENTS, { maxOpportunities: OPPORTUNITIES * 2 });
    console.log(`generated ${events.toLocaleString('en')} events for ${opportunities.toLocaleString('en')} opportunities in ${seconds.toFixed(1)} s`);
    // Measure in a fresh process, so its peak RSS is the rebuild's and not the generator's.
    const child = spawnSync(process.execPath, ['--max-old-space-size=2048', ...nodeScript(__filename), '--measure', join(dir, 'events.db'), ...(process.argv.includes('--postgres') ? ['--postgres'] : [])], { stdio: 'inherit' });
    if (child.status !== 0) throw new Error(`measuring failed with exit code ${child.status}`);
  } finally {
    // BENCH_KEEP=1 keeps the store, to measure again with --measure <file> without generating.
    if (process.env.BENCH_KEEP) console.log(`kept ${join(dir, 'events.db')}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads every event in order and JSON-parses it (the store parses data and metadata); prints events/s. */
async function rawRead(path: string): Promise<void> {
  const store = getSQLiteEventStore({ path, durability: 'normal' });
  try {
    const t1 = performance.now();
    let read = 0;
    for (let from = 1; ; ) {
      const page = await store.readAll({ fromPosition: from, maxCount: PAGE });
      if (page.length === 0) break;
      read += page.length;
      from = page[page.length - 1]!.position + 1;
    }
    console.log(read / ((performance.now() - t1) / 1000));
  } finally {
    await store.close();
  }
}

async function measure(path: string): Promise<void> {
  const store = getSQLiteEventStore({ path, durability: 'normal' });
  const started = Date.UTC(2025, 0, 1);
  try {
    const head = await store.headPosition();
    // 2. Raw, in a process of its own so that its garbage does not count in the rebuild's peak RSS.
    const raw = spawnSync(process.execPath, [...nodeScript(__filename), '--raw', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const rawRate = Number(raw.stdout.trim());
    if (raw.status !== 0 || !(rawRate > 0)) throw new Error(`the raw read failed (exit code ${raw.status}): ${raw.stdout}`);

    // 3. Rebuild every read model from 0.
    const rssBefore = process.memoryUsage().rss;
    const t2 = performance.now();
    // The real snapshot store: the rebuild ends by saving every model with its checkpoint, which
    // runs after start() resolves (serialised in slices here, written by the snapshot thread).
    // A kept store measured again (--measure) must not start from the snapshots its last run saved:
    // that would time loading them, not a rebuild.
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}.read-models.db${suffix}`, { force: true });
    const snapshots = getSQLiteProjectionSnapshotStore(`${path}.read-models.db`);
    let firstSave: Promise<[number, number]> | undefined;
    const timedSnapshots: ProjectionSnapshotStore = {
      load: (name) => snapshots.load(name),
      headers: () => snapshots.headers(),
      close: () => snapshots.close(),
      save: (entries) => {
        const started = performance.now();
        const saving = snapshots.save(entries);
        firstSave ??= Promise.all([saving.serialized.then(() => performance.now() - started), saving.written.then(() => performance.now() - started)]);
        return saving;
      },
    };
    const runner = new ProjectionRunner(store, timedSnapshots, ALL_PROJECTIONS as readonly Projection<unknown>[]);
    await runner.start();
    const foldSeconds = (performance.now() - t2) / 1000;
    // The final save begins once start() resolves: the peak so far is the replay's (a save every
    // replaySaveIntervalMs included), the rest is what the final save adds.
    const foldPeakRss = process.resourceUsage().maxRSS * 1024;
    const [serializedMs, writtenMs] = (await firstSave) ?? [0, 0];
    const rebuildSeconds = (performance.now() - t2) / 1000;
    const foldRate = head / foldSeconds;
    const peakRss = process.resourceUsage().maxRSS * 1024;

    console.log(`raw read + JSON.parse       ${Math.round(rawRate).toLocaleString('en').padStart(10)} events/s`);
    console.log(`rebuild all read models     ${Math.round(foldRate).toLocaleString('en').padStart(10)} events/s  (${(foldRate / rawRate).toFixed(2)}× raw, target ≥ 0.6×)`);
    console.log(
      `  then save them            ${(writtenMs / 1000).toFixed(1).padStart(10)} s      (serialised in slices in ${(serializedMs / 1000).toFixed(2)} s and written by the snapshot thread as they went; whole rebuild ${rebuildSeconds.toFixed(1)} s, ${Math.round(head / rebuildSeconds).toLocaleString('en')} events/s)`,
    );
    console.log(`peak RSS                    ${mb(peakRss).padStart(10)}  (before rebuild ${mb(rssBefore)}; at the end of the replay ${mb(foldPeakRss)}, the rest the final save; target ≤ 512 MB)`);

    // 4. Query latency at this size.
    const now = new Date(started + 400 * 86_400_000).toISOString();
    for (const line of runAnalyticsQueries(runner, now)) console.log(line);

    // After the queries: it reads the whole log again, and the garbage of that read, collected
    // during the queries, was timed as theirs (a p99 of 7.7–15 ms for win-loss by month, 1.4–2.1 ms
    // measured alone on the same models).
    // The learned win probability's own share: its model folded alone (reading not counted), and
    // the first live estimate, which learns every labelled visit once (later ones only the new).
    {
      let model = winProbabilityProjection.initial();
      let folding = 0;
      for (let from = 1; ; ) {
        const page = await store.readAll({ fromPosition: from, maxCount: PAGE });
        if (page.length === 0) break;
        const t = performance.now();
        for (const event of page) model = applyEvent(winProbabilityProjection, model, event);
        folding += performance.now() - t;
        from = page[page.length - 1]!.position + 1;
      }
      const t = performance.now();
      liveEstimatorOf(model);
      console.log(`win-probability model update ${((folding * 1000) / head).toFixed(3).padStart(9)} µs/event (alone, of ${head.toLocaleString('en')} events; first live estimator ${(performance.now() - t).toFixed(0)} ms for ${model.labelled.length.toLocaleString('en')} labelled visits)`);
    }

    await runner.stop();
    await snapshots.close();
    // --postgres: the same log into PostgreSQL, in a process of its own (its RSS is its own).
    if (process.argv.includes('--postgres') || process.env.BENCH_POSTGRES) {
      console.log(`load average before the PostgreSQL run: ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}; in-memory rebuild ${Math.round(head / rebuildSeconds).toLocaleString('en')} events/s (whole, save included)`);
      // Under the heap limit README advises for a projector into PostgreSQL: its live heap levels off
      // (the record cache is capped), but under a 2 GB limit V8 lets garbage pile up to ~0.8 GB of
      // RSS before it collects, which says nothing about what the projector needs.
      const heapMb = process.env.BENCH_PG_HEAP_MB ?? '384';
      console.log(`PostgreSQL run with --max-old-space-size=${heapMb} (BENCH_PG_HEAP_MB)`);
      const child = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, ...nodeScript(besideThis(join(__dirname, 'support'), 'postgres-read-side.bench')), path], { stdio: 'inherit' });
      if (child.status !== 0) throw new Error(`the PostgreSQL run failed with exit code ${child.status}`);
    }
    console.log(`saved read models            ${mb(statSync(`${path}.read-models.db`).size + walSize(`${path}.read-models.db`)).padStart(10)}  (SQLite file of the snapshots)`);
  } finally {
    await store.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

// Child of `npm run bench:projections -- --postgres`: projects the store at argv[2] into fresh
// PostgreSQL schemas (READ_MODELS_BENCH_URL, default the local server) — first the log's first
// tenth, where an API instance (apps/api) serves the analytics over HTTP in a loop while its RSS is
// sampled, then the whole log from position 0, timed, where the API serves again — and prints
// events/s, the projector's peak RSS, the API's RSS at both sizes, then the latency of each
// analytics query answered from SQL, and drops the schemas.
// BENCH_PG_SCHEMA=<schema>: only the query latencies, on that schema as it stands (projected before
// from the same store, by this build or another; it is not dropped), to compare builds paired on
// the same rows without folding the log again. BENCH_PG_QUERIES=<text>: only the queries whose
// label starts with it (several: separated by |).
import { getSQLiteEventStore, type EventStore } from '@stagecraft/event-store';
import { createReadSidePool, PostgresAnalyticsQueries, PostgresProjector, type AnalyticsFilter } from '@stagecraft/projections';
import { loadavg } from 'node:os';
import { serveFromPostgres, type ServingFigures } from './api-serving';
import { cappedEventStore } from './capped-event-store';
import { seededRandom } from './history.generator';

const mb = (bytes: number) => `${Math.round(bytes / 1048576)} MB`;
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const SERVE_SECONDS = Number(process.env.BENCH_SERVE_SECONDS ?? 15);

async function main(): Promise<void> {
  const path = process.argv[2]!;
  const existing = process.env.BENCH_PG_SCHEMA;
  const settings = { url: process.env.READ_MODELS_BENCH_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', schema: existing ?? `bench_${process.pid}` };
  const store = getSQLiteEventStore({ path, durability: 'normal' });
  const pool = createReadSidePool(settings, 2);
  try {
    const head = await store.headPosition();
    const first = Math.round(head / 10);
    const batchSize = process.env.BENCH_PG_BATCH === undefined ? undefined : Number(process.env.BENCH_PG_BATCH);
    /** Projects `from` into `schema`; the RSS of this process as the checkpoint passes each quarter of the log (not collected first: what the system sees). */
    const project = async (from: EventStore, schema: string, upTo: number) => {
      const quarters: string[] = [];
      const onProgress = ({ position }: { position: number }) => {
        while (quarters.length < 4 && position >= ((quarters.length + 1) / 4) * upTo) quarters.push(`${(quarters.length + 1) * 25} % ${mb(process.memoryUsage().rss)}`);
      };
      const started = performance.now();
      const projector = new PostgresProjector(from, { ...settings, schema }, { ...(batchSize === undefined ? {} : { batchSize }), onProgress });
      await projector.start();
      const seconds = (performance.now() - started) / 1000;
      const after = mb(process.memoryUsage().rss);
      await projector.stop();
      return { seconds, rss: `${quarters.join(', ')}; ${after} once caught up (indexes made)` };
    };
    const serve = async (label: string, schema: string): Promise<ServingFigures> => {
      const figures = await serveFromPostgres({ eventStorePath: path, url: settings.url, schema, port: Number(process.env.BENCH_PORT_BASE ?? 39_000) + (process.pid % 1_000), seconds: SERVE_SECONDS });
      console.log(
        `  API serving from PostgreSQL at ${label.padEnd(16)} RSS idle ${mb(figures.idleRss).padStart(7)}, while serving median ${mb(figures.medianRss).padStart(7)} peak ${mb(figures.peakRss).padStart(7)}` +
          `  (${figures.requests.toLocaleString('en')} requests in ${figures.seconds.toFixed(0)} s, ${figures.failures} failed; load ${load()})`,
      );
      return figures;
    };
    /** The log projected twice (a tenth, then all of it from 0), each served by an API instance: skipped with BENCH_PG_SCHEMA. */
    const projectAndServe = async (): Promise<void> => {
      // 1. The log as it stood at a tenth of its length, in a schema of its own; the API serves it.
      const tenth = `${settings.schema}_tenth`;
      let small: ServingFigures;
      try {
        const { rss } = await project(cappedEventStore(store, first), tenth, first);
        console.log(`  projector peak RSS at ${first.toLocaleString('en')} events ${mb(process.resourceUsage().maxRSS * 1024)}; RSS at ${rss}`);
        small = await serve(`${first.toLocaleString('en')} events`, tenth);
      } finally {
        await pool.query(`DROP SCHEMA IF EXISTS ${tenth} CASCADE`);
      }
      // 2. The whole log from position 0, as a first start or a rebuild does; the API serves it.
      const rssBefore = process.memoryUsage().rss;
      const { seconds, rss } = await project(store, settings.schema, head);
      console.log(`PostgreSQL projector          ${Math.round(head / seconds).toLocaleString('en').padStart(10)} events/s  (${seconds.toFixed(1)} s for ${head.toLocaleString('en')} positions from 0, query indexes made at the end included; load ${load()})`);
      console.log(`  its peak RSS                ${mb(process.resourceUsage().maxRSS * 1024).padStart(10)}  (${mb(rssBefore)} before it started); RSS at ${rss}`);
      const large = await serve(`${head.toLocaleString('en')} events`, settings.schema);
      console.log(`  API RSS while serving: peak ${mb(small.peakRss)} at ${first.toLocaleString('en')} events, ${mb(large.peakRss)} at ${head.toLocaleString('en')} (${(large.peakRss / small.peakRss).toFixed(2)}×; flat means ≈ 1×)`);
    };
    if (existing === undefined) await projectAndServe();
    const queries = new PostgresAnalyticsQueries(pool, settings.schema, { position: () => head, waitFor: async () => true, status: () => [] });
    const random = seededRandom(7);
    const filters: AnalyticsFilter[] = [{}, { processId: 'standard' }, { teamId: 'direct' }, { ownerId: 'owner-3' }, { processId: 'standard', teamId: 'partners', from: '2025-03-01T00:00:00Z', to: '2025-09-30T23:59:59Z' }];
    const pick = () => filters[Math.floor(random() * filters.length)]!;
    const closedIn2025 = () => {
      const toMs = Date.UTC(2025, 0, 31) + Math.floor(random() * 330) * 86_400_000;
      return { outcomes: ['won', 'lost'] as const, from: new Date(toMs - 30 * 86_400_000).toISOString(), to: new Date(toMs).toISOString(), limit: 50 };
    };
    const now = new Date(Date.UTC(2025, 0, 1) + 400 * 86_400_000).toISOString();
    const runs: [string, () => Promise<unknown>][] = [
      ['GET /pipeline', () => queries.pipeline(pick())],
      ['GET /pipeline?closed=won,lost', () => queries.pipeline(pick(), { closed: { ...closedIn2025(), outcomes: ['won', 'lost'] } })],
      ['GET /pipeline?include=opportunities&closed=won,lost&cardsPerColumn=100', () => queries.pipeline(pick(), { includeOpportunities: true, cardsPerColumn: 100, closed: { ...closedIn2025(), outcomes: ['won', 'lost'] } })],
      ['GET /analytics/win-loss?groupBy=month', () => queries.winLoss(pick(), 'month')],
      ['GET /analytics/stage-durations', () => queries.stageDurations(pick(), now)],
      ['GET /analytics/funnel', () => queries.funnel(pick())],
      ['GET /analytics/transitions', () => queries.transitions(pick())],
      ['GET /pipeline?asOf=', () => { const { processId, teamId, ownerId } = pick(); return queries.pipelineAsOf(Date.UTC(2025, 0, 1) + Math.floor(random() * 365) * 86_400_000, { processId, teamId, ownerId }); }],
      // The learned win probability beside the board (/pipeline, ?asOf= at any millisecond), the forecast's, and its calibration.
      ['learned win probability of GET /pipeline', () => { const { processId, teamId, ownerId } = pick(); return queries.learnedPipeline({ atMs: Date.parse(now), asOf: false, filter: { processId, teamId, ownerId }, cardIds: [] }); }],
      ['learned win probability of GET /pipeline?asOf=', () => { const { processId, teamId, ownerId } = pick(); return queries.learnedPipeline({ atMs: Date.UTC(2025, 0, 1) + Math.floor(random() * 365 * 86_400_000), asOf: true, filter: { processId, teamId, ownerId }, cardIds: [] }); }],
      ['learned weighted amounts of GET /analytics/forecast?include=learned', () => queries.learnedForecast({ atMs: Date.parse(now), asOf: false, forecast: { ...pick(), period: 'month' } })],
      ['GET /analytics/win-probability/calibration', () => queries.winProbabilityCalibration(pick())],
      // The search of every deal: words most titles hold (the first rows), and words none holds (every deal read): no target.
      ['GET /opportunities?q= (words most titles hold)', () => { const { processId, teamId, ownerId } = pick(); return queries.searchOpportunities({ processId, teamId, ownerId, q: 'deal', limit: 20 }); }],
      ['GET /opportunities?q= (words no deal holds: every one read)', () => { const { processId, teamId, ownerId } = pick(); return queries.searchOpportunities({ processId, teamId, ownerId, q: 'no such deal', limit: 20 }); }],
    ];
    const iterations = Number(process.env.BENCH_QUERY_RUNS ?? 100);
    const only = process.env.BENCH_PG_QUERIES?.split('|');
    if (existing !== undefined) console.log(`queries on the existing schema ${existing} (load ${load()})`);
    for (const [label, run] of runs) {
      if (only && !only.some((part) => label.includes(part))) continue;
      // The first answer may fill what is kept per checkpoint position (the learned probability's counts, calibrations).
      const first = performance.now();
      await run();
      const firstMs = performance.now() - first;
      for (let i = 0; i < 9; i++) await run();
      const times: number[] = [];
      for (let i = 0; i < iterations; i++) {
        const t = performance.now();
        await run();
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]!;
      const target = label.startsWith('GET /opportunities?q=') ? 'no target' : 'target p99 ≤ 20 ms';
      console.log(`${label.padEnd(70)} p50 ${at(0.5).toFixed(2).padStart(7)} ms   p99 ${at(0.99).toFixed(2).padStart(7)} ms   (PostgreSQL; ${target}; first ${firstMs.toFixed(0)} ms)`);
    }
    console.log(`  bench process RSS after the queries ${mb(process.memoryUsage().rss)}; load average ${load()}`);
  } finally {
    if (existing === undefined) await pool.query(`DROP SCHEMA IF EXISTS ${settings.schema} CASCADE`).catch(() => undefined);
    await pool.end();
    await store.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

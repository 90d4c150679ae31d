// Child of `npm run bench:projections -- --postgres`: projects the store at argv[2] into a fresh
// PostgreSQL schema (READ_MODELS_BENCH_URL, default the local server), prints events/s and the peak
// RSS of this process, then the latency of each analytics query answered from SQL, and drops the schema.
import { getSQLiteEventStore } from '@stagecraft/event-store';
import { createReadSidePool, PostgresAnalyticsQueries, PostgresProjector, type AnalyticsFilter } from '@stagecraft/projections';
import { loadavg } from 'node:os';
import { seededRandom } from './history.generator';

async function main(): Promise<void> {
  const path = process.argv[2]!;
  const settings = { url: process.env.READ_MODELS_BENCH_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', schema: `bench_${process.pid}` };
  const store = getSQLiteEventStore({ path, durability: 'normal' });
  const pool = createReadSidePool(settings, 2);
  try {
    const head = await store.headPosition();
    const started = performance.now();
    const projector = new PostgresProjector(store, settings, { batchSize: 5_000 });
    await projector.start();
    const seconds = (performance.now() - started) / 1000;
    await projector.stop();
    console.log(`PostgreSQL projector          ${Math.round(head / seconds).toLocaleString('en').padStart(10)} events/s  (${seconds.toFixed(1)} s for ${head.toLocaleString('en')} positions)`);
    console.log(`  its peak RSS                ${Math.round((process.resourceUsage().maxRSS * 1024) / 1048576).toString().padStart(10)} MB`);
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
    ];
    const iterations = Number(process.env.BENCH_QUERY_RUNS ?? 100);
    for (const [label, run] of runs) {
      for (let i = 0; i < 10; i++) await run();
      const times: number[] = [];
      for (let i = 0; i < iterations; i++) {
        const t = performance.now();
        await run();
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]!;
      console.log(`${label.padEnd(70)} p50 ${at(0.5).toFixed(2).padStart(7)} ms   p99 ${at(0.99).toFixed(2).padStart(7)} ms   (PostgreSQL; target p99 ≤ 20 ms)`);
    }
    console.log(`  serving process RSS after the queries ${Math.round(process.memoryUsage().rss / 1048576)} MB; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${settings.schema} CASCADE`).catch(() => undefined);
    await pool.end();
    await store.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

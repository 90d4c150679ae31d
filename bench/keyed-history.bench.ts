// Cost flat in history for client-keyed commands (issue 19, item 3). Every command sent with an
// Idempotency-Key (or a body commandId) is recorded so its retry answers the first response; a
// keyed command reloads its stream after its append, from the stream's snapshot. This sends
// 5,000 keyed commands to one opportunity through the real command side (SQLite store, stream
// snapshots on, durability normal: the fsync is not what is measured) and prints the median time
// of the last 50 commands at several lengths of the stream, and the ratio of the longest to the
// shortest. Run: npm run bench:keyed-history
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCommandSide, type CommandEnvelope } from '@stagecraft/commands';
import { getSQLiteEventStore } from '@stagecraft/event-store';

const LENGTHS = [100, 1_000, 3_000, 5_000];
const WINDOW = 50;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'keyed-history-'));
  const store = getSQLiteEventStore({ path: join(dir, 'events.db'), durability: 'normal' });
  const side = await createCommandSide(store, {
    processesDir: join(__dirname, '..', 'config', 'processes'),
    conflictRetries: 5,
    streamCacheSize: 1_000,
    streamSnapshotsPath: join(dir, 'stream-snapshots.db'),
  });
  const opportunityId = '2d7b1c8e-5a41-4f0e-9d6a-0b8c7e6f5a41';
  let sent = 0;
  const keyed = (): CommandEnvelope => {
    sent += 1;
    return { commandId: `key-${sent}`, clientSuppliedId: true, correlationId: `request-${sent}`, actor: 'bench', authenticatedBy: 'bench', now: new Date(Date.UTC(2026, 0, 1) + sent * 1_000).toISOString() };
  };
  try {
    await side.executor.execute({ type: 'OpenOpportunity', opportunityId, title: 'Long keyed deal', processId: 'standard' }, keyed());
    await side.executor.execute({ type: 'MoveOpportunityToStage', opportunityId, stage: 'qualification' }, keyed());
    const medians: number[] = [];
    for (const length of LENGTHS) {
      const times: number[] = [];
      while (sent < length) {
        const type = sent % 2 === 0 ? 'MeetExitCriterion' : 'RevokeExitCriterion';
        const started = performance.now();
        await side.executor.execute({ type, opportunityId, criterionId: 'need-confirmed' }, keyed());
        times.push(performance.now() - started);
      }
      const last = times.slice(-WINDOW).sort((a, b) => a - b);
      const median = last[Math.floor(last.length / 2)]!;
      medians.push(median);
      console.log(`keyed command on a ${length.toLocaleString('en')}-event stream: median of the last ${WINDOW} ${median.toFixed(2)} ms (load ${loadavg()[0]!.toFixed(2)})`);
    }
    const ratio = medians[medians.length - 1]! / medians[0]!;
    console.log(`${LENGTHS[LENGTHS.length - 1]!.toLocaleString('en')} vs ${LENGTHS[0]} events: ${ratio.toFixed(2)}× (target ≤ 2×: ${ratio <= 2 ? 'met' : 'NOT met'})`);
  } finally {
    side.snapshots.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

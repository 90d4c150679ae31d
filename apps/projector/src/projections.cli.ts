// npm run projections -- status
// npm run projections -- rebuild [name ...]   (all when none is named)
// Works on the store files directly; rebuild while neither the API (in-process projections) nor
// the projector runs, or use POST /admin/projections/:name/rebuild on a running API.
import { ProjectionRunner, type ProjectionSnapshotStore } from '@stagecraft/projections';
import { openProjectorStores } from './projector.runtime';

function bar(position: number, head: number): string {
  const share = head === 0 ? 1 : Math.min(1, position / head);
  const filled = Math.round(share * 30);
  return `[${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ${position.toLocaleString('en')} / ${head.toLocaleString('en')}`;
}

async function main(args: string[]): Promise<number> {
  const { store, snapshots, projections } = openProjectorStores();
  try {
    const [command, ...names] = args;
    if (command === 'status') {
      const head = await store.headPosition();
      const saved = new Map(snapshots.headers().map((header) => [header.name, header]));
      for (const { name } of projections) {
        const header = saved.get(name);
        console.log(`${name.padEnd(18)} ${header ? `checkpoint ${header.position} (lag ${head - header.position})` : 'never saved'}${header?.failed ? `  FAILED: ${header.failed}` : ''}`);
      }
      return 0;
    }
    if (command !== 'rebuild') {
      console.error('usage: npm run projections -- status | rebuild [name ...]');
      return 2;
    }
    const unknown = names.filter((name) => !projections.some((projection) => projection.name === name));
    if (unknown.length > 0) {
      console.error(`unknown projection(s) ${unknown.join(', ')}; there are ${projections.map((p) => p.name).join(', ')}`);
      return 2;
    }
    const chosen = names.length === 0 ? projections : projections.filter((projection) => names.includes(projection.name));
    // Start the chosen projections from nothing; their new snapshots replace the old at the end.
    const fromScratch: ProjectionSnapshotStore = { ...snapshots, load: () => undefined, headers: () => [], save: (s) => snapshots.save(s), close: () => undefined };
    const head = await store.headPosition();
    const runner = new ProjectionRunner(store, fromScratch, chosen, {
      snapshotEveryEvents: Number.MAX_SAFE_INTEGER,
      onReplayProgress: ({ position }) => process.stderr.write(`\r${bar(position, head)}`),
    });
    await runner.start();
    await runner.stop();
    process.stderr.write(`\r${bar(head, head)}\n`);
    console.log(`Rebuilt ${chosen.map((p) => p.name).join(', ')} up to position ${runner.position()}.`);
    return 0;
  } finally {
    snapshots.close();
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

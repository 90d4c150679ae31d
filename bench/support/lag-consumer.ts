// The consumer side of bench:relay's lag figure, in a process of its own so that the load
// generator's work (thousands of requests in flight) does not delay the moment an event is seen.
// Prints "ready" once subscribed, then one line per event: "<opportunity id> <epoch ms>", where
// epoch ms is performance.timeOrigin + performance.now() — the same clock the load generator reads.
import { performance } from 'node:perf_hooks';
import { connect } from 'nats';

async function main(): Promise<void> {
  const [server, subject] = process.argv.slice(2);
  const nc = await connect({ servers: server! });
  const subscription = nc.subscribe(`${subject}.>`);
  await nc.flush();
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void nc.close().then(() => process.exit(0)));
  let lines: string[] = [];
  const flush = () => {
    if (lines.length > 0) process.stdout.write(lines.join(''));
    lines = [];
  };
  setInterval(flush, 50).unref();
  for await (const message of subscription) {
    const at = performance.timeOrigin + performance.now();
    const event = JSON.parse(Buffer.from(message.data).toString('utf8')) as { subject: string };
    lines.push(`${event.subject} ${at.toFixed(3)}\n`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

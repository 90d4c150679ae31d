// npm run bench:relay — the public-event relay through NATS JetStream (127.0.0.1:4222), two figures:
//  1. throughput: 100k stored events relayed from position 0 (read, map to CloudEvents, publish,
//     acknowledged, checkpointed) against a bare JetStream publish loop of the same messages
//     (the same bytes, subjects and Nats-Msg-Id, the same window), in the same run, alternating;
//  2. lag: the API in its own process at 1,000 commands/s (open loop), from each command's answer
//     to the consumer's receipt of its event (the consumer in a process of its own), p50/p99,
//     after a warm-up at the same rate. BENCH_ONLY=lag|throughput runs one of the two.
// Streams are created for the run and deleted after it. Not a test: it prints figures.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect, headers, nanos, StorageType } from 'nats';
import { createCommandSide } from '@stagecraft/commands';
import { getSQLiteEventStore, readAllPages, type EventStore } from '@stagecraft/event-store';
import { toOpportunityStreamId } from '@stagecraft/opportunity';
import { publicEventName } from '@stagecraft/public-events';
import { getNatsSink, getSQLiteRelayStateStore, parseSinkUrl, PublicEventFeed, Relay, type NatsSinkConfig, type OutgoingEvent } from '@stagecraft/relay';
import { generateHistory, PROCESS_DIR, seededRandom, shippedProcesses } from './support/history.generator';

const ROOT = join(__dirname, '..');
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const RATE = Number(process.env.BENCH_RATE ?? 1_000);
const LAG_SECONDS = Number(process.env.BENCH_LAG_SECONDS ?? 10);
const WARM_UP_SECONDS = Number(process.env.BENCH_WARM_UP_SECONDS ?? 3);
const WINDOW = 512;
const NATS = '127.0.0.1:4222';
const tag = randomUUID().slice(0, 8);
const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');

async function seed(store: EventStore): Promise<number> {
  await createCommandSide(store, { processesDir: PROCESS_DIR, conflictRetries: 0, streamCacheSize: 0 }); // records the process versions
  const processes = shippedProcesses();
  const random = seededRandom(22);
  let written = 0;
  for (let index = 0; written < EVENTS; index += 1) {
    const id = randomUUID();
    const events = generateHistory(id, processes[index % processes.length]!, random, Date.UTC(2025, 0, 1));
    const batch = events.slice(0, EVENTS - written).map((event) => ({ id: randomUUID(), type: event.type, data: { ...event.data }, metadata: { actor: 'bench', correlationId: `bench-${index}` } }));
    await store.appendToStream(toOpportunityStreamId(id), batch, { expectedRevision: 'no_stream' });
    written += batch.length;
  }
  return written;
}

async function withStream<T>(name: string, subject: string, use: () => Promise<T>): Promise<T> {
  const nc = await connect({ servers: NATS });
  const manager = await nc.jetstreamManager();
  await manager.streams.add({ name, subjects: [`${subject}.>`], storage: StorageType.File, duplicate_window: nanos(120_000) });
  try {
    return await use();
  } finally {
    await manager.streams.delete(name).catch(() => undefined);
    await nc.close();
  }
}

async function bareLoop(messages: readonly OutgoingEvent[], round: number): Promise<number> {
  const name = `BENCH_BARE_${tag}_${round}`;
  const subject = `bench${tag}bare${round}.stagecraft.opportunity`;
  return withStream(name, subject, async () => {
    const nc = await connect({ servers: NATS });
    const js = nc.jetstream();
    const started = performance.now();
    for (let from = 0; from < messages.length; from += WINDOW) {
      await Promise.all(
        messages.slice(from, from + WINDOW).map((message) => {
          const h = headers();
          h.set('Nats-Msg-Id', message.event.id);
          h.set('Content-Type', 'application/cloudevents+json; charset=utf-8');
          return js.publish(`${subject}.${publicEventName(message.event.type)}`, message.body, { msgID: message.event.id, headers: h });
        }),
      );
    }
    const seconds = (performance.now() - started) / 1000;
    await nc.close();
    return messages.length / seconds;
  });
}

async function relayRun(store: EventStore, dir: string, expected: number, round: number): Promise<number> {
  const name = `BENCH_RELAY_${tag}_${round}`;
  const subject = `bench${tag}relay${round}.stagecraft.opportunity`;
  return withStream(name, subject, async () => {
    const config = parseSinkUrl(`nats://${NATS}?stream=${name}&subject=${subject}`) as NatsSinkConfig;
    const relay = new Relay(store, getSQLiteRelayStateStore(join(dir, `relay-${round}.db`)), [getNatsSink(config)], {
      newSinkFrom: 'beginning',
      retryBaseMs: 100,
      retryMaxMs: 1000,
      readAhead: 4_096,
      replayCheckMs: 1_000,
      maxBatch: WINDOW,
      log: (level, message) => level !== 'info' && console.error(message),
    });
    const head = await store.headPosition();
    const started = performance.now();
    relay.start();
    for (;;) {
      const [status] = await relay.status(head);
      if (status!.checkpoint >= head) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const seconds = (performance.now() - started) / 1000;
    const [status] = await relay.status(head);
    await relay.stop();
    if (status!.published !== expected) throw new Error(`the relay published ${status!.published} events, expected ${expected}`);
    return expected / seconds;
  });
}

async function throughput(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-bench-relay-'));
  const store = getSQLiteEventStore({ path: join(dir, 'events.db'), durability: 'normal' });
  try {
    const events = await seed(store);
    // The bare loop sends exactly what the relay sends: the same bodies, subjects and ids.
    const feed = new PublicEventFeed(store);
    const messages: OutgoingEvent[] = [];
    for await (const page of readAllPages(store, { pageSize: 5_000 })) {
      for (const stored of page) {
        const outgoing = await feed.toOutgoing(stored);
        if (outgoing) messages.push(outgoing);
      }
    }
    console.log(`\n1. Throughput: ${events.toLocaleString('en')} events (${(messages.reduce((sum, m) => sum + m.body.length, 0) / messages.length).toFixed(0)} bytes each on average), NATS JetStream file storage, window ${WINDOW}`);
    console.log('   round   bare JetStream loop   relay (read+map+publish+checkpoint)   ratio');
    const ratios: number[] = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      const bare = await bareLoop(messages, round);
      const relayed = await relayRun(store, dir, messages.length, round);
      ratios.push(relayed / bare);
      console.log(`   ${String(round).padEnd(7)} ${`${Math.round(bare).toLocaleString('en')} events/s`.padEnd(21)} ${`${Math.round(relayed).toLocaleString('en')} events/s`.padEnd(37)} ${(relayed / bare).toFixed(2)}×   (load ${load()})`);
    }
    ratios.sort((a, b) => a - b);
    const middle = ratios.length / 2;
    const median = ratios.length % 2 === 1 ? ratios[Math.floor(middle)]! : (ratios[middle - 1]! + ratios[middle]!) / 2;
    console.log(`   median ratio ${median.toFixed(2)}× (target ≥ 0.5×)`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function lag(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-bench-lag-'));
  const name = `BENCH_LAG_${tag}`;
  const subject = `bench${tag}lag.stagecraft.opportunity`;
  const port = 3900 + Math.floor(Math.random() * 90);
  const api = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'apps', 'api', 'src', 'main.ts')], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), AUTH: 'off', RATE_LIMIT_PER_MINUTE: '0', EVENT_STORE_PATH: join(dir, 'events.db'), RELAY_SINKS: `nats://${NATS}?stream=${name}&subject=${subject}` },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // The consumer runs in a process of its own (bench/support/lag-consumer.ts): in this one, the
  // thousands of requests in flight would delay the moment an event is seen. Both read the same
  // clock (performance.timeOrigin + performance.now(), epoch milliseconds).
  const consumer = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'support', 'lag-consumer.ts'), NATS, subject], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const received = new Map<string, number>();
  let consumerReady!: () => void;
  const ready = new Promise<void>((resolve) => (consumerReady = resolve));
  let pending = '';
  consumer.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (line === 'ready') consumerReady();
      else if (line !== '') {
        const [id, at] = line.split(' ');
        received.set(id!, Number(at));
      }
    }
  });
  const nc = await connect({ servers: NATS });
  const now = () => performance.timeOrigin + performance.now();
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let attempt = 0; !(await fetch(`${base}/health`).then((r) => r.ok, () => false)); attempt += 1) {
      if (attempt > 300 || api.exitCode !== null) throw new Error('the API did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await ready;

    const send = async (index: number, answered: Map<string, number>, refused: { count: number }) => {
      // A connection the API resets (its keep-alive ending as a request goes out) loses that one
      // command's answer: counted with the refused ones, never retried (it would skew the schedule).
      const response = await fetch(`${base}/opportunities`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: `Lag ${index}`, processId: 'standard' }) }).catch(() => undefined);
      const at = now();
      if (response === undefined) {
        refused.count += 1;
        return;
      }
      if (response.status !== 201) {
        refused.count += 1;
        return;
      }
      answered.set(((await response.json()) as { id: string }).id, at);
    };
    // Open loop: commands go out on schedule whatever the answers do, 1 ms apart on average.
    const run = async (seconds: number) => {
      const answered = new Map<string, number>();
      const refused = { count: 0 };
      const total = RATE * seconds;
      const started = performance.now();
      const inFlight: Promise<void>[] = [];
      for (let index = 0; index < total; index += 1) {
        const due = started + (index * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
        inFlight.push(send(index, answered, refused));
      }
      await Promise.all(inFlight);
      const sendSeconds = (performance.now() - started) / 1000;
      const deadline = performance.now() + 10_000;
      while ([...answered.keys()].some((id) => !received.has(id)) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      return { answered, refused: refused.count, sendSeconds };
    };
    // A warm-up at the same rate first (the API's first seconds compile code and start its threads):
    // printed, but not in the figures.
    const warm = await run(WARM_UP_SECONDS);
    const { answered, refused, sendSeconds } = await run(LAG_SECONDS);
    const lags = [...answered].map(([id, at]) => (received.has(id) ? received.get(id)! - at : Number.POSITIVE_INFINITY)).sort((a, b) => a - b);
    const pick = (q: number) => lags[Math.min(lags.length - 1, Math.ceil(q * lags.length) - 1)]!;
    const before = lags.filter((value) => value < 0).length;
    console.log(`\n2. Lag: after a ${WARM_UP_SECONDS} s warm-up (${warm.answered.size.toLocaleString('en')} commands in ${warm.sendSeconds.toFixed(1)} s), ${answered.size.toLocaleString('en')} commands answered in ${sendSeconds.toFixed(1)} s (${Math.round(answered.size / sendSeconds)} commands/s, offered ${RATE}/s, ${refused} refused or reset); API with the in-process relay in its own process, durability ${process.env.EVENT_STORE_DURABILITY ?? 'full'}; consumer in its own process`);
    console.log(`   command answer → consumer receipt: p50 ${pick(0.5).toFixed(1)} ms, p90 ${pick(0.9).toFixed(1)} ms, p99 ${pick(0.99).toFixed(1)} ms, max ${lags[lags.length - 1]!.toFixed(1)} ms (target p99 ≤ 100 ms)`);
    console.log(`   ${before} of them reached the consumer before their HTTP answer reached the client (negative lag); ${lags.filter((value) => value === Number.POSITIVE_INFINITY).length} never arrived`);
    if (answered.size / sendSeconds < RATE * 0.95) console.log(`   the API did not keep up with the offered rate: the figure above includes the queue of requests waiting for it, not the relay's lag alone`);
    console.log(`   load average ${load()}`);
  } finally {
    api.kill('SIGTERM');
    consumer.kill('SIGTERM');
    await Promise.all([new Promise((resolve) => api.once('exit', resolve)), new Promise((resolve) => consumer.once('exit', resolve))]);
    const manager = await nc.jetstreamManager();
    await manager.streams.delete(name).catch(() => undefined);
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`bench:relay on ${process.version}, load average ${load()} (1, 5, 15 min; 2 cores shared)`);
  if (process.env.BENCH_ONLY !== 'lag') await throughput();
  if (process.env.BENCH_ONLY === 'throughput') return;
  await lag();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

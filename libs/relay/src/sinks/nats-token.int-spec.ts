import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectNats } from 'nats';
import type { PublicEvent } from '@stagecraft/public-events';
import type { OutgoingEvent } from '../outgoing-event';
import { parseSinkUrl, type NatsSinkConfig } from '../relay-sink-url';
import { getNatsSink } from './nats.sink';

// A NATS URL with a user and no password carries a token (nats://<token>@host), as the NATS tools
// and clients read it. The sink sent it as a user name with an empty password: a server that
// authenticates by token refused every connection, and the sink retried for ever.
// Against a nats-server of its own (token auth), started when the binary is installed.

const NATS_SERVER = spawnSync('nats-server', ['--version']).status === 0;
const outgoing = (): OutgoingEvent => {
  const event = { id: randomUUID(), type: 'stagecraft.opportunity.opened.v1', subject: randomUUID(), time: '2026-11-30T12:00:00.000Z' } as PublicEvent;
  return { position: 1, event, body: Buffer.from(JSON.stringify(event)) };
};

(NATS_SERVER ? describe : describe.skip)('a NATS sink on a server that authenticates by token', () => {
  const token = 's3cr3t-token';
  const storeDir = mkdtempSync(join(tmpdir(), 'nats-token-'));
  let server: ChildProcess;
  let address = '';
  beforeAll(async () => {
    server = spawn('nats-server', ['-a', '127.0.0.1', '-p', '-1', '-js', '-sd', storeDir, '--auth', token], { stdio: ['ignore', 'ignore', 'pipe'] });
    address = await new Promise<string>((resolve, reject) => {
      let output = '';
      server.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const listening = /Listening for client connections on (\S+)/.exec(output);
        if (listening) resolve(listening[1]!);
      });
      server.once('exit', () => reject(new Error(`nats-server ended: ${output}`)));
    });
  });
  afterAll(async () => {
    server.kill();
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(storeDir, { recursive: true, force: true });
  });

  it('logs in with the token of nats://<token>@host and publishes', async () => {
    const sink = getNatsSink(parseSinkUrl(`nats://${token}@${address}?stream=TOKEN_TEST&subject=token.stagecraft.opportunity`) as NatsSinkConfig, { ackTimeoutMs: 2_000 });
    try {
      await expect(sink.publish([outgoing()], { signal: new AbortController().signal, onAttemptFailed: () => undefined })).resolves.toEqual({ undeliverable: [] });
    } finally {
      await sink.close();
    }
    const reader = await connectNats({ servers: address, token });
    try {
      expect((await (await reader.jetstreamManager()).streams.info('TOKEN_TEST')).state.messages).toBe(1);
    } finally {
      await reader.close();
    }
  });
});

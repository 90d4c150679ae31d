// Which event store the end-to-end specs run on. `npm test` runs them twice: on the embedded
// SQLite store (the default) and, as the jest project "e2e on kurrentdb", on the KurrentDB adapter
// talking to the protocol-faithful test double (STAGECRAFT_E2E_STORE=kurrentdb).
//
// On KurrentDB every distinct EVENT_STORE_PATH a spec uses stands for its own server: a spec that
// reopens "the same file" reconnects to the same double, one that uses a new file gets a fresh
// one. Each double is a process of its own, like a real server: it outlives the API processes a
// spec kills, and answers while a spec waits synchronously on a CLI (spawnSync).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { childNodeArgs } from './child-entry';

export type E2EStoreKind = 'sqlite' | 'kurrentdb';

export const E2E_STORE: E2EStoreKind = process.env.STAGECRAFT_E2E_STORE === 'kurrentdb' ? 'kurrentdb' : 'sqlite';

const ROOT = join(__dirname, '..', '..');
const doubles = new Map<string, Promise<{ url: string; child: ChildProcess }>>();

if (E2E_STORE === 'kurrentdb') {
  afterAll(async () => {
    const started = await Promise.allSettled(doubles.values());
    doubles.clear();
    await Promise.all(
      started.map(async (result) => {
        if (result.status !== 'fulfilled' || result.value.child.exitCode !== null) return;
        const exited = new Promise((resolve) => result.value.child.once('exit', resolve));
        result.value.child.kill('SIGTERM');
        await exited;
      }),
    );
  });
}

/** The settings that point the API (or the projector) at the store standing for this path. */
export async function eventStoreEnv(eventStorePath: string): Promise<{ EVENT_STORE_PATH: string; EVENT_STORE_URL?: string }> {
  if (E2E_STORE === 'sqlite') return { EVENT_STORE_PATH: eventStorePath };
  let double = doubles.get(eventStorePath);
  if (!double) {
    double = spawnDouble();
    doubles.set(eventStorePath, double);
  }
  return { EVENT_STORE_PATH: eventStorePath, EVENT_STORE_URL: (await double).url };
}

function spawnDouble(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, childNodeArgs('test/kurrentdb-double/main'), {
    cwd: ROOT,
    env: { ...process.env, KURRENTDB_DOUBLE_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`The KurrentDB test double did not start:\n${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk;
      const url = /EVENT_STORE_URL=(\S+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ url, child });
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`The KurrentDB test double exited:\n${output}`));
    });
  });
}

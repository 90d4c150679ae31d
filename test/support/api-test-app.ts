import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createApiApp } from '../../apps/api/src/api.app';
import { generateApiKey, type NewApiKey } from '../../apps/api/src/auth/api-key.credentials';
import { readSettings, type Settings } from '@stagecraft/config';
import { eventStoreEnv } from './e2e-store';
import { readModelsEnv } from './e2e-read-models';

export const ROOT = join(__dirname, '..', '..');
export const SHIPPED_PROCESSES = join(ROOT, 'config', 'processes');

export interface ApiTestApp {
  readonly app: NestFastifyApplication;
  readonly settings: Settings;
  /** Requests as the test service: an admin key that may act on behalf of people. */
  readonly http: ReturnType<typeof request.agent>;
  /** Requests without credentials. */
  readonly anonymous: ReturnType<typeof request>;
  close(): Promise<void>;
}

export const TEST_SERVICE = 'test-service';

/** Hashed keys as API_KEYS takes them, and the plain keys to send, by name. */
export function testApiKeys(specs: readonly NewApiKey[]): { inline: string; keys: Record<string, string> } {
  const generated = specs.map((spec) => ({ name: spec.name, ...generateApiKey(spec, new Date()) }));
  return {
    inline: JSON.stringify({ keys: generated.map((entry) => entry.stored) }),
    keys: Object.fromEntries(generated.map((entry) => [entry.name, entry.key])),
  };
}

/**
 * A temporary directory removed by the returned function. Made when its path is first read, not
 * when it is asked for: most specs ask at collection time, and a describe block the run skips
 * (another store's, a filter's) never runs the afterAll that removes it.
 */
export function temporaryDirectory(prefix = 'stagecraft-test-'): { readonly path: string; remove: () => void } {
  let made: string | undefined;
  return {
    get path() {
      made ??= mkdtempSync(join(tmpdir(), prefix));
      return made;
    },
    remove: () => {
      if (made !== undefined) rmSync(made, { recursive: true, force: true });
    },
  };
}

/**
 * The real application on a real SQLite file (or, in the KurrentDB e2e run, the server standing
 * for that file), as `npm start` runs it, without a listening port.
 */
export async function startApiTestApp(options: {
  eventStorePath: string;
  processesDir?: string;
  env?: Record<string, string>;
  extraKeys?: readonly NewApiKey[];
  /** The application's clock (business time, token expiry, rate-limit windows); the real one by default. */
  clock?: () => Date;
  /** false: the command routes go through Nest's router instead of their direct handlers (api.app.ts). */
  directCommandRoutes?: boolean;
}): Promise<ApiTestApp & { keys: Record<string, string> }> {
  const { inline, keys } = testApiKeys([{ name: TEST_SERVICE, roles: ['admin'], mayActOnBehalf: true }, ...(options.extraKeys ?? [])]);
  const settings = readSettings(
    {
      ...(await eventStoreEnv(options.eventStorePath)),
      PROCESSES_DIR: options.processesDir ?? SHIPPED_PROCESSES,
      API_KEYS: inline,
      API_KEYS_FILE: `${options.eventStorePath}.keys.json`,
      RATE_LIMIT_PER_MINUTE: '0',
      // Specs send wrong credentials on purpose; the spec of the failed-authentication limit turns it on.
      AUTH_FAILURES_PER_MINUTE: '0',
      ...(await readModelsEnv(options.eventStorePath)),
      ...options.env,
    },
    ROOT,
  );
  const app = await createApiApp({
    settings,
    logger: false,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.directCommandRoutes !== undefined ? { directCommandRoutes: options.directCommandRoutes } : {}),
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const server = app.getHttpServer();
  return {
    app,
    settings,
    keys,
    http: request.agent(server).set('Authorization', `Bearer ${keys[TEST_SERVICE]}`),
    anonymous: request(server),
    close: () => app.close(),
  };
}

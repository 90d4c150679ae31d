import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createApiApp } from '../../apps/api/src/api.app';
import { readApiSettings, type ApiSettings } from '../../apps/api/src/settings/api-settings';

export const ROOT = join(__dirname, '..', '..');
export const SHIPPED_PROCESSES = join(ROOT, 'config', 'processes');

export interface ApiTestApp {
  readonly app: NestFastifyApplication;
  readonly settings: ApiSettings;
  readonly http: ReturnType<typeof request>;
  close(): Promise<void>;
}

/** A temporary directory removed by the returned function. */
export function temporaryDirectory(prefix = 'stagecraft-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The real application on a real SQLite file, as `npm start` runs it, without a listening port. */
export async function startApiTestApp(options: { eventStorePath: string; processesDir?: string; env?: Record<string, string> }): Promise<ApiTestApp> {
  const settings = readApiSettings(
    { EVENT_STORE_PATH: options.eventStorePath, PROCESSES_DIR: options.processesDir ?? SHIPPED_PROCESSES, ...options.env },
    ROOT,
  );
  const app = await createApiApp({ settings, logger: false });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return { app, settings, http: request(app.getHttpServer()), close: () => app.close() };
}

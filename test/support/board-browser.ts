import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { buildBoard } from '../../apps/board/board.build';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './api-test-app';

/** Debian's Chromium (`.ci/run` installs it with apt-get when missing); no browser is ever downloaded. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y --no-install-recommends chromium (or set CHROMIUM_PATH)`);
  // launch() runs the browser on a fresh temporary profile (--user-data-dir) it removes on close.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** Waits for `closing` at most `ms`; past that, says so and goes on (a teardown must not hang the suite). */
export async function closeWithin(closing: Promise<void> | undefined, ms: number, what: string): Promise<void> {
  if (closing === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), ms)));
  try {
    if ((await Promise.race([closing, timedOut])) === 'timed out') console.warn(`${what} did not close within ${ms} ms; going on without it`);
  } finally {
    clearTimeout(timer);
  }
}

export interface ListeningApi extends ApiTestApp {
  readonly keys: Record<string, string>;
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
}

/**
 * The real application as `npm start` runs it, on a temporary SQLite file, listening on a free
 * port, with the board bundled from source the way `npm run build` bundles it.
 */
export async function startBoardApi(
  options: { env?: Record<string, string>; extraKeys?: Parameters<typeof startApiTestApp>[0]['extraKeys']; /** A store written before (e.g. on an older process version); a fresh one by default. */ eventStorePath?: string } = {},
): Promise<ListeningApi> {
  const dir = temporaryDirectory('stagecraft-board-');
  try {
    await buildBoard(`${dir.path}/board`);
    const api = await startApiTestApp({
      eventStorePath: options.eventStorePath ?? `${dir.path}/events.db`,
      env: { READ_MODELS_PATH: `${dir.path}/read-models.db`, BOARD_ASSETS_DIR: `${dir.path}/board`, ...options.env },
      extraKeys: options.extraKeys,
    });
    await api.app.listen(0, '127.0.0.1');
    const address = api.app.getHttpServer().address();
    if (address === null || typeof address === 'string') throw new Error('The API is not listening on a TCP port');
    return {
      ...api,
      baseUrl: `http://127.0.0.1:${address.port}`,
      close: async () => {
        await api.close();
        dir.remove();
      },
    };
  } catch (error) {
    dir.remove();
    throw error;
  }
}

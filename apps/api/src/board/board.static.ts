import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import { Logger } from '@nestjs/common';
import { pathProblem, SettingsError, shownPath } from '@stagecraft/config';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { readableFileConditions } from './file-conditions';

export const BOARD_PATH = '/board';

// Stricter than the API docs' policy: the board has no inline script at all. No
// upgrade-insecure-requests either, so the page also works over plain HTTP on a private network.
export const BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

/**
 * Serves the board's built files at /board. They are registered on Fastify itself, outside Nest's
 * routes: the page and its scripts are public (the page asks for a key and sends it on every API
 * call), they stay out of the OpenAPI document, and the page uses the API like any other client.
 */
export async function serveBoard(app: NestFastifyApplication, assetsDir: string, logger = new Logger('Board'), required = false): Promise<boolean> {
  const indexFile = join(assetsDir, 'index.html');
  if (!existsSync(indexFile)) {
    // Written out, BOARD_ASSETS_DIR names the board to serve: a typo is a setting to correct, not a 404 behind a warning.
    if (required) {
      const problem = pathProblem(assetsDir, 'folder') ?? 'holds no index.html: build the board into it (npm run build:board writes dist/board), or unset BOARD_ASSETS_DIR';
      throw new SettingsError('BOARD_ASSETS_DIR', `${shownPath(assetsDir)} ${problem}`);
    }
    // The API works without its board (e.g. started from source before a build): say how to get it.
    logger.warn(`No board at ${assetsDir}: /board is not served. Build it with \`npm run build:board\` (part of \`npm run build\`).`);
    return false;
  }
  const indexHtml = readFileSync(indexFile);
  const outside = new Set<string>();
  const leavesAssets = leavesFolder(assetsDir, outside);
  await app.register(async (board: FastifyInstance) => {
    board.addHook('onSend', async (_request, reply) => {
      void reply.header('content-security-policy', BOARD_CSP);
    });
    // The file server reads these headers itself, guessing at what is not an HTTP-date or a byte range.
    board.addHook('onRequest', async (request) => {
      readableFileConditions(request.raw.headers, new Date());
    });
    // The page at /board itself (its assets are linked by absolute paths); /board/ is the static index.
    board.get(BOARD_PATH, (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(indexHtml));
    await board.register(fastifyStatic, {
      root: assetsDir,
      prefix: BOARD_PATH,
      // One route per file found now (and /board/ for index.html); anything else under /board
      // falls through to the API's 404 problem.
      wildcard: false,
      decorateReply: false,
      // Bundles keep their names across builds, so the browser must revalidate them.
      maxAge: 0,
      // The files are found by following links (the glob's follow: true): a link in the assets
      // folder to /etc or a home folder would serve everything under it to anyone, unauthenticated.
      // A link is followed only where it stays inside the folder; any other is not served.
      // glob takes an object of two tests as its ignore (typed here as patterns only).
      globIgnore: { ignored: leavesAssets, childrenIgnored: leavesAssets } as unknown as string[],
    });
  });
  if (outside.size > 0) logger.warn(`Not served at /board, as they lead out of ${assetsDir}: ${[...outside].sort().join(', ')}`);
  return true;
}

/**
 * Whether a path the glob meets (a link, or what lies under one) leads out of `folder` once its
 * links are resolved; those found are added to `outside`, as written in the folder. Unreadable
 * (a broken link) counts as out: there is nothing to serve.
 */
export function leavesFolder(folder: string, outside: Set<string>): (path: { fullpath(): string; isSymbolicLink(): boolean }) => boolean {
  const root = realpathSync(folder);
  return (path) => {
    if (!path.isSymbolicLink()) return false;
    let target: string;
    try {
      target = realpathSync(path.fullpath());
    } catch {
      target = '';
    }
    const within = relative(root, target);
    if (target !== '' && within !== '' && !within.startsWith('..') && !isAbsolute(within)) return false;
    outside.add(relative(folder, path.fullpath()));
    return true;
  };
}

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createApiApp } from '../../apps/api/src/api.app';
import { ROOT, SHIPPED_PROCESSES, temporaryDirectory } from '../support/api-test-app';
import { readSettings } from '@stagecraft/config';

// Three dependencies of NestJS 12 and @fastify/static shipped releases that declare Node ≥ 22; the
// package.json `overrides` pin releases made for Node 20 (so `npm ci` on Node 20.20 prints no
// engine warning). These specs exercise what each one does for the packages that use it.

describe('the dependencies pinned for Node 20 do their job', () => {
  it('every installed package accepts this Node version', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } }> };
    const major = Number(process.versions.node.split('.')[0]);
    const refusing = Object.entries(lock.packages)
      .filter(([, entry]) => /^>=\s*(\d+)/.test(entry.engines?.node ?? '') && Number(/^>=\s*(\d+)/.exec(entry.engines!.node!)![1]) > major)
      .map(([path]) => path);
    expect(refusing).toEqual([]);
  });

  it('light-my-request (cookie 1.x) injects requests with cookies into the Fastify app', async () => {
    const dir = temporaryDirectory();
    const app = await createApiApp({ settings: readSettings({ EVENT_STORE_PATH: join(dir.path, 'events.db'), PROCESSES_DIR: SHIPPED_PROCESSES, API_KEYS: '{"keys":[]}' }, ROOT), logger: false });
    try {
      await app.init();
      const fastify = app.getHttpAdapter().getInstance();
      fastify.get('/probe/cookies', (request, reply) => void reply.header('set-cookie', 'seen=1; Path=/').send({ cookie: request.headers.cookie ?? null }));
      await fastify.ready();
      const answer = await fastify.inject({ method: 'GET', url: '/probe/cookies', cookies: { flavour: 'oat' } });
      expect(answer.json()).toEqual({ cookie: 'flavour=oat' });
      expect(answer.cookies).toEqual([expect.objectContaining({ name: 'seen', value: '1', path: '/' })]);
    } finally {
      await app.close();
      dir.remove();
    }
  });

  it('content-disposition 2.x writes the header @fastify/static sends for downloads', () => {
    // As @fastify/static requires it (npm may nest it under the package).
    const { create } = createRequire(require.resolve('@fastify/static'))('content-disposition') as { create: (name: string) => string };
    expect(create('board stats.csv')).toBe('attachment; filename="board stats.csv"');
    expect(create('résumé.pdf')).toBe(`attachment; filename="r?sum?.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`);
  });

  it("file-type 21.x recognises a file by its magic number, as Nest's FileTypeValidator asks it to", () => {
    // ESM only: imported by Node itself from where @nestjs/common imports it, as Nest does at run time.
    const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0];
    const script = `const { fileTypeFromBuffer } = await import('file-type'); console.log(JSON.stringify(await fileTypeFromBuffer(Uint8Array.from(${JSON.stringify(png)}))));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dirname(require.resolve('@nestjs/common/package.json')), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ ext: 'png', mime: 'image/png' });
  });
});

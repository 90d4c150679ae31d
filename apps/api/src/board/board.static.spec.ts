import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { temporaryDirectory } from '../../../../test/support/api-test-app';
import { serveBoard } from './board.static';

@Module({})
class NoRoutes {}

describe('the board at /board', () => {
  // What the folder links to is served only when it stays inside the folder: a link to /etc or to
  // a file elsewhere served it to anyone, without a key.
  it('serves no file a link in its folder leads to outside it', async () => {
    const dir = temporaryDirectory();
    const assets = join(dir.path, 'board');
    mkdirSync(join(assets, 'assets'), { recursive: true });
    writeFileSync(join(assets, 'index.html'), '<html></html>');
    writeFileSync(join(assets, 'assets', 'app.js'), 'void 0;');
    writeFileSync(join(dir.path, 'secret.txt'), 'not for the board');
    mkdirSync(join(dir.path, 'private'));
    writeFileSync(join(dir.path, 'private', 'key.pem'), 'not for the board either');
    symlinkSync(join(dir.path, 'secret.txt'), join(assets, 'assets', 'secret.txt'));
    symlinkSync(join(dir.path, 'private'), join(assets, 'private'));
    symlinkSync(join(dir.path, 'gone.txt'), join(assets, 'broken.txt'));
    // Links that stay inside are kept.
    symlinkSync(join(assets, 'assets', 'app.js'), join(assets, 'alias.js'));
    symlinkSync(join(assets, 'assets'), join(assets, 'static'));
    const warnings: string[] = [];
    const app = await NestFactory.create<NestFastifyApplication>(NoRoutes, new FastifyAdapter(), { logger: false });
    try {
      expect(await serveBoard(app, assets, { warn: (message: string) => warnings.push(message) } as never)).toBe(true);
      await app.init();
      const get = async (url: string) => (await app.inject({ method: 'GET', url })).statusCode;
      expect(await get('/board/assets/app.js')).toBe(200);
      expect(await get('/board/alias.js')).toBe(200);
      expect(await get('/board/static/app.js')).toBe(200);
      expect(await get('/board/assets/secret.txt')).toBe(404);
      expect(await get('/board/private/key.pem')).toBe(404);
      expect(await get('/board/broken.txt')).toBe(404);
      // Said once at start-up, naming each, so an operator knows why they are missing.
      expect(warnings).toEqual([expect.stringContaining('assets/secret.txt')]);
      expect(warnings[0]).toContain('private');
      expect(warnings[0]).toContain('broken.txt');
    } finally {
      await app.close();
      dir.remove();
    }
  });
});

import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureWriterCache, openEventStoreDatabase, WRITER_CACHE_PAGES } from './sqlite-database';

describe("the writer connection's page cache", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'stagecraft-writer-cache-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is kept small in a file below 1 GiB, where a large one is walked whole after page splits', () => {
    const db = openEventStoreDatabase(join(dir, 'events.db'), 'full');
    const before = db.pragma('cache_size', { simple: true });
    expect(before).not.toBe(WRITER_CACHE_PAGES);
    configureWriterCache(db);
    expect(db.pragma('cache_size', { simple: true })).toBe(WRITER_CACHE_PAGES);
    db.close();
  });

  it('is left as it is in a file of 1 GiB or more, where no such walk happens', () => {
    // A file of 2^30 bytes or more, as the pragmas report it (writing one would take a gigabyte).
    const set: string[] = [];
    const large = {
      pragma: (text: string) => {
        if (text === 'page_size') return 4096;
        if (text === 'page_count') return 2 ** 18;
        set.push(text);
        return undefined;
      },
    } as unknown as Database.Database;
    configureWriterCache(large);
    expect(set).toEqual([]);
    const small = { ...large, pragma: (text: string) => (text === 'page_size' ? 4096 : text === 'page_count' ? 2 ** 18 - 1 : set.push(text)) } as unknown as Database.Database;
    configureWriterCache(small);
    expect(set).toEqual([`cache_size = ${WRITER_CACHE_PAGES}`]);
  });
});

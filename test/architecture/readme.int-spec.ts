import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PUBLIC_EVENT_TYPES, publicEventDataSchema } from '@stagecraft/public-events';
import { PROBLEM_STATUS } from '../../apps/api/src/http/problem.catalogue';
import { ROOT } from '../support/lint';

// What the README tells operators and client developers is what the code does: the problem codes
// with their statuses, the settings the service reads, and the fields of the public events.

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('the README', () => {
  it('lists every problem code with its status, and no code the API does not answer with', () => {
    const documented = Object.fromEntries([...readme.matchAll(/^\| `([A-Z_]+(?:\.[A-Z_]+)?)` \| (\d{3}) \|/gm)].map((row) => [row[1], Number(row[2])]));
    expect(documented).toEqual(PROBLEM_STATUS);
  });

  it('documents every setting the service reads in its settings table, and none it does not read', () => {
    const configDir = join(ROOT, 'libs', 'config', 'src');
    const source = readdirSync(configDir)
      .filter((file) => file.endsWith('.ts') && !file.includes('spec'))
      .map((file) => readFileSync(join(configDir, file), 'utf8'))
      .join('\n');
    const read = new Set([...source.matchAll(/env(?:\.|\[')([A-Z][A-Z0-9_]+)|\(env, '([A-Z][A-Z0-9_]+)'/g)].map((match) => match[1] ?? match[2]!));
    const table = readme.slice(readme.indexOf('| variable |'), readme.indexOf('\n\n', readme.indexOf('| variable |')));
    const documented = new Set([...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((row) => [...row[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]!)));
    expect([...read].filter((variable) => !documented.has(variable)).sort()).toEqual([]);
    expect([...documented].filter((variable) => !read.has(variable)).sort()).toEqual([]);
  });

  it("names every field of the public events' data in their contract table", () => {
    const row = /^\| `data` \|(.*)$/m.exec(readme)?.[1] ?? '';
    const named = new Set([...row.matchAll(/`([^`]+)`/g)].flatMap((match) => match[1]!.split(/[^A-Za-z]+/).filter(Boolean)));
    const fields = new Set(PUBLIC_EVENT_TYPES.flatMap((type) => Object.keys((publicEventDataSchema(type) as { properties: Record<string, unknown> }).properties)));
    expect([...fields].filter((field) => !named.has(field)).sort()).toEqual([]);
  });
});

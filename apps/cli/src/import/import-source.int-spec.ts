import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImportSource, type ImportItem } from './import-source';

// What an import reads from a file before any line is decided: the lines as the export wrote them.

describe('an import file', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'stagecraft-import-source-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const itemsOf = async (name: string, text: string): Promise<ImportItem[]> => {
    const file = join(dir, name);
    writeFileSync(file, text);
    const items: ImportItem[] = [];
    for await (const item of (await openImportSource(file)).items()) items.push(item);
    return items;
  };

  it('an exported log saved with a byte order mark (as Windows tools write UTF-8) reads as the same lines (as a CSV does)', async () => {
    const event = { position: 3, recordedAt: '2026-01-01T00:00:00.000Z', stream: 'opportunity-6f2574ab-d0e8-5f65-acef-6b0b2ad050fc', revision: 0, id: '9dbfe9fa-f5cd-571f-9eec-b6e9397b721e', type: 'OpportunityOpened', data: { title: 'ACME' }, metadata: {} };
    const line = JSON.stringify(event);
    const plain = await itemsOf('plain.jsonl', `${line}\n${line}\n`);
    expect(plain.map((item) => item.kind)).toEqual(['event', 'event']);
    expect(await itemsOf('marked.jsonl', `\uFEFF${line}\n${line}\n`)).toEqual(plain);
    // Only at the start of the file: inside a later line it is the line's own text.
    expect((await itemsOf('inside.jsonl', `${line}\n\uFEFF${line}\n`)).map((item) => item.kind)).toEqual(['event', 'unreadable']);
  });
});

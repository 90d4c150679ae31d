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

  it('a CSV row with a stray quote is one unreadable line naming its column; the rows after it read as they are', async () => {
    const backfill = ['opportunityId,occurredAt,stage,processId,title', 'SF-1,2025-01-01T00:00:00Z,new,standard,Widget 5" screen', 'SF-2,2025-01-02T00:00:00Z,new,standard,Gadget 7" thing', 'SF-3,2025-01-03T00:00:00Z,new,standard,Plain'];
    const items = await itemsOf('stray.csv', `${backfill.join('\n')}\n`);
    expect(items.map((item) => [item.kind, item.line, item.kind === 'unreadable' ? item.reason.slice(0, 50) : ''])).toEqual([
      ['unreadable', 2, 'title: a quote inside a cell that does not start w'],
      ['unreadable', 3, 'title: a quote inside a cell that does not start w'],
      ['row', 4, ''],
    ]);
    const log = ['position,recordedAt,stream,revision,id,type,data,metadata', `1,2026-01-01T00:00:00.000Z,opportunity-6f2574ab-d0e8-5f65-acef-6b0b2ad050fc,0,9dbfe9fa-f5cd-571f-9eec-b6e9397b721e,OpportunityOpened,"{""title"":""A""}"x,{}`];
    expect((await itemsOf('log.csv', `${log.join('\r\n')}\r\n`)).map((item) => (item.kind === 'unreadable' ? item.reason.slice(0, 39) : item.kind))).toEqual(['data: text after the closing quote of a']);
  });

  it('a CSV header that breaks the quoting stops the import before anything is read', async () => {
    await expect(itemsOf('header.csv', 'opportunityId,occ"urredAt\nSF-1,2025-01-01T00:00:00Z\n')).rejects.toThrow(/header\.csv:1 header, column 2: a quote inside a cell/);
  });

  it("an exported log's CSV: a revision cell that is not decimal digits is refused, not read as Number() reads it", async () => {
    const header = 'position,recordedAt,stream,revision,id,type,data,metadata';
    const row = (revision: string) => `1,2026-01-01T00:00:00.000Z,opportunity-6f2574ab-d0e8-5f65-acef-6b0b2ad050fc,${revision},9dbfe9fa-f5cd-571f-9eec-b6e9397b721e,OpportunityOpened,{},{}`;
    const items = await itemsOf('revisions.csv', `${[header, row('0x1'), row(' 2.0 '), row('1e1'), row('3')].join('\r\n')}\r\n`);
    expect(items.map((item) => (item.kind === 'unreadable' ? item.reason : item.kind === 'event' ? item.record.revision : item.kind))).toEqual([
      'revision: must be a whole number from 0 (got "0x1")',
      'revision: must be a whole number from 0 (got " 2.0 ")',
      'revision: must be a whole number from 0 (got "1e1")',
      3,
    ]);
  });

  it('a file in UTF-16, with or without a byte order mark, is refused as such before anything is read', async () => {
    const text = 'opportunityId,occurredAt\r\nSF-1,2025-01-01T00:00:00Z\r\n';
    for (const [name, bytes] of [
      ['le.csv', Buffer.from(text, 'utf16le')],
      ['le-bom.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])],
      ['be-bom.jsonl', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()])],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      await expect(openImportSource(file)).rejects.toThrow(`${file} is UTF-16 text, not UTF-8`);
    }
  });

  it('a line longer than the limit is one unreadable line, not held whole; the lines after it read as they are', async () => {
    // Read whole, a 600 MB line ended the process with a stack trace (readline's "Invalid string length"), or out of memory.
    const read = async (name: string, text: string) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      const items: ImportItem[] = [];
      for await (const item of (await openImportSource(file, undefined, { maxLineLength: 300 })).items()) items.push(item);
      return items.map((item) => (item.kind === 'unreadable' ? [item.line, item.reason] : [item.line, item.kind]));
    };
    const event = JSON.stringify({ stream: 'opportunity-6f2574ab-d0e8-5f65-acef-6b0b2ad050fc', revision: 0, id: '9dbfe9fa-f5cd-571f-9eec-b6e9397b721e', type: 'OpportunityOpened', data: {}, metadata: {} });
    const long = JSON.stringify({ title: 'x'.repeat(400) });
    expect(await read('long.jsonl', `${event}\r\n${long}\r\n${event}\n${long}`)).toEqual([
      [1, 'event'],
      [2, 'is longer than 300 characters, which no exported event is; the line is not read'],
      [3, 'event'],
      [4, 'is longer than 300 characters, which no exported event is; the line is not read'],
    ]);
    const rows = ['opportunityId,occurredAt,stage,processId,title', `SF-1,2025-01-01T00:00:00Z,new,standard,${'x'.repeat(400)}`, 'SF-2,2025-01-02T00:00:00Z,new,standard,Plain'];
    expect(await read('long.csv', `${rows.join('\n')}\n`)).toEqual([
      [2, 'title: the record is longer than 300 characters; the row is not read'],
      [3, 'row'],
    ]);
  });

  // What a header refusal quotes: a name as the file writes it, but never a whole 1 MB cell, and an
  // empty header (a file that is only a byte order mark, or starts with an empty line) said as such.
  describe('a CSV header it cannot read is refused, saying what is wrong in a line a terminal can show', () => {
    const refusal = async (name: string, text: string): Promise<string> => {
      const file = join(dir, name);
      writeFileSync(file, text);
      const opened = openImportSource(file);
      await expect(opened).rejects.toThrow();
      return ((await opened.catch((error: Error) => error)) as Error).message;
    };

    it.each([
      ['an unknown column', 1],
      ['a column twice', 2],
    ])('%s named by a huge cell is quoted cut short', async (_name, variant) => {
      const huge = 'x'.repeat(1_000_000);
      const header = variant === 1 ? `opportunityId,occurredAt,${huge}` : `opportunityId,occurredAt,${huge},${huge}`;
      const message = await refusal(`huge-${variant}.csv`, `${header}\nSF-1,2025-01-01T00:00:00Z,x\n`);
      expect(message.length).toBeLessThan(600);
      expect(message).toContain(`"${'x'.repeat(40)}`);
      expect(message).toContain('…');
    });

    it('a row breaking the quoting in a column with a huge name quotes the name cut short', async () => {
      const huge = 'y'.repeat(1_000_000);
      const log = [`position,recordedAt,stream,revision,id,type,data,metadata,${huge}`, `1,2026-01-01T00:00:00.000Z,opportunity-6f2574ab-d0e8-5f65-acef-6b0b2ad050fc,0,9dbfe9fa-f5cd-571f-9eec-b6e9397b721e,OpportunityOpened,{},{},a"b`];
      const [item] = await itemsOf('huge-log.csv', `${log.join('\n')}\n`);
      expect(item).toMatchObject({ kind: 'unreadable', reason: expect.stringContaining('…') });
      expect((item as { reason: string }).reason.length).toBeLessThan(300);
    });

    it.each([
      ['only a byte order mark', '\uFEFF'],
      ['a byte order mark and a line break', '\uFEFF\r\n'],
      ['a first line of spaces', '   \nopportunityId,occurredAt\n'],
    ])('%s: no header row, not an unknown column ""', async (_name, text) => {
      const message = await refusal('blank.csv', text);
      expect(message).not.toContain('unknown column ""');
      expect(message).toMatch(/header row/);
    });

    it('a column without a name is said by its place', async () => {
      const message = await refusal('gap.csv', 'opportunityId,,occurredAt\nSF-1,,2025-01-01T00:00:00Z\n');
      expect(message).toContain('column 2 has no name');
    });
  });
});

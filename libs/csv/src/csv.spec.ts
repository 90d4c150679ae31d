import { csvLine, readCsvRecords, unguardCell } from './csv';

async function read(...chunks: string[]) {
  const records: { line: number; cells: readonly string[] }[] = [];
  for await (const record of readCsvRecords(chunks)) records.push(record);
  return records;
}

describe('CSV reading and writing', () => {
  it('reads quoted commas, doubled quotes and line breaks inside quotes, with the line each record starts on', async () => {
    const text = 'a,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\r\nlines",z\n\n3,,\n';
    expect(await read(text)).toEqual([
      { line: 1, cells: ['a', 'b', 'c'] },
      { line: 2, cells: ['1', 'x, y', 'say "hi"'] },
      { line: 3, cells: ['2', 'two\r\nlines', 'z'] },
      { line: 6, cells: ['3', '', ''] },
    ]);
  });

  it('gives the same records whatever the chunk boundaries', async () => {
    const text = 'a,"b""c",d\r\n"e\nf",g,h\r\nlast,row,"no end"';
    const whole = await read(text);
    for (let split = 1; split < text.length; split += 1) {
      expect(await read(text.slice(0, split), text.slice(split))).toEqual(whole);
    }
    expect(whole[2]).toEqual({ line: 4, cells: ['last', 'row', 'no end'] });
  });

  it('refuses a quote that never closes, naming its line', async () => {
    await expect(read('a,b\r\n1,"open\r\n')).rejects.toThrow('a quoted cell opened on line 2 is never closed');
  });

  it('refuses a quote inside a cell that does not start with one, rather than swallowing the rows after it', async () => {
    // Read leniently, the quote of `5"` opened a cell that ran to the quote of `7"`: row 3 vanished into row 2's title.
    const records = await read('id,title,n\r\n1,Widget 5" screen,a\r\n2,Gadget 7" thing,b\r\n3,plain,c\r\n');
    expect(records).toEqual([
      { line: 1, cells: ['id', 'title', 'n'] },
      { line: 2, cells: ['1'], fault: { cell: 1, reason: expect.stringContaining('a quote inside a cell that does not start with one') } },
      { line: 3, cells: ['2'], fault: { cell: 1, reason: expect.stringContaining('a quote inside a cell that does not start with one') } },
      { line: 4, cells: ['3', 'plain', 'c'] },
    ]);
  });

  it('refuses text after a closing quote, and reads on at the next line whatever the chunks', async () => {
    const text = 'a,"b"c,d\n"x"  ,"y""z" ,w\n';
    const whole = await read(text);
    expect(whole).toEqual([
      { line: 1, cells: ['a'], fault: { cell: 1, reason: expect.stringContaining('text after the closing quote') } },
      // Spaces after a closing quote (or before an opening one) are still taken, as before.
      { line: 2, cells: ['x  ', 'y"z ', 'w'] },
    ]);
    for (let split = 1; split < text.length; split += 1) {
      expect(await read(text.slice(0, split), text.slice(split))).toEqual(whole);
    }
  });

  it('writes what it reads back, guarding formula-like cells against spreadsheets', async () => {
    const values = ['plain', 'with, comma', 'with "quotes"', 'two\nlines', '=SUM(A1)', '-12.5', '', '@home'];
    const [record] = await read(`${csvLine(values)}\r\n`);
    expect(record!.cells.map(unguardCell)).toEqual(values);
    expect(csvLine(['=SUM(A1)', -3, null, { a: 1 }])).toBe(`'=SUM(A1),-3,,"{""a"":1}"`);
  });

  it('refuses a record longer than the limit as a fault of its cell, holding no more of it, and reads on at the next record whatever the chunks', async () => {
    // A file of one endless line (a dump gone wrong) held the whole line in memory until the process died.
    const text = `a,b\r\n1,${'x'.repeat(30)},"${'y'.repeat(30)}\r\n,z"\r\n2,${'w'.repeat(30)}5" wide\r\nok,"q""q"\r\n`;
    const read = async (...chunks: string[]) => {
      const records: unknown[] = [];
      for await (const record of readCsvRecords(chunks, { maxRecordLength: 20 })) records.push(record);
      return records;
    };
    const whole = await read(text);
    expect(whole).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['1'], fault: { cell: 1, reason: 'the record is longer than 20 characters' } },
      // Past the limit, a quote inside a cell is still a stray one, not the start of a cell that swallows the next rows.
      { line: 4, cells: ['2'], fault: { cell: 1, reason: expect.stringContaining('a quote inside a cell that does not start with one') } },
      { line: 5, cells: ['ok', 'q"q'] },
    ]);
    for (let split = 1; split < text.length; split += 7) {
      expect(await read(text.slice(0, split), text.slice(split))).toEqual(whole);
    }
  });
});

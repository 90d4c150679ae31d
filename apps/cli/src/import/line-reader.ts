/** A line of text, or one longer than the reader would hold (its text dropped as it was read). */
export type TextLine = { readonly text: string } | { readonly tooLong: true };

/**
 * Splits text chunks into lines as readline does (\n, \r\n or a lone \r ends a line; a last line
 * without an ending counts), holding at most `maxLength` characters of a line: readline holds a
 * line whole, so a file of one endless line (a dump gone wrong) ended the process with its
 * "Invalid string length", or out of memory. A longer line is answered as such, and reading goes on.
 */
export async function* readLines(chunks: AsyncIterable<string>, maxLength: number): AsyncGenerator<TextLine> {
  let parts: string[] = [];
  let length = 0;
  let tooLong = false;
  let afterCr = false; // the last chunk ended with \r: a \n starting the next one belongs to it
  const take = (piece: string) => {
    if (tooLong || piece === '') return;
    length += piece.length;
    if (length > maxLength) {
      tooLong = true;
      parts = [];
    } else parts.push(piece);
  };
  const end = (): TextLine => {
    const line: TextLine = tooLong ? { tooLong: true } : { text: parts.join('') };
    parts = [];
    length = 0;
    tooLong = false;
    return line;
  };
  for await (const chunk of chunks) {
    if (chunk === '') continue;
    let start = afterCr && chunk.startsWith('\n') ? 1 : 0;
    afterCr = false;
    const breaks = /\r\n|\r|\n/g;
    breaks.lastIndex = start;
    for (let match = breaks.exec(chunk); match !== null; match = breaks.exec(chunk)) {
      take(chunk.slice(start, match.index));
      yield end();
      start = match.index + match[0].length;
      if (match[0] === '\r' && start === chunk.length) afterCr = true;
    }
    take(chunk.slice(start));
  }
  if (length > 0 || tooLong) yield end();
}

import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INSTANT_RULE } from '@stagecraft/opportunity';
import { quotedValue } from '@stagecraft/sales-process';
import { runCli } from './cli.program';
import { USAGE_VALUE_MAX } from './io/printable';

// What the operator typed or a file held comes back in the CLI's error lines and import reasons:
// escaped as io/printable.ts escapes output (the API's set: controls, U+0085, line separators,
// bidirectional overrides, zero-width characters) and cut short, so none of it acts on the
// terminal or starts a line that reads as the CLI's own. A bad instant is worded as the API words it.

const PROCESSES = join(__dirname, '..', '..', '..', 'config', 'processes');
/** What a terminal acts on rather than shows; a line break only between the CLI's own lines. */
const ACTS_ON_READER = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

const HOSTILE: readonly { name: string; value: string; escaped?: string }[] = [
  { name: 'an escape sequence', value: '2026\u001b[31m', escaped: '"2026\\u001b[31m"' },
  { name: 'a line break', value: '2026\r\nstagecraft: ok', escaped: '"2026\\r\\nstagecraft: ok"' },
  { name: 'a right-to-left override', value: '2026\u202e10', escaped: '"2026\\u202e10"' },
  { name: 'a next line (U+0085)', value: '2026\u0085x', escaped: '"2026\\u0085x"' },
  { name: 'a line separator (U+2028)', value: '2026\u2028x', escaped: '"2026\\u2028x"' },
  { name: 'a very long value', value: `2026${'x'.repeat(5000)}` },
];

describe('stagecraft quotes what it was given escaped, in one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-quoting-'));
  const saved = { ...process.env };
  beforeAll(() => {
    process.env.EVENT_STORE_PATH = join(dir, 'events.db');
    process.env.PROCESSES_DIR = PROCESSES;
    delete process.env.EVENT_STORE_URL;
  });
  afterAll(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  /** The exit code and every line printed (stdout and stderr), split where the CLI ends its lines. */
  async function run(argv: readonly string[]): Promise<{ exit: number; lines: string[] }> {
    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(String(text)));
    const error = jest.spyOn(console, 'error').mockImplementation((text: string) => void printed.push(String(text)));
    try {
      const exit = await runCli(argv);
      return { exit, lines: printed.flatMap((text) => text.split('\n')) };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  }

  function expectSafe(lines: readonly string[]): void {
    for (const line of lines) {
      expect(line).not.toMatch(ACTS_ON_READER);
      expect(line).not.toMatch(/x{81}/);
    }
  }

  const options: readonly { name: string; argv: (value: string) => string[]; option: string }[] = [
    { name: 'history --as-of', argv: (value) => ['history', randomUUID(), '--as-of', value], option: '--as-of' },
    { name: 'export --from', argv: (value) => ['export', '--from', value], option: '--from' },
    { name: 'export --to', argv: (value) => ['export', '--to', value], option: '--to' },
  ];
  it.each(options.flatMap((option) => HOSTILE.map((hostile) => ({ option, hostile, label: `${option.name}: ${hostile.name}` }))))('$label', async ({ option, hostile }) => {
    const { exit, lines } = await run(option.argv(hostile.value));
    expect(exit).toBe(2);
    expectSafe(lines);
    expect(lines.join('\n')).toContain(`${option.option} must be ${INSTANT_RULE}; got ${hostile.escaped ?? '"2026x'}`);
  });

  it.each(HOSTILE)('verify of an id that is not one: $name', async (hostile) => {
    const { exit, lines } = await run(['verify', hostile.value]);
    expect(exit).not.toBe(0);
    expectSafe(lines);
    if (hostile.escaped !== undefined) expect(lines.join('\n')).toContain(`${hostile.escaped} is not an opportunity id`);
  });

  it.each(HOSTILE)('verify --all --head: $name', async (hostile) => {
    const { exit, lines } = await run(['verify', '--all', '--head', hostile.value]);
    expect(exit).not.toBe(0);
    expectSafe(lines);
    if (hostile.escaped !== undefined) expect(lines.join('\n')).toContain(`got ${hostile.escaped}`);
  });

  it('import of backfill rows: each bad cell is quoted escaped, a bad instant in the API’s words', async () => {
    const cell = (text: string) => `"${text.replace(/"/g, '""')}"`;
    const rows = HOSTILE.flatMap((hostile, n) => [
      `SF-T${n},${cell(hostile.value)},new,standard,Deal ${n}`,
      `SF-S${n},2025-01-06T00:00:00Z,${cell(hostile.value)},standard,Deal ${n}`,
    ]);
    const file = join(dir, 'rows.csv');
    writeFileSync(file, ['opportunityId,occurredAt,stage,processId,title', ...rows].join('\n'));
    const { exit, lines } = await run(['import', file]);
    expect(exit).toBe(1);
    expectSafe(lines);
    const text = lines.join('\n');
    HOSTILE.forEach((hostile, n) => {
      if (hostile.escaped === undefined) return;
      expect(text).toContain(`(SF-T${n}): occurredAt: must be ${INSTANT_RULE}; got ${hostile.escaped}`);
      expect(text).toContain(`(SF-S${n}): stage: `);
      expect(text).toContain(hostile.escaped);
    });
  });

  // Commander words these itself (an unknown option or command, a value its choices or a parser
  // refuse) and writes them straight to stderr, quoting what was typed in single quotes.
  const usage: readonly { name: string; argv: (value: string) => string[]; said: string }[] = [
    { name: 'an unknown option', argv: (value) => ['history', randomUUID(), `--${value}`], said: 'unknown option' },
    { name: 'an unknown command', argv: (value) => [value], said: 'unknown command' },
    { name: 'a value outside the choices', argv: (value) => ['export', '--format', value], said: 'is invalid' },
    { name: 'a value the parser refuses', argv: (value) => ['relay', 'replay', '--sink', 'nats://127.0.0.1:4222', '--from', value], said: 'must be a whole number' },
  ];
  it.each(usage.flatMap((mistake) => HOSTILE.map((hostile) => ({ mistake, hostile, label: `${mistake.name}: ${hostile.name}` }))))("commander's usage error, $label", async ({ mistake, hostile }) => {
    const written: string[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
    try {
      const { exit, lines } = await run(mistake.argv(hostile.value));
      expect(exit).toBe(2);
      const text = [...lines, ...written.join('').split('\n')];
      expect(text.join('\n')).toContain(mistake.said);
      for (const line of text) expect(line).not.toMatch(ACTS_ON_READER);
      for (const line of text) expect(line).not.toMatch(/x{81}/);
      if (hostile.escaped !== undefined) expect(text.join('\n')).toContain(hostile.escaped.slice(1, -1));
    } finally {
      stderr.mockRestore();
    }
  });

  // What was typed is quoted as every message of our CLIs quotes a value (quotedValue): in double
  // quotes, `"` and `\` escaped as JSON escapes them, so the quoted text reads back as exactly one
  // value whatever it holds. Commander's own single quotes left a `'` inside unescaped: `'a' b'`
  // could be the value a' b or a, then text.
  const NASTY: readonly string[] = [
    "it's",
    "'",
    "''",
    '"',
    '\\',
    '\\\'',
    'a\\"b',
    "x' (Did you mean --json?)",
    "x'\n(Did you mean --json?)",
    "--json' and option '--all",
    '',
    ' ',
    '\u001b[31m\'',
    '\u202e\'\u202c',
    'ünïcödé ✓ 🏴\u{e0067}\u{e0062}',
    '\ud800',
    '\\u0041',
  ];
  const quotedUsage: readonly { name: string; argv: (value: string) => string[]; said: (quoted: string) => string }[] = [
    { name: 'an unknown option', argv: (value) => ['history', randomUUID(), `--zz${value}`], said: (quoted) => `error: unknown option ${quoted}` },
    { name: 'an unknown command', argv: (value) => [`zz${value}`], said: (quoted) => `error: unknown command ${quoted}` },
    { name: 'an unknown relay command', argv: (value) => ['relay', `zz${value}`], said: (quoted) => `error: unknown command ${quoted}` },
    { name: 'a value outside the choices', argv: (value) => ['export', '--format', `zz${value}`], said: (quoted) => `error: option '--format <format>' argument ${quoted} is invalid. Allowed choices are jsonl, csv.` },
    { name: 'a value the parser refuses', argv: (value) => ['relay', 'replay', '--sink', 'nats://127.0.0.1:4222', '--from', `zz${value}`], said: (quoted) => `error: option '--from <position>' argument ${quoted} is invalid. must be a whole number of 1 or more` },
  ];
  it.each(quotedUsage.flatMap((mistake) => NASTY.map((value) => ({ mistake, value, label: `${mistake.name}: ${JSON.stringify(value)}` }))))("commander's usage error quotes what was typed unambiguously, $label", async ({ mistake, value }) => {
    const written: string[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
    try {
      const typed = mistake.argv(value);
      expect((await run(typed)).exit).toBe(2);
      const shown = quotedValue(typed.find((arg) => arg.includes(`zz${value}`))!, USAGE_VALUE_MAX);
      expect(written.join('').split('\n')[0]).toBe(mistake.said(shown));
      // Read back: the quoted text is one JSON string, and it is what was typed.
      expect(JSON.parse(shown)).toBe(typed.find((arg) => arg.includes(`zz${value}`)));
    } finally {
      stderr.mockRestore();
    }
  });

  it("commander's suggestion of a near option stays, on the error's line", async () => {
    const written: string[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
    try {
      expect((await run(['history', randomUUID(), '--jsom'])).exit).toBe(2);
      expect(written.join('').split('\n')[0]).toBe('error: unknown option "--jsom" (Did you mean --json?)');
    } finally {
      stderr.mockRestore();
    }
  });

  it('import of an exported log: a line that is not JSON is reported escaped', async () => {
    const file = join(dir, 'events.jsonl');
    writeFileSync(file, HOSTILE.map((hostile) => `{"stream": "${hostile.value.replace(/[\r\n]/g, '')}\u001b[2J\u202e`).join('\n'));
    const { exit, lines } = await run(['import', file]);
    expect(exit).toBe(1);
    expectSafe(lines);
  });
});

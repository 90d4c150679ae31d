import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ProcessDefinitionError } from '@stagecraft/sales-process';
import { ProcessDirectoryError, readSettings, SettingsError } from '@stagecraft/config';
import { EventStoreFullError, EventStoreUnavailableError, SQLiteFileError } from '@stagecraft/event-store';
import { ALL_PROJECTIONS } from '@stagecraft/projections';
import { LOG_REPLACED, type StartOverAt } from '@stagecraft/relay';
import { CliError, EXIT } from './cli.errors';
import type { AsOfAxis } from '@stagecraft/audit';
import { showHistory } from './commands/history.command';
import { verifyChains } from './commands/verify.command';
import { exportEvents, type ExportFormat } from './commands/export.command';
import { importFile } from './commands/import.command';
import { validateProcessFiles } from './commands/processes-validate.command';
import { rebuildReadModels } from './commands/rebuild.command';
import { discardDeadLetter, replaySink, showDeadLetters, showRelayStatus, startOverSink } from './commands/relay.command';
import type { ImportFormat } from './import/import-source';
import { printable, printableUsageError } from './io/printable';
import { QuotingCommand } from './io/quoting.command';
import { stopProgressBars } from './io/progress';

/**
 * `stagecraft` — the auditors' and operators' tool. It works on the same store and settings
 * (EVENT_STORE_PATH, PROCESSES_DIR, READ_MODELS_PATH, …) as the API, read the same way.
 */
export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new QuotingCommand('stagecraft')
    .description(
      'Stagecraft on the command line: history, verification, export and import, read-model rebuilds, process checks.\n' +
        'Works on the store the environment names (EVENT_STORE_URL for KurrentDB, else the SQLite file EVENT_STORE_PATH; PROCESSES_DIR, READ_MODELS_PATH), as the API does.',
    )
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    // Commander's usage errors: what was typed quoted as our messages quote it (QuotingCommand), the line escaped as every other (subcommands inherit this).
    .configureOutput({ outputError: (text, write) => write(printableUsageError(text)) })
    .exitOverride();

  program
    .command('history')
    .description(
      "an opportunity's timeline: each stage change with the time spent in the stage left, the actor, the exit criteria met at that moment, the note.\n" +
        'Exit 1 when there is no such deal (then), its events do not replay or a store setting hides them (ALTERED), 3 when whether one does could not be checked (UNCHECKED)',
    )
    .argument('<id>', 'opportunity id (UUID), the source id a backfill import was given, or its stream name (opportunity-…, as verify --all prints it)')
    .option('--as-of <instant>', 'only what had happened by this ISO 8601 instant, and the state then')
    .addOption(new Option('--axis <axis>', 'clock of --as-of: occurredAt (business time, the default) or recordedAt (what the system knew then)').choices(['occurredAt', 'recordedAt']))
    .option('--json', 'print JSON instead of text, with hidden (what a store setting hides of what was read) and unchecked')
    .action(async (id: string, options: { asOf?: string; axis?: AsOfAxis; json?: boolean }) => {
      setExitCode(await showHistory(readSettings(), id, options));
    });

  program
    .command('verify')
    .description(
      "check the SHA-256 hash chains: an opportunity's and its process's, or the whole log with --all (also deleted positions,\n" +
        'streams KurrentDB hides from readers by stream metadata or a delete, and a head to keep). Exit 0 when verified,\n' +
        '1 naming the first broken stream and revision, the break in the log, or what hides which events (ALTERED),\n' +
        '3 when nothing was found broken but a check could not be made (UNCHECKED: e.g. a user refused the streams\' metadata)',
    )
    .argument('[id]', 'opportunity id (UUID, backfill source id) or a stream name (opportunity-…, sales-process-…)')
    .option('--all', 'the whole log: every stream, and every position; prints the head to keep ("keep: <digest>@<position>")')
    .option('--head <digest@position>', 'with --all: a head kept from an earlier run (its "keep:" value, or that whole line); fail unless the log still reproduces it (nothing deleted, altered or cut from the end)')
    .addOption(new Option('--strict', 'the default now (a stream nothing vouches for fails); kept for scripts that pass it').hideHelp())
    .option('--json', 'print JSON instead of text')
    .action(async (id: string | undefined, options: { all?: boolean; head?: string; strict?: boolean; json?: boolean }) => {
      setExitCode(await verifyChains(readSettings(), id, options));
    });

  program
    .command('export')
    .description('write the whole event log, in global order, for auditors (JSON lines or CSV)')
    .addOption(new Option('--format <format>', 'jsonl: one stored event per line; csv: one row per event').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--from <instant>', 'only events whose business time (occurredAt) is at or after this ISO 8601 instant')
    .option('--to <instant>', 'only events whose business time is at or before this instant')
    .option('--out <file>', 'write to this file (created owner-only) instead of stdout')
    .action(async (options: { format: ExportFormat; from?: string; to?: string; out?: string }) => {
      setExitCode(await exportEvents(readSettings(), options));
    });

  program
    .command('import')
    .description(
      'replay an exported event log (export --format jsonl|csv) or backfill historical opportunities from CSV\n' +
        '(one row per stage change), through the same rules as the API; re-running a file adds nothing',
    )
    .argument('<file>', '.jsonl / .ndjson (exported events) or .csv (exported events, or backfill rows)')
    .addOption(new Option('--format <format>', 'when the file name does not tell').choices(['jsonl', 'csv']))
    .option('--json', 'print the summary as JSON')
    .option('--concurrency <n>', 'opportunities imported side by side (1–256)', concurrency, 16)
    .action(async (file: string, options: { format?: ImportFormat; json?: boolean; concurrency: number }) => {
      setExitCode(await importFile(readSettings(), file, options));
    });

  program
    .command('rebuild')
    .description('rebuild read models from the start of the log into READ_MODELS_PATH (offline: no API or projector writing them),\nor, with READ_MODELS_URL, all of them into a PostgreSQL schema swapped in at the end (any name rebuilds them all)')
    .argument('[projection...]', `${ALL_PROJECTIONS.map((projection) => projection.name).join(', ')} (all when none is named)`)
    .action(async (names: string[]) => {
      setExitCode(await rebuildReadModels(readSettings(), names));
    });

  const relay = program.command('relay').description('the public-event relay: checkpoints, dead letters and replays of the sinks in RELAY_SINKS');
  relay
    .command('status')
    .description("each sink's checkpoint, lag and dead letters (exit 1 when there are dead letters)")
    .option('--json', 'print JSON instead of text')
    .action(async (options: { json?: boolean }) => {
      setExitCode(await showRelayStatus(readSettings(), options));
    });
  relay
    .command('dead-letters')
    .description('the events webhook subscribers failed to take after every attempt (exit 1 when there are any)')
    .option('--sink <sink>', 'only this sink (its URL as in RELAY_SINKS, or the key /health shows)')
    .option('--json', 'print JSON instead of text')
    .action((options: { sink?: string; json?: boolean }) => {
      setExitCode(showDeadLetters(readSettings(), options));
    });
  relay
    .command('replay')
    .description("publish a sink's events again from a log position (its dead letters from there on are sent again)")
    .requiredOption('--sink <sink>', 'the sink: its URL as in RELAY_SINKS, or the key /health shows')
    .requiredOption('--from <position>', 'the first log position to publish again', positiveInteger)
    .action(async (options: { sink: string; from: number }) => {
      setExitCode(await replaySink(readSettings(), options));
    });
  relay
    .command('start-over')
    .description(`start a sink over on the event log it reads now, once its checkpoint was found to belong to another (state ${LOG_REPLACED}: a store restored from an older backup, or replaced)`)
    .requiredOption('--sink <sink>', 'the sink: its URL as in RELAY_SINKS, or the key /health shows')
    .requiredOption('--at <where>', 'beginning: publish the whole log again; end: publish only what is written from now on', startOverAt)
    .option('--discard-dead-letters', "give up the sink's dead letters (refused while it holds any unless given: export them first with stagecraft relay dead-letters --sink <sink> --json)")
    .action(async (options: { sink: string; at: StartOverAt; discardDeadLetters?: boolean }) => {
      setExitCode(await startOverSink(readSettings(), options));
    });
  relay
    .command('discard')
    .description('give up on one dead letter a subscriber will never take: no replay sends it again (a replay from its position then sends what it held back)')
    .requiredOption('--sink <sink>', 'the sink: its URL as in RELAY_SINKS, or the key /health shows')
    .requiredOption('--position <position>', 'the dead letter\'s log position (stagecraft relay dead-letters lists them)', positiveInteger)
    .action((options: { sink: string; position: number }) => {
      setExitCode(discardDeadLetter(readSettings(), options));
    });

  const processes = program.command('processes').description('process definitions');
  processes
    .command('validate')
    .description('check process YAML files as start-up would, before deploying them')
    .argument('<file...>', 'process definition files (YAML)')
    .action((files: string[]) => {
      setExitCode(validateProcessFiles(files));
    });

  return program;
}

// apps/cli/src in a checkout, dist/apps/cli/src in a build: the repository's package.json is above either.
function packageVersion(): string {
  for (const up of [3, 4]) {
    const file = join(__dirname, ...Array<string>(up).fill('..'), 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}

/** The largest number option: 15 digits, all exact in a double (a log position, a byte offset, fits). */
const LARGEST_NUMBER_OPTION = 999_999_999_999_999;

/** A whole number of 1 or more (commander calls a parser with the option's previous value too: one argument only). */
export function positiveInteger(text: string): number {
  return wholeNumberUpTo(text, LARGEST_NUMBER_OPTION);
}

function wholeNumberUpTo(text: string, largest: number): number {
  // Decimal digits only: Number() reads "0x10" as 16, "1e3" as 1000 and " " as 0.
  if (!/^\d+$/.test(text) || /^0+$/.test(text)) throw new InvalidArgumentError('must be a whole number of 1 or more');
  // A whole number too long is one still: told it must be one, the operator would not see why it was refused.
  const value = text.replace(/^0+/, '').length > 15 ? Infinity : Number(text);
  if (value > largest) throw new InvalidArgumentError(`must be a whole number from 1 to ${largest}`);
  return value;
}

/** relay start-over --at: one of two words, said in full (the choice is what publishing does next). */
export function startOverAt(text: string): StartOverAt {
  if (text !== 'beginning' && text !== 'end') throw new InvalidArgumentError('must be "beginning" (publish the whole log again) or "end" (only what is written from now on)');
  return text;
}

/** --concurrency: side by side, but not without bound (each in flight holds its folded stream). */
export function concurrency(text: string): number {
  return wholeNumberUpTo(text, 256);
}

/** Runs the CLI and answers its exit code; failures are plain messages on stderr, never stack traces. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    // A command that failed half-way may have left its progress bar drawing: stopped before the reason is printed.
    stopProgressBars();
    if (error instanceof CommanderError) {
      // Help and --version end with code 0; every other commander error is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      say(error.message);
      for (const line of error.lines) console.error(printable(line));
      return error.exitCode;
    }
    if (error instanceof SettingsError) {
      say(error.message);
      return EXIT.usage;
    }
    // PROCESSES_DIR naming no usable directory is a bad setting (README: exit 2); a bad file in it stays 1.
    if (error instanceof ProcessDirectoryError) {
      say(error.message);
      return EXIT.usage;
    }
    if (error instanceof ProcessDefinitionError) {
      // One line per field at fault, as the message lays them out; each escaped.
      console.error(`stagecraft: ${error.message.split('\n').map(printable).join('\n')}`);
      return EXIT.failed;
    }
    // A store file that cannot be opened (damaged from its first page, unreadable) is a store that
    // cannot be read, as a damaged page further in is: nothing was checked.
    if (error instanceof EventStoreUnavailableError || error instanceof SQLiteFileError || error instanceof EventStoreFullError) {
      say(error.message);
      return EXIT.unavailable;
    }
    say(error instanceof Error ? error.message : String(error));
    if (process.env.STAGECRAFT_DEBUG) console.error(error);
    return EXIT.failed;
  } finally {
    stopProgressBars();
  }
}

/**
 * A failure's one line on stderr. Its message may quote what the operator typed or a file held (a
 * path, an option's value, a sink's name): escaped as `printable` escapes output, so none of it
 * acts on the terminal or starts a line that reads as the CLI's own.
 */
function say(message: string): void {
  console.error(`stagecraft: ${printable(message)}`);
}

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { readAllPages, type StoredEvent } from '@stagecraft/event-store';
import { describeStoredInstant, UnreadableInstantError } from '@stagecraft/audit';
import { instantIsAfter, isOpportunityEventType, parseInstant, parseLowerBound, storedInstant } from '@stagecraft/opportunity';
import { serviceFileNamedBy, type Settings } from '@stagecraft/config';
import { CliError, EXIT } from '../cli.errors';
import { csvLine } from '@stagecraft/csv';
import { openExistingStore } from '../io/event-store';
import { instantOption } from '../io/instant-option';
import { openOutput } from '../io/output';
import { progressBar } from '../io/progress';

export type ExportFormat = 'jsonl' | 'csv';

export interface ExportOptions {
  readonly format: ExportFormat;
  /** Inclusive bounds on the business time (occurredAt); events without one use recordedAt. */
  readonly from?: string;
  readonly to?: string;
  readonly out?: string;
}

/** Columns of `export --format csv`; `import` reads this layout back. */
export const EVENT_CSV_COLUMNS = ['position', 'recordedAt', 'stream', 'revision', 'id', 'type', 'occurredAt', 'opportunityId', 'actor', 'data', 'metadata'] as const;

const PAGE = 5_000;

/**
 * `stagecraft export`: every event of the log in global order, as stored (id, stream, revision,
 * position, type, data, metadata, recordedAt) — one JSON object per line, or CSV.
 */
export async function exportEvents(settings: Settings, options: ExportOptions): Promise<number> {
  // Both inclusive, in whole milliseconds (the log's): --from the first at or after the instant given.
  const from = bound('--from', options.from, parseLowerBound);
  const to = bound('--to', options.to, parseInstant);
  // By the instants given: --from …00.0005Z is after --to …00.0001Z, though both fall in one millisecond.
  if (options.from !== undefined && options.to !== undefined && instantIsAfter(options.from, options.to)) throw new CliError('--from is after --to.');

  if (options.out !== undefined) {
    const own = serviceFileNamedBy(settings, options.out);
    if (own) throw new CliError(`--out names ${options.out}, which is the service's own file (${own.variable}: ${own.path}); export to a file of its own.`);
    // Checked before the store is read: the file is written beside it as .partial and renamed at the end.
    if (isFolder(options.out)) throw new CliError(`--out names ${options.out}, which is a folder; give the path of a file, e.g. ${join(options.out, 'events.jsonl')}.`);
  }
  const store = openExistingStore(settings);
  const output = openOutput(options.out);
  let written = 0;
  let complete = false;
  try {
    const head = await store.headPosition();
    const progress = progressBar('export', head, 'positions');
    if (options.format === 'csv') await output.write(`${csvLine(EVENT_CSV_COLUMNS)}\r\n`);
    for await (const page of readAllPages(store, { pageSize: PAGE })) {
      const lines: string[] = [];
      for (const event of page) {
        if (inRange(event, from, to)) lines.push(options.format === 'csv' ? `${csvLine(csvRow(event))}\r\n` : `${JSON.stringify(jsonRecord(event))}\n`);
      }
      if (lines.length > 0) await output.write(lines.join(''));
      written += lines.length;
      progress.update(page[page.length - 1]!.position);
    }
    progress.stop();
    await output.close();
    complete = true;
  } finally {
    if (!complete) output.abandon();
    await store.close();
  }
  process.stderr.write(`Exported ${written} event(s)${options.out ? ` to ${options.out}` : ''}.\n`);
  return EXIT.ok;
}

function bound(option: string, text: string | undefined, parse: (text: string) => number | undefined): number | undefined {
  return text === undefined ? undefined : instantOption(option, text, parse);
}

function inRange(event: StoredEvent, from: number | undefined, to: number | undefined): boolean {
  if (from === undefined && to === undefined) return true;
  const at = rangeInstantOf(event);
  return (from === undefined || at >= from) && (to === undefined || at <= to);
}

/**
 * The instant --from/--to place an event by, read as the as-of reads do: ISO text with a zone.
 * Date.parse would place an edited one (5 as 2001, a date alone, a zone-less time as this
 * machine's) at some other instant, and the export would leave it out of its range, or take it in,
 * without a word. Refused instead, naming the event (exit 1): the log was altered.
 */
function rangeInstantOf(event: StoredEvent): number {
  // Every opportunity event carries its business time; process versions have none: their recording time.
  const axis = isOpportunityEventType(event.type) || event.data.occurredAt !== undefined ? 'occurredAt' : 'recordedAt';
  const value = axis === 'occurredAt' ? event.data.occurredAt : event.recordedAt;
  const at = storedInstant(value);
  if (Number.isNaN(at)) {
    const unreadable = new UnreadableInstantError(event.stream, event.revision, event.position, axis, describeStoredInstant(value));
    throw new CliError(`${unreadable.message}: it cannot be placed within --from/--to, so the export stops there (an --out file is not written). \`stagecraft verify --all\` locates what was altered; export without --from/--to writes the log as stored.`, EXIT.failed);
  }
  return at;
}

/** A stored event as one JSONL record; keys in a fixed order so exports of one log are byte-identical. */
export function jsonRecord(event: StoredEvent): Record<string, unknown> {
  return {
    position: event.position,
    recordedAt: event.recordedAt,
    stream: event.stream,
    revision: event.revision,
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
  };
}

function csvRow(event: StoredEvent): unknown[] {
  return [
    event.position,
    event.recordedAt,
    event.stream,
    event.revision,
    event.id,
    event.type,
    event.data.occurredAt,
    event.data.opportunityId,
    event.metadata.actor,
    JSON.stringify(event.data),
    JSON.stringify(event.metadata),
  ];
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // not there yet: it is made
  }
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { buildAsyncApiDocument } from './asyncapi.document';
import { publicEventSchema } from './public-event.schemas';
import { PUBLIC_EVENT_TYPES } from './public-event.types';

const ROOT = join(__dirname, '..', '..', '..');

describe('the AsyncAPI 3 document of the public events', () => {
  it('is valid for the AsyncAPI parser (no error, no warning), with one channel, operation and message per public type', async () => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(buildAsyncApiDocument()));
    const problems = diagnostics.filter((diagnostic) => diagnostic.severity <= DiagnosticSeverity.Warning).map((diagnostic) => `${diagnostic.path.join('.')}: ${diagnostic.message}`);
    expect(problems).toEqual([]);
    expect(document!.version()).toBe('3.0.0');
    expect(document!.channels().all().map((channel) => channel.address()).sort()).toEqual([...PUBLIC_EVENT_TYPES].sort());
    expect(document!.operations().all()).toHaveLength(PUBLIC_EVENT_TYPES.length);
    expect(document!.messages().all().map((message) => message.name()).sort()).toEqual([...PUBLIC_EVENT_TYPES].sort());
  });

  it('publishes exactly the JSON Schema of each type as its message payload', async () => {
    const { document } = await new Parser().parse(JSON.stringify(buildAsyncApiDocument()));
    for (const message of document!.messages().all()) {
      const type = message.name() as (typeof PUBLIC_EVENT_TYPES)[number];
      const payload = message.payload()!.json() as Record<string, unknown>;
      const { ['x-parser-schema-id']: _id, ...rest } = payload;
      expect(JSON.parse(JSON.stringify(rest))).toMatchObject(JSON.parse(JSON.stringify(publicEventSchema(type))));
    }
  });

  // A consumer reads its delivery promise here: told the log's order, it would keep the last
  // stagecraftposition and drop an event of another opportunity that a batch's rounds sent later.
  it('promises the order the relay keeps: per opportunity, not across opportunities, with gaps in the revisions', () => {
    const { description } = buildAsyncApiDocument().info as { description: string };
    expect(description).not.toMatch(/in the order of the log/);
    expect(description).toContain('in order per opportunity (ascending `stagecraftrevision`)');
    expect(description).toContain('events of different opportunities may pass each other');
    // A keyed command that changed nothing is stored (NoChangeRecorded) and not published.
    expect(description).toContain('Revisions may skip numbers');
  });

  it('is the document kept in docs/asyncapi.json (run `npm run docs:asyncapi` after changing the contract)', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'docs', 'asyncapi.json'), 'utf8'))).toEqual(buildAsyncApiDocument());
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PUBLIC_EVENT_SCHEMAS, type JsonSchema } from './public-event.schemas';
import { PUBLIC_EVENT_TYPES, type PublicEventType } from './public-event.types';

// The schemas as they were published, one file per type and version (published/). Consumers
// compiled code and validators against them, so a published version changes only its descriptions:
// docs/asyncapi.json cannot pin that, since `npm run docs:asyncapi` writes it again from the code.
// A new meaning is a new type (`….v2`) with its own file beside the old one (README, "public events").

const PUBLISHED_DIR = join(__dirname, 'published');

function published(): Record<string, JsonSchema> {
  return Object.fromEntries(
    readdirSync(PUBLISHED_DIR)
      .filter((file) => file.endsWith('.schema.json'))
      .map((file) => [file.replace(/\.schema\.json$/, ''), JSON.parse(readFileSync(join(PUBLISHED_DIR, file), 'utf8')) as JsonSchema]),
  );
}

/**
 * How `current` breaks `before`, as paths with the reason; none when a payload valid against
 * `before` is the same payload under `current`, and a payload valid under `current` is valid under
 * `before`. Descriptions may be reworded. Anything else breaks it: a field renamed, dropped, retyped,
 * made optional or required, an enum or a pattern changed, and a field added where `before` admits
 * no other (`additionalProperties: false`, as every published object does): a consumer validating
 * with the published schema would refuse the payloads that carry it, optional or not.
 */
export function incompatibilities(before: JsonSchema, current: JsonSchema, path = ''): string[] {
  const problems: string[] = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(current)].filter((key) => key !== 'description' && key !== 'properties' && key !== 'required'));
  for (const key of keys) {
    if (JSON.stringify(before[key]) !== JSON.stringify(current[key])) problems.push(`${path || '/'}: ${key} was ${JSON.stringify(before[key])}, is ${JSON.stringify(current[key])}`);
  }
  const required = { before: [...((before.required as string[] | undefined) ?? [])].sort(), current: [...((current.required as string[] | undefined) ?? [])].sort() };
  if (JSON.stringify(required.before) !== JSON.stringify(required.current)) problems.push(`${path || '/'}: required was ${JSON.stringify(required.before)}, is ${JSON.stringify(required.current)}`);
  const properties = { before: (before.properties ?? {}) as Record<string, JsonSchema>, current: (current.properties ?? {}) as Record<string, JsonSchema> };
  for (const [name, schema] of Object.entries(properties.before)) {
    const now = properties.current[name];
    if (now === undefined) problems.push(`${path}/${name}: removed`);
    else problems.push(...incompatibilities(schema, now, `${path}/${name}`));
  }
  if (before.additionalProperties === false) {
    for (const name of Object.keys(properties.current)) {
      if (!(name in properties.before)) problems.push(`${path}/${name}: added, where the published schema admits no other field`);
    }
  }
  return problems;
}

describe('the published public event schemas', () => {
  it('are on file for every type the mapping publishes, and no published type was dropped', () => {
    expect(Object.keys(published()).sort()).toEqual([...PUBLIC_EVENT_TYPES].sort());
  });

  it.each(PUBLIC_EVENT_TYPES.map((type) => [type]))('%s is still what was published, but for its descriptions', (type: PublicEventType) => {
    const before = published()[type];
    expect(before).toBeDefined();
    expect(incompatibilities(before!, PUBLIC_EVENT_SCHEMAS[type])).toEqual([]);
  });

  describe('the compatibility rule', () => {
    const lost = PUBLIC_EVENT_SCHEMAS['stagecraft.opportunity.lost.v1'];
    const data = lost.properties as { data: { properties: Record<string, JsonSchema>; required: string[] } };
    const withData = (change: (dataSchema: { properties: Record<string, JsonSchema>; required: string[] }) => object) => ({
      ...lost,
      properties: { ...(lost.properties as object), data: { ...data.data, ...change(data.data) } },
    });

    it('lets a description be reworded', () => {
      const reworded = withData((schema) => ({ description: 'other words', properties: { ...schema.properties, lostReason: { ...schema.properties.lostReason, description: 'why' } } }));
      expect(incompatibilities(lost, reworded)).toEqual([]);
    });

    it('catches a field added, even optional: the published schema admits no other, so consumers validating with it would refuse it', () => {
      const withCompetitor = withData((schema) => ({ properties: { ...schema.properties, competitor: { type: 'string' } } }));
      expect(incompatibilities(lost, withCompetitor)).toEqual(['/data/competitor: added, where the published schema admits no other field']);
    });

    it('catches a renamed, dropped, retyped or newly required field and a changed enum', () => {
      const { lostReason, ...withoutReason } = data.data.properties;
      expect(incompatibilities(lost, withData(() => ({ properties: { ...withoutReason, reason: lostReason }, required: data.data.required.map((field) => (field === 'lostReason' ? 'reason' : field)) })))).toEqual([
        "/data: required was [\"actor\",\"lostReason\",\"occurredAt\",\"opportunityId\",\"outcome\",\"processId\",\"processVersion\",\"stage\",\"title\"], is [\"actor\",\"occurredAt\",\"opportunityId\",\"outcome\",\"processId\",\"processVersion\",\"reason\",\"stage\",\"title\"]",
        '/data/lostReason: removed',
        '/data/reason: added, where the published schema admits no other field',
      ]);
      expect(incompatibilities(lost, withData((schema) => ({ properties: { ...schema.properties, amount: { type: 'string' } } })))).toEqual(['/data/amount: type was "number", is "string"']);
      expect(incompatibilities(lost, withData((schema) => ({ required: [...schema.required, 'teamId'] })))).toHaveLength(1);
      expect(incompatibilities(lost, withData((schema) => ({ properties: { ...schema.properties, outcome: { type: 'string', const: 'closed' } } })))).toEqual(['/data/outcome: const was "lost", is "closed"']);
    });
  });
});

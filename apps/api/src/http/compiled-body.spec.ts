import 'reflect-metadata';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { ValidationPipe } from '@nestjs/common';
import { IsString, Length, ValidateIf } from 'class-validator';
import fc from 'fast-check';
import {
  ChangeOpportunityDetailsDto,
  LoseOpportunityDto,
  MigrateOpportunityDto,
  MoveOpportunityDto,
  OpenOpportunityDto,
  ReopenOpportunityDto,
  SetCriterionDto,
  WinOpportunityDto,
  WinWithReasonDto,
} from '../opportunities/opportunity.dto';
import { acceptedAs, compileBodyCheck } from './compiled-body';
import { dtoJsonSchema } from './dto-json-schema';
import type { FieldError } from '@stagecraft/contracts';
import { ApiProblem, problemBody, validationProblem } from './problem';
import { createValidationPipe, inheritedNameErrors, VALIDATION_OPTIONS } from './validation';

// The compiled schema of a command body may only ever accept what class-validator accepts, and
// the pipe must then hand the handler the same fields; whatever it does not accept, the answer
// (the problem, its errors in order, their words) must be class-validator's. Checked here on a
// corpus of well-formed and malformed bodies and on random ones (the fuzz suite's kinds of values
// plus near-misses of each field's rule). What the API adds: a body that is not an object is refused
// as such, and fields named like inherited properties, which class-transformer skips, as unknown
// (withInheritedNames).

const FAST_CHECK = { numRuns: Number(process.env.COMPILED_BODY_RUNS ?? 600) } as const;

const DTOS = [OpenOpportunityDto, SetCriterionDto, MoveOpportunityDto, WinOpportunityDto, WinWithReasonDto, LoseOpportunityDto, ReopenOpportunityDto, ChangeOpportunityDetailsDto, MigrateOpportunityDto] as const;
type Dto = (typeof DTOS)[number];

const classValidator = new ValidationPipe(VALIDATION_OPTIONS);
const apiPipe = createValidationPipe();
const checks = new Map<Dto, (body: unknown) => boolean>(DTOS.map((dto) => [dto, compileBodyCheck(dtoJsonSchema(dto))]));

type Outcome = { readonly ok: true; readonly fields: Record<string, unknown> } | { readonly ok: false; readonly problem: unknown };

// The DTO instance class-validator returns has every declared field, undefined when not sent
// (class fields); the accepted body has only those sent. Handlers read fields and never ask which
// are present, so the two are compared field by field, undefined and absent alike.
const definedFields = (value: unknown) => Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, field]) => field !== undefined));

async function outcomeOf(run: () => unknown): Promise<Outcome> {
  try {
    return { ok: true, fields: definedFields(await run()) };
  } catch (error) {
    if (!(error instanceof ApiProblem)) throw error;
    return { ok: false, problem: problemBody(error, '/opportunities') };
  }
}

/** What class-validator alone makes of a body, and what the API's path (compiled check, then the pipe) makes of it. */
async function bothPaths(dto: Dto, body: unknown): Promise<{ classValidator: Outcome; compiled: Outcome; fastPath: boolean }> {
  const metadata = { type: 'body' as const, metatype: dto, data: '' };
  const mine = structuredClone(body);
  const fastPath = checks.get(dto)!(mine);
  return {
    classValidator: withInheritedNames(await outcomeOf(() => classValidator.transform(structuredClone(body), metadata)), body),
    compiled: await outcomeOf(() => apiPipe.transform(mine, metadata)),
    fastPath,
  };
}

/**
 * What the API adds to class-validator's answer (validation.ts): a body that is not an object is
 * refused as such, and a field named like an inherited property (class-transformer skips those) is
 * an unknown field too, listed after class-validator's.
 */
function withInheritedNames(outcome: Outcome, body: unknown): Outcome {
  if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) {
    const kind = Array.isArray(body) ? 'a list' : body === null ? 'null' : `a ${typeof body}`;
    return { ok: false, problem: problemBody(validationProblem([{ field: '(body)', message: `the body must be a JSON object, not ${kind}` }]), '/opportunities') };
  }
  const inherited = inheritedNameErrors(body);
  if (inherited.length === 0) return outcome;
  const errors = outcome.ok ? [] : ((outcome.problem as { errors?: FieldError[] }).errors ?? []);
  return { ok: false, problem: problemBody(validationProblem([...errors, ...inherited]), '/opportunities') };
}

const UUID = '4f1c2b8e-6a0d-4c3e-9b7a-2d5e8f1a3c6b';
/** Values near each field's rule, on both sides of it. */
const NEAR: Record<string, readonly unknown[]> = {
  id: [UUID, UUID.toUpperCase(), `urn:uuid:${UUID}`, '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '4f1c2b8e-6a0d-9c3e-9b7a-2d5e8f1a3c6b', '4f1c2b8e6a0d4c3e9b7a2d5e8f1a3c6b', ''],
  title: ['ACME renewal', 'x'.repeat(200), 'x'.repeat(201), '', ' ', '😀'.repeat(200), '😀'.repeat(201), '❤\uFE0F', '\uFE0F', 'a\uFE0F'.repeat(150), '\ud800', 'x\u0000y'],
  processId: ['standard', 'a', 'a'.repeat(64), 'a'.repeat(65), '-x', 'x y', 'ümlaut', 'a.b_c:d@e-f', '', 'standard\n'],
  teamId: ['direct', 'a'.repeat(100), 'a'.repeat(101), '_x', 'x/y', 'x\n'],
  ownerId: ['ana', 'ana@example', '@ana', 'a'.repeat(101)],
  amount: [0, 1000, 12.3456, 12.34567, -1, 1e15, 1e15 + 1, 1e16, 0.1 + 0.2, Number.MAX_SAFE_INTEGER + 2, '1000', -0],
  currency: ['EUR', 'eur', 'EURO', 'EU', '', 'ÉUR', 'EUR\n'],
  occurredAt: ['2026-03-01T09:30:00Z', '2026-03-01T09:30:00.123+02:00', '2026-02-30T10:00:00Z', '2026-03-31T24:00:00Z', '2026-03-31', '2026-03-01T09:30:00', '2024-02-29T00:00:00Z', '2026-03-01T09:30Z', 20260301],
  commandId: ['cmd-1', 'x'.repeat(200), 'x'.repeat(201), '', '\uFE0F'],
  expectedRevision: [0, 3, -1, 1.5, 1e300, '3', Number.MAX_SAFE_INTEGER + 2],
  criterionId: ['budget-confirmed', 'a'.repeat(64), 'a'.repeat(65), ''],
  met: [true, false, 'true', 0, 1],
  note: ['Budget confirmed', 'x'.repeat(2000), 'x'.repeat(2001), '', 'ok\uFE0F'],
  nextSteps: ['Kick-off call on Monday', 'x'.repeat(2000), 'x'.repeat(2001), '', '\uFE0F', 42],
  stage: ['qualification', 'new', 'a'.repeat(64), 'a'.repeat(65), ''],
  reason: ['competitor', '', 'a'.repeat(65)],
  expectedCloseDate: ['2026-06-30', '2024-02-29', null, '2026-02-30', '2025-02-29', '2026-13-01', '2026-6-30', '2026-06-30T00:00:00Z', '', 20260630],
  toVersion: ['2', 'v2', ''],
  stageMapping: [{ qualification: 'discovery' }, {}, { Qualification: 'discovery' }, { a: 1 }, [], { a: 'b', c: 'd' }, Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`s${i}`, 'x']))],
};

/** The fuzz suite's kinds of values: text of every sort, numbers at the edges, nesting, null. */
const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('', ' ', 'standard', 'new', '__proto__', 'constructor', '0', '-1', 'NaN', 'null', '\u0000', '\ud800', '😀', '\uFE0F', "'; DROP TABLE events; --"),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.nat({ max: 2500 }).map((n) => 'x'.repeat(n)),
);
const number = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, 1e-7, 1e15, 1e16, 1e300, 0.1 + 0.2, Number.MAX_SAFE_INTEGER + 2));
const leaf = fc.oneof(text, number, fc.boolean(), fc.constant(null));
const anyValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(text, tie('value'), { maxKeys: 3 })),
})).value;

function fieldsOf(dto: Dto): string[] {
  return Object.keys((dtoJsonSchema(dto).schema as { properties: Record<string, unknown> }).properties);
}

function bodyFor(dto: Dto): fc.Arbitrary<unknown> {
  const fields = fieldsOf(dto);
  const valueFor = (field: string) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...(NEAR[field] ?? [null])) }, { weight: 1, arbitrary: anyValue });
  const known = fc.record(Object.fromEntries(fields.map((field) => [field, valueFor(field)])), { requiredKeys: [] });
  return fc.oneof(
    { weight: 8, arbitrary: known },
    { weight: 1, arbitrary: fc.tuple(known, fc.dictionary(text, anyValue, { minKeys: 1, maxKeys: 2 })).map(([a, b]) => ({ ...b, ...a })) },
    { weight: 1, arbitrary: anyValue },
  );
}

/** A body class-validator accepts, from the first value of each field's list (all of which pass). */
function wellFormed(dto: Dto): Record<string, unknown> {
  return Object.fromEntries(fieldsOf(dto).map((field) => [field, NEAR[field]![0]]));
}

describe('the compiled body schemas of the command routes (generated from the DTOs)', () => {
  it.each(DTOS.map((dto) => [dto.name, dto] as const))('%s: a body with every field well-formed takes the compiled path, with the fields class-validator gives', async (_name, dto) => {
    const body = wellFormed(dto);
    const { classValidator: expected, compiled, fastPath } = await bothPaths(dto, body);
    expect(expected.ok).toBe(true);
    expect(fastPath).toBe(true);
    expect(compiled).toStrictEqual(expected);
  });

  it('the bodies the benchmark sends and the smallest ones take the compiled path', () => {
    const bodies: [Dto, unknown][] = [
      [SetCriterionDto, { criterionId: 'goals', met: true }],
      [MoveOpportunityDto, { stage: 'qualification' }],
      [OpenOpportunityDto, { title: 'Bench deal', processId: 'standard', amount: 1000 }],
      [WinOpportunityDto, {}],
    ];
    for (const [dto, body] of bodies) {
      const copy = structuredClone(body);
      expect(checks.get(dto)!(copy)).toBe(true);
      expect(acceptedAs(copy)).toBe(dto);
    }
  });

  it('a body accepted as one DTO is not waved through as another', async () => {
    const body = { stage: 'qualification' };
    expect(checks.get(MoveOpportunityDto)!(body)).toBe(true);
    // LoseOpportunityDto requires a reason and has no stage: class-validator must still judge it.
    const outcome = await outcomeOf(() => apiPipe.transform(body, { type: 'body', metatype: LoseOpportunityDto, data: '' }));
    expect(outcome.ok).toBe(false);
  });

  it.each(DTOS.map((dto) => [dto.name, dto] as const))('%s: each field near its rule, one at a time, gives what class-validator gives', async (_name, dto) => {
    const base = wellFormed(dto);
    let compiledPaths = 0;
    for (const field of fieldsOf(dto)) {
      for (const value of [...NEAR[field]!, null, undefined, {}, [], 1, 'x', true]) {
        const { classValidator: expected, compiled, fastPath } = await bothPaths(dto, { ...base, [field]: value });
        expect({ field, value, outcome: compiled }).toStrictEqual({ field, value, outcome: expected });
        if (fastPath) {
          compiledPaths += 1;
          expect(expected.ok).toBe(true);
        }
      }
    }
    expect(compiledPaths).toBeGreaterThan(0);
  });

  it('bodies that are not objects, or carry unknown or inherited-looking fields, give what class-validator gives', async () => {
    const odd: unknown[] = [null, undefined, [], [{}], 'text', 0, true, { constructor: 'x' }, { toString: 'x' }, { hasOwnProperty: 1 }, { extra: 1 }, { stage: 'new', extra: null }];
    for (const dto of DTOS) {
      for (const body of odd) {
        const { classValidator: expected, compiled } = await bothPaths(dto, body);
        expect({ dto: dto.name, body, outcome: compiled }).toStrictEqual({ dto: dto.name, body, outcome: expected });
      }
    }
  });

  it.each(DTOS.map((dto) => [dto.name, dto] as const))('%s: random bodies give what class-validator gives', async (_name, dto) => {
    await assertProperty(
      fc.asyncProperty(bodyFor(dto), async (body) => {
        const { classValidator: expected, compiled, fastPath } = await bothPaths(dto, body);
        expect(compiled).toStrictEqual(expected);
        if (fastPath) expect(expected.ok).toBe(true);
      }),
      FAST_CHECK,
    );
  });

  it('a length JSON Schema counts differently from class-validator (a character and its variation selector) never passes what class-validator refuses', async () => {
    class Code {
      @IsString()
      @Length(3, 10)
      code!: string;
    }
    const check = compileBodyCheck(dtoJsonSchema(Code));
    // validator.js counts "a\uFE0F" as one character, so this is 2 long for class-validator and 3 code points for JSON Schema.
    for (const code of ['a\uFE0Fb', 'abc', 'ab']) {
      const body = { code };
      const verdict = await outcomeOf(() => classValidator.transform({ ...body }, { type: 'body', metatype: Code, data: '' }));
      if (check(body)) expect(verdict.ok).toBe(true);
    }
    expect(check({ code: 'abc' })).toBe(true);
  });

  it('a decorator the generator does not know is refused when the schema is made, not ignored', () => {
    class Nested {
      value?: string;
    }
    // A conditional rule other than @IsOptional cannot be said in the schema.
    ValidateIf(() => true)(Nested.prototype, 'value');
    IsString()(Nested.prototype, 'value');
    expect(() => dtoJsonSchema(Nested)).toThrow(/conditionalValidation/);
  });
});

import 'reflect-metadata';
import type { FieldError } from '@stagecraft/contracts';
import { COMMAND_FIELDS, commandFieldFault, type OpportunityCommand } from '@stagecraft/opportunity';
import { getMetadataStorage } from 'class-validator';
import { ApiProblem } from '../http/problem';
import { createValidationPipe } from '../http/validation';
import {
  ChangeOpportunityDetailsDto,
  LoseOpportunityDto,
  MigrateOpportunityDto,
  MigrateProcessDto,
  MoveOpportunityDto,
  OpenOpportunityDto,
  ReopenOpportunityDto,
  SetCriterionDto,
  WinWithReasonDto,
} from './opportunity.dto';

// The import (apps/cli) replays commands without these DTOs: it checks the domain's table of
// command fields (libs/opportunity/src/command-fields.ts). Each DTO field is walked here, and for
// every value of a wide set, the DTO and the table must give the same verdict: a field added to a
// DTO without a rule in the table, or a rule changed on one side only, fails this test.

type CommandType = OpportunityCommand['type'];
type Dto = abstract new () => object;

/** The command(s) each body becomes (SetCriterionDto: met true or false). */
const DTO_COMMANDS: readonly (readonly [Dto, readonly CommandType[]])[] = [
  [OpenOpportunityDto, ['OpenOpportunity']],
  [SetCriterionDto, ['MeetExitCriterion', 'RevokeExitCriterion']],
  [MoveOpportunityDto, ['MoveOpportunityToStage']],
  [WinWithReasonDto, ['WinOpportunity']],
  [LoseOpportunityDto, ['LoseOpportunity']],
  [ReopenOpportunityDto, ['ReopenOpportunity']],
  [ChangeOpportunityDetailsDto, ['ChangeOpportunityDetails']],
  [MigrateOpportunityDto, ['MigrateOpportunity']],
  [MigrateProcessDto, ['MigrateOpportunity']],
];

/** Body fields that are not fields of the command: the envelope's, the route's, or which opportunities. */
const NOT_COMMAND_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '*': ['commandId', 'expectedRevision'],
  OpenOpportunityDto: ['id'], // the opportunity id: a UUID (the import checks its stream's id so)
  SetCriterionDto: ['met'], // which command: MeetExitCriterion or RevokeExitCriterion
  MigrateProcessDto: ['fromVersion'], // which opportunities are migrated
};

/** A body each DTO accepts, to which one field at a time is set. */
const VALID: Readonly<Record<string, unknown>> = { title: 'Deal', processId: 'standard', criterionId: 'budget', met: true, stage: 'qualification', reason: 'price', toVersion: 'v2', fromVersion: 'v1' };

const dtoFields = (dto: Dto): string[] => [...new Set(getMetadataStorage().getTargetValidationMetadatas(dto, '', false, false, undefined).map((rule) => rule.propertyName))];

/** The length bounds a DTO's Length rules name: each bound, and one past each. */
const lengthSamples = (dto: Dto): string[] =>
  getMetadataStorage()
    .getTargetValidationMetadatas(dto, '', false, false, undefined)
    .filter((rule) => rule.name === 'isLength')
    .flatMap((rule) => (rule.constraints as number[]).flatMap((bound) => [bound - 1, bound, bound + 1]))
    .filter((length) => length >= 0)
    .flatMap((length) => ['x'.repeat(length), '🚀'.repeat(length), ' '.repeat(length)]);

const SAMPLES: readonly unknown[] = [
  undefined, null, true, false, 0, 1, 12345, -1, 1.5, 1.23456, 1e16, NaN, {}, { a: 1 }, [], ['x'],
  '', ' ', '\t', '\u200b', '\u0085', '\u3164\u2800', 'x', 'Deal', 'standard', 'EUR', 'eur', 'EURO', 'E1R', 'ana', 'ana b', '-ana', 'ana@example.com', 'EMEA/north', '🚀',
  'lead', 'qualification', 'v2', '2026-06-30', '2026-02-30', '30/06/2026', '2026-01-02T09:00:00Z', '2026-01-02T09:00:00', '2026-13-01T00:00:00Z',
  { lead: 'qualification' }, { lead: 'Bad Stage' }, { lead: 1 }, { Lead: 'qualification' }, { valueOf: 'zzz' },
  Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`s${i}`, 'lead'])),
];

async function dtoRefuses(dto: Dto, body: Record<string, unknown>, field: string): Promise<boolean> {
  try {
    await createValidationPipe().transform(body, { type: 'body', metatype: dto as unknown as new () => object });
    return false;
  } catch (error) {
    if (!(error instanceof ApiProblem) || error.code !== 'REQUEST.VALIDATION_FAILED') throw error;
    return (error.extensions['errors'] as FieldError[]).some((found) => found.field === field);
  }
}

describe('the command fields: the API DTOs and the table the import checks agree, field by field', () => {
  it.each(DTO_COMMANDS.map(([dto, types]) => [dto.name, dto, types] as const))('%s: every body field is a command field with a rule', (name, dto, types) => {
    const skipped = [...NOT_COMMAND_FIELDS['*']!, ...(NOT_COMMAND_FIELDS[name] ?? [])];
    for (const type of types) {
      const ruled = Object.keys(COMMAND_FIELDS[type]);
      expect(dtoFields(dto).filter((field) => !skipped.includes(field)).sort()).toEqual(ruled.sort());
    }
  });

  it.each(DTO_COMMANDS.map(([dto, types]) => [dto.name, dto, types] as const))('%s: a value the DTO refuses the table refuses, and only such a value', async (name, dto, types) => {
    const skipped = [...NOT_COMMAND_FIELDS['*']!, ...(NOT_COMMAND_FIELDS[name] ?? [])];
    const samples = [...SAMPLES, ...lengthSamples(dto)];
    const fields = dtoFields(dto).filter((field) => !skipped.includes(field));
    const base = Object.fromEntries(Object.entries(VALID).filter(([field]) => dtoFields(dto).includes(field)));
    const disagreements: string[] = [];
    for (const field of fields) {
      for (const sample of samples) {
        const body: Record<string, unknown> = { ...base };
        if (sample === undefined) delete body[field];
        else body[field] = sample;
        const api = await dtoRefuses(dto, body, field);
        for (const type of types) {
          const command = { type, opportunityId: 'o', now: '2026-06-01T00:00:00Z', ...body };
          const table = commandFieldFault(command)?.field === field;
          if (api !== table) disagreements.push(`${type}.${field} = ${JSON.stringify(sample)?.slice(0, 40)}: the DTO ${api ? 'refuses' : 'accepts'} it, the table ${table ? 'refuses' : 'accepts'} it`);
        }
      }
    }
    expect(disagreements).toEqual([]);
  });
});

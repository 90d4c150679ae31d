import { lint } from '../support/lint';

const violations = `import { Injectable } from '@nestjs/common';
import { readFileSync } from 'node:fs';
export const now = () => Date.now();
export const today = () => new Date();
export const id = () => Math.random();
export const env = () => process.env.HOME;
export const used = [Injectable, readFileSync];
`;

describe('the domain purity lint rule', () => {
  it.each(['libs/opportunity/src/probe.ts', 'libs/sales-process/src/probe.ts', 'libs/audit/src/probe.ts'])('refuses framework, I/O, clock, randomness and environment in %s', (path) => {
    const { exitCode, output } = lint(path, violations);
    expect(exitCode).toBe(1);
    expect(output).toContain('Domain libraries do not depend on NestJS');
    expect(output).toContain('Domain libraries do no I/O');
    expect(output.match(/The domain never reads the clock/g)).toHaveLength(2);
    expect(output).toContain('The domain makes no randomness');
    expect(output).toContain('The domain reads no environment');
  });

  it('allows a date built from a given time, and leaves apps free to use Nest', () => {
    expect(lint('libs/opportunity/src/probe.ts', 'export const at = (iso: string) => new Date(iso);\n').exitCode).toBe(0);
    expect(lint('apps/api/src/probe.ts', violations).exitCode).toBe(0);
  });
});

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHIPPED_PROCESSES } from './api-test-app';

/**
 * The shipped standard process's next version, as the version tests write it: the team drops
 * "pain points" from Qualification's expected results (four criteria there instead of five).
 */
export const withoutPainPoints = (yaml: string): string => yaml.replace(/^\s+- \{ id: pain-points,.*\n/m, '');

/** The shipped standard process file's text. */
export const standardYaml = (): string => readFileSync(join(SHIPPED_PROCESSES, 'standard.yaml'), 'utf8');

/**
 * Two processes folders under `parent` for a rolling deploy: `<name>-old` holding the shipped
 * standard process, `<name>-new` its next version (withoutPainPoints).
 */
export function oldAndNewProcessDirs(parent: string, name: string): { oldDir: string; newDir: string } {
  const oldDir = join(parent, `${name}-old`);
  const newDir = join(parent, `${name}-new`);
  mkdirSync(oldDir);
  mkdirSync(newDir);
  writeFileSync(join(oldDir, 'standard.yaml'), standardYaml());
  writeFileSync(join(newDir, 'standard.yaml'), withoutPainPoints(standardYaml()));
  return { oldDir, newDir };
}

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { lint, ROOT } from '../support/lint';

// Apps are thin adapters over libs: no app imports another app, no lib imports an app, and no
// library but a thin *.module.ts depends on NestJS. The lint rules (eslint.config.mjs) say so;
// these specs prove they bite, and read the real tree besides.

const used = 'export const used = [x];\n';

describe('the layering lint rules', () => {
  it.each([
    ['apps/cli/src/probe.ts', "import { x } from '../../api/src/opportunities/opportunity.queries';", 'apps/cli imports apps/api'],
    ['apps/cli/src/commands/probe.ts', "import { x } from '../../../projector/src/main';", 'apps/cli imports apps/projector'],
    ['apps/projector/src/probe.ts', "export { x } from '../../api/src/http/problem';", 'apps/projector imports apps/api'],
    ['apps/board/src/probe.ts', "import { x } from '../../api/src/http/problem';", 'apps/board imports apps/api'],
  ])('refuses an app importing another app: %s', (path, source, message) => {
    const { exitCode, output } = lint(path, `${source}\n${path.includes('projector') ? '' : used}`);
    expect(exitCode).toBe(1);
    expect(output).toContain(message);
  });

  it('refuses a library importing an app (an HTTP problem thrown below the edge)', () => {
    const { exitCode, output } = lint('libs/commands/src/probe.ts', `import { ApiProblem as x } from '../../../apps/api/src/http/problem';\n${used}`);
    expect(exitCode).toBe(1);
    expect(output).toContain('A library imports apps/api');
  });

  it.each(['libs/commands/src/probe.ts', 'libs/projections/src/probe.ts', 'libs/event-store/src/probe.ts', 'libs/contracts/src/probe.ts'])('refuses NestJS and Fastify in %s', (path) => {
    const { exitCode, output } = lint(path, `import { Injectable as x } from '@nestjs/common';\nimport type { FastifyRequest } from 'fastify';\nexport type R = FastifyRequest;\n${used}`);
    expect(exitCode).toBe(1);
    expect(output.match(/Libraries do not depend on NestJS or Fastify/g)).toHaveLength(2);
  });

  it('allows an app its own files and the libraries, and a thin *.module.ts its Nest', () => {
    expect(lint('apps/cli/src/probe.ts', `import { x } from './commands/import.command';\nimport { y } from '@stagecraft/commands';\nexport const used = [x, y];\n`).exitCode).toBe(0);
    expect(lint('libs/projections/src/probe.module.ts', `import { Module as x } from '@nestjs/common';\n${used}`).exitCode).toBe(0);
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the tree as it is', () => {
  const libs = filesUnder(join(ROOT, 'libs')).filter((path) => !/\.(spec|int-spec)\.ts$/.test(path));

  it('has no HTTP problem type and no NestJS in any library file but a thin *.module.ts', () => {
    const offenders = libs
      .filter((path) => !path.endsWith('.module.ts'))
      .filter((path) => /\bApiProblem\b|from '@nestjs\//.test(readFileSync(path, 'utf8')))
      .map((path) => relative(ROOT, path));
    expect(offenders).toEqual([]);
  });

  it('has no relative import from one app into another', () => {
    const apps = readdirSync(join(ROOT, 'apps'));
    const offenders = apps.flatMap((app) =>
      filesUnder(join(ROOT, 'apps', app)).filter((path) => {
        // Resolved, so an app's own folder named like another app (apps/api/src/relay) is not one.
        const imports = [...readFileSync(path, 'utf8').matchAll(/from '(\.{1,2}\/[^']*)'/g)].map((match) => relative(join(ROOT, 'apps'), resolve(dirname(path), match[1]!)));
        return imports.some((target) => apps.some((other) => other !== app && target.startsWith(`${other}/`)));
      }),
    );
    expect(offenders.map((path) => relative(ROOT, path))).toEqual([]);
  });
});

import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const SOURCE = join(__dirname, 'src');

/**
 * Bundles the board (plain TypeScript + Chart.js) into `outDir`: index.html, board.js, board.css.
 * `npm run build` writes dist/board, which the API serves at /board; the end-to-end tests build
 * into a temporary folder the same way, so they test what `npm start` serves.
 */
export async function buildBoard(outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(SOURCE, 'main.ts')],
    outfile: join(outDir, 'board.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
    // The browser code is type-checked by `npm run typecheck` (apps/board/tsconfig.json).
    tsconfigRaw: { compilerOptions: { target: 'es2022', useDefineForClassFields: true } },
  });
  copyFileSync(join(SOURCE, 'index.html'), join(outDir, 'index.html'));
  copyFileSync(join(SOURCE, 'board.css'), join(outDir, 'board.css'));
}

if (require.main === module) {
  const outDir = resolve(process.argv[2] ?? 'dist/board');
  buildBoard(outDir).then(
    () => console.log(`Board built in ${outDir}`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

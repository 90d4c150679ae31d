// Entry of the `stagecraft` CLI (bin/stagecraft.js loads it): `npx stagecraft --help`.
import { runCli } from './cli.program';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    console.error(`stagecraft: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);

// Entry of the `stagecraft` CLI (bin/stagecraft.js loads it): `npx stagecraft --help`.
import { runCli } from './cli.program';

// console.log drops a write to stdout that fails (a full disk, a file closed under it): a command
// would then exit 0 with its output (a head to keep, a verdict) lost. A reader that stopped
// reading (`| head`) is no failure of the command.
let outputFailure: Error | undefined;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') outputFailure ??= error;
});

runCli(process.argv.slice(2)).then(
  async (code) => {
    // A write that failed near the end reports its error a turn of the event loop later.
    await new Promise((resolve) => setImmediate(resolve));
    if (outputFailure) {
      console.error(`stagecraft: the output could not be written (${outputFailure.message})`);
      process.exit(code === 0 ? 1 : code);
    }
    process.exit(code);
  },
  (error: unknown) => {
    console.error(`stagecraft: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
